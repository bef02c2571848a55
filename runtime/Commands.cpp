//===- Commands.cpp - info, infer and bench of a generated program --------===//

#include "Program.h"

#include "Comm.h"
#include "Datasets.h"
#include "Distributed.h"
#include "Error.h"
#include "Image.h"
#include "Npy.h"
#include "OutputFile.h"
#include "SafeTensors.h"
#include "ThreadPool.h"
#include "Train.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <variant>

namespace netc::rt {

namespace {

void printInfo(const ModelSpec &spec, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["model"] = spec.name;
    j["source"] = spec.source;
    j["target"] = spec.target;
    auto list = [](const std::vector<TensorSpec> &tensors) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (const TensorSpec &t : tensors) {
        a.push_back({{"name", t.name}, {"shape", t.shape}, {"dtype", "F32"}});
        if (t.unused)
          a.back()["unused"] = true;
      }
      return a;
    };
    j["inputs"] = list(spec.inputs);
    j["outputs"] = list(spec.outputs);
    j["dropped_outputs"] = spec.droppedOutputs;
    j["params"] = list(spec.params);
    if (spec.trainStep) {
      const TrainSettings &t = spec.train;
      j["train"] = {{"optimizer", t.optimizer},
                    {"lr", t.lr},
                    {"schedule", t.schedule},
                    {"batch", t.batch},
                    {"epochs", t.epochs},
                    {"seed", t.seed},
                    {"loss_terms", spec.lossWeights.size()}};
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  int64_t total = 0;
  for (const TensorSpec &p : spec.params)
    total += elementCount(p.shape);
  std::cout << "Model:   " << spec.name << " (compiled from " << spec.source
            << ")\nTarget:  " << spec.target << "\n";
  for (const TensorSpec &t : spec.inputs)
    std::cout << "Input:   " << t.name << " " << shapeText(t.shape)
              << " per sample, f32\n";
  for (const TensorSpec &t : spec.outputs)
    std::cout << "Output:  " << t.name << " " << shapeText(t.shape)
              << " per sample, f32\n";
  for (const std::string &name : spec.droppedOutputs)
    std::cout << "Dropped: " << name
              << " (a training-only head; its weights are optional)\n";
  if (spec.trainStep) {
    const TrainSettings &t = spec.train;
    std::cout << "Train:   " << t.optimizer << " lr " << t.lr << ", "
              << t.schedule << " schedule, batch " << t.batch << ", "
              << t.epochs << " epochs, seed " << t.seed << " ('" << spec.name
              << " train --help' for the flags)\n";
  }
  std::cout << "Weights: " << spec.params.size() << " tensors, " << total
            << " values, safetensors F32 with these names:\n";
  for (const TensorSpec &p : spec.params)
    std::cout << "  " << p.name << " " << shapeText(p.shape)
              << (p.unused ? " (unused)" : "") << "\n";
}

/// Splits "NAME=PATH" (or a bare PATH for the only tensor).
std::map<std::string, std::string>
namedPaths(const std::vector<std::string> &values,
           const std::vector<TensorSpec> &tensors, const char *flag) {
  std::map<std::string, std::string> paths;
  for (const std::string &value : values) {
    size_t eq = value.find('=');
    std::string name, path = value;
    if (eq != std::string::npos) {
      name = value.substr(0, eq);
      path = value.substr(eq + 1);
      bool known = false;
      for (const TensorSpec &t : tensors)
        known |= t.name == name;
      if (!known)
        throw Error(std::string(flag) + ": the model has no tensor '" + name +
                    "'");
    } else {
      name = tensors.front().name;
    }
    if (!paths.emplace(name, path).second)
      throw Error(std::string(flag) + ": '" + name + "' is given twice (" +
                  paths[name] + " and " + path + ")");
  }
  return paths;
}

bool isImage(const std::string &path) {
  std::string ext = path.substr(path.find_last_of('.') + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  for (const char *known : {"png", "ppm", "pgm", "pnm", "jpg", "jpeg", "bmp"})
    if (ext == known)
      return true;
  return false;
}

/// Prints the `top` most likely classes of each sample of the first
/// output, by softmax of the scores (of negated distances for rbf).
void printTop(const ModelSpec &spec, const Buffer &scores, int64_t batch,
              int top) {
  int64_t classes = elementCount(spec.outputs[0].shape);
  for (int64_t n = 0; n < batch; ++n) {
    const float *s = scores.data() + n * classes;
    std::vector<double> p(classes);
    double peak = -1e300, total = 0;
    for (int64_t i = 0; i < classes; ++i)
      peak = std::max(peak, double(spec.scoresAreDistances ? -s[i] : s[i]));
    for (int64_t i = 0; i < classes; ++i)
      total += p[i] = std::exp((spec.scoresAreDistances ? -s[i] : s[i]) - peak);
    std::vector<int64_t> order(classes);
    for (int64_t i = 0; i < classes; ++i)
      order[i] = i;
    int k = int(std::min<int64_t>(top, classes));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    if (batch > 1)
      std::cout << "sample " << n << ":\n";
    for (int i = 0; i < k; ++i)
      std::cout << "  class " << std::setw(5) << order[i] << "  " << std::fixed
                << std::setprecision(4) << p[order[i]] / total << "\n";
  }
}

int infer(const ModelSpec &spec, const std::string &weights,
          const std::vector<std::string> &inputArgs,
          const std::vector<std::string> &outputArgs, int top) {
  auto outputPaths = namedPaths(outputArgs, spec.outputs, "--output");
  for (const auto &[name, path] : outputPaths)
    checkWritable(path, "--output");
  std::vector<Buffer> params = loadParams(spec, weights);
  auto inputPaths = namedPaths(inputArgs, spec.inputs, "--input");
  std::vector<Buffer> inputs;
  int64_t batch = -1;
  for (const TensorSpec &t : spec.inputs) {
    auto it = inputPaths.find(t.name);
    if (it == inputPaths.end())
      throw Error("--input: no file given for input '" + t.name + "'");
    NamedTensor x;
    if (isImage(it->second)) {
      if (t.shape.size() != 3)
        throw Error(it->second + ": input '" + t.name +
                    "' is not an image [channels, height, width]");
      x = readImage(it->second, int(t.shape[0]), int(t.shape[1]),
                    int(t.shape[2]), spec.mean, spec.std);
    } else {
      x = readNpy(it->second);
    }
    std::vector<int64_t> perSample(x.shape.begin() + (x.shape.empty() ? 0 : 1),
                                   x.shape.end());
    if (x.shape.size() != t.shape.size() + 1 || perSample != t.shape)
      throw Error(it->second + ": input '" + t.name + "' must have shape [N, " +
                  shapeText(t.shape).substr(1) + ", got " + shapeText(x.shape));
    if (batch >= 0 && x.shape[0] != batch)
      throw Error(it->second + ": batch " + std::to_string(x.shape[0]) +
                  " differs from the other inputs' " + std::to_string(batch));
    batch = x.shape[0];
    Buffer buffer = makeBuffer(t.shape, batch);
    std::memcpy(buffer.data(), x.data.data(), x.data.size() * sizeof(float));
    inputs.push_back(std::move(buffer));
  }
  std::vector<Buffer> outputs, prepared;
  for (const TensorSpec &t : spec.outputs)
    outputs.push_back(makeBuffer(t.shape, batch));
  spec.prepare(params, prepared);
  runForward(spec, params, prepared, inputs, outputs);

  if (top > 0 || outputArgs.empty())
    printTop(spec, outputs[0], batch, top > 0 ? top : 5);
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    auto it = outputPaths.find(spec.outputs[i].name);
    if (it == outputPaths.end())
      continue;
    NamedTensor y;
    y.name = spec.outputs[i].name;
    y.shape = {batch};
    y.shape.insert(y.shape.end(), spec.outputs[i].shape.begin(),
                   spec.outputs[i].shape.end());
    y.data.assign(outputs[i].data(), outputs[i].data() + elementCount(y.shape));
    writeNpy(it->second, y);
  }
  return 0;
}

/// Top-1 and top-5 accuracy of the first output on a labelled dataset.
int evaluate(const ModelSpec &spec, const std::string &weights,
             const std::string &dir, int64_t batch, bool json) {
  std::vector<Buffer> params = loadParams(spec, weights), prepared;
  spec.prepare(params, prepared);
  Dataset data = readDataset(dir);
  const TensorSpec &input = spec.inputs[0];
  std::vector<int64_t> imageShape = {data.channels, data.height, data.width};
  if (spec.inputs.size() != 1 || input.shape != imageShape)
    throw Error(dir + ": " + data.description + " has images " +
                shapeText(imageShape) + ", the model's input '" + input.name +
                "' is " + shapeText(input.shape));
  int64_t classes = elementCount(spec.outputs[0].shape);
  int64_t perImage = elementCount(imageShape);
  int64_t top1 = 0, top5 = 0;
  double start = now();
  for (int64_t first = 0; first < data.size(); first += batch) {
    int64_t n = std::min(batch, data.size() - first);
    std::vector<Buffer> inputs = {makeBuffer(input.shape, n)}, outputs;
    std::memcpy(inputs[0].data(), data.images.data() + first * perImage,
                n * perImage * sizeof(float));
    for (const TensorSpec &t : spec.outputs)
      outputs.push_back(makeBuffer(t.shape, n));
    runForward(spec, params, prepared, inputs, outputs);
    for (int64_t i = 0; i < n; ++i) {
      const float *s = outputs[0].data() + i * classes;
      int32_t label = data.labels[first + i];
      if (label >= classes)
        throw Error(dir + ": label " + std::to_string(label) +
                    " is beyond the model's " + std::to_string(classes) +
                    " classes");
      float mine = spec.scoresAreDistances ? -s[label] : s[label];
      int64_t better = 0;
      for (int64_t c = 0; c < classes; ++c) {
        float v = spec.scoresAreDistances ? -s[c] : s[c];
        better += v > mine || (v == mine && c < label);
      }
      top1 += better == 0;
      top5 += better < 5;
    }
    if (isatty(2))
      std::cerr << "\r" << spec.name << ": evaluated " << first + n << "/"
                << data.size() << std::flush;
  }
  if (isatty(2))
    std::cerr << "\n";
  double seconds = now() - start;
  double p1 = 100.0 * top1 / data.size(), p5 = 100.0 * top5 / data.size();
  if (json) {
    nlohmann::ordered_json j = {{"dataset", data.description},
                                {"images", data.size()},
                                {"top1", p1},
                                {"top5", p5},
                                {"seconds", seconds}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << data.description << ": " << data.size() << " images\n"
              << "  top-1 " << std::fixed << std::setprecision(2) << p1
              << "%  top-5 " << p5 << "%  (" << std::setprecision(1)
              << data.size() / seconds << " images/s)\n";
  }
  return 0;
}

/// Parameters drawn like PyTorch's default initialization (uniform in
/// +-1/sqrt(fan_in)), with running variances of one: for benchmarks.
std::vector<Buffer> randomParams(const ModelSpec &spec, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Buffer> params;
  for (const TensorSpec &t : spec.params) {
    Buffer buffer = makeBuffer(t.shape);
    int64_t fanIn = 1;
    for (size_t i = 1; i < t.shape.size(); ++i)
      fanIn *= t.shape[i];
    bool variance = t.name.size() > 12 &&
                    t.name.compare(t.name.size() - 12, 12, ".running_var") == 0;
    float bound = 1.0f / std::sqrt(float(fanIn));
    std::uniform_real_distribution<float> dist(-bound, bound);
    float *data = buffer.data();
    for (int64_t i = 0; i < elementCount(t.shape); ++i)
      data[i] = variance ? 1.0f : dist(rng);
    params.push_back(std::move(buffer));
  }
  return params;
}

int bench(const ModelSpec &spec, const std::string &weights, int64_t batch,
          int iterations, int threads, bool json, bool training,
          const std::vector<std::string> &freeze, double bucketMiB) {
  std::vector<Buffer> params =
      weights.empty() ? randomParams(spec, 0) : loadParams(spec, weights);
  std::vector<Buffer> inputs, outputs, prepared;
  TrainingStep trainingStep;
  if (training)
    trainingStep = makeTrainingStep(spec, params, batch, freeze, bucketMiB);
  DataParallel *parallel = trainingStep.parallel.get();
  spec.prepare(params, prepared);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (const TensorSpec &t : spec.inputs) {
    Buffer buffer = makeBuffer(t.shape, batch);
    buffer.for_each_value([&](float &v) { v = normal(rng); });
    inputs.push_back(std::move(buffer));
  }
  for (const TensorSpec &t : spec.outputs)
    outputs.push_back(makeBuffer(t.shape, batch));

  // Warm up (thread pool, caches), then time each run.
  auto once = [&] {
    if (training)
      trainingStep.run();
    else
      runForward(spec, params, prepared, inputs, outputs);
  };
  for (int i = 0; i < 3; ++i)
    once();
  if (parallel)
    parallel->resetTimes();
  profile().enable(true);
  std::vector<double> times;
  double deadline = now() + 60.0;
  for (int i = 0; i < iterations; ++i) {
    double start = now();
    once();
    times.push_back(now() - start);
    // Enough for a median on slow models (processes stop together).
    int64_t enough = now() > deadline && i >= 2;
    if (parallel && parallel->chunks() > 1)
      enough = comm().max(enough);
    if (enough)
      break;
  }
  profile().enable(false);
  // Under mpirun: the time of the steps spent computing, and waiting for
  // the gradient sums, against summing them with nothing else running.
  ParallelTimes split;
  double alone = 0;
  if (parallel) {
    split = parallel->times();
    alone = parallel->timeGradientSum();
    if (comm().rank() != 0)
      return 0;
  }
  double steps = std::max<double>(double(split.steps), 1);
  double waiting = split.waiting / steps, syncing = split.synchronizing / steps;
  double computing = split.total / steps - waiting - syncing;
  double hidden = split.summed > 0 ? split.hidden / split.summed : 0;
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  double runs = double(times.size());

  if (json) {
    nlohmann::ordered_json j;
    j["model"] = spec.name;
    j["batch"] = batch;
    j["mode"] = training ? "train" : "inference";
    j["iterations"] = times.size();
    j["median_ms"] = median * 1e3;
    j["min_ms"] = sorted.front() * 1e3;
    j["images_per_second"] = double(batch) / median;
    j["threads"] = threads;
    if (!training)
      j["chunk"] = spec.forwardChunk;
    if (parallel) {
      j["processes"] = comm().size();
      j["compute_ms"] = computing * 1e3;
      j["waiting_ms"] = waiting * 1e3;
      j["batchnorm_sync_ms"] = syncing * 1e3;
      j["gradient_sum_alone_ms"] = alone * 1e3;
      j["hidden"] = hidden;
    }
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const Profile::Entry &e : profile().entries)
      layers.push_back(
          {{"layer", e.layer},
           {"op", e.op},
           {"mean_ms", e.seconds / runs * 1e3},
           {"median_ms", e.median() * double(e.calls) / runs * 1e3},
           {"min_ms", e.fastest() * double(e.calls) / runs * 1e3}});
    j["layers"] = layers;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << spec.name << ": " << (training ? "training steps, " : "")
            << "batch " << batch << ", " << threads
            << (threads == 1 ? " thread, " : " threads, ") << times.size()
            << " runs\n"
            << "  median " << std::fixed << std::setprecision(3) << median * 1e3
            << " ms, min " << sorted.front() * 1e3 << " ms, "
            << std::setprecision(1) << double(batch) / median << " images/s\n";
  if (parallel) {
    std::cout << "  " << comm().size()
              << " processes, per step: " << std::setprecision(1)
              << computing * 1e3 << " ms computing, " << waiting * 1e3
              << " ms waiting for the gradient sums (and the slowest process)";
    if (syncing > 0)
      std::cout << ", " << syncing * 1e3 << " ms in batch-norm sums";
    std::cout << "\n  summing all gradients alone takes " << alone * 1e3
              << " ms; " << std::setprecision(0) << hidden * 100
              << "% of them were summed before the backward pass ended\n";
  }
  std::cout << "\n";
  double total = 0;
  for (const Profile::Entry &e : profile().entries)
    total += e.seconds;
  std::vector<Profile::Entry> top = profile().entries;
  std::sort(top.begin(), top.end(),
            [](const Profile::Entry &a, const Profile::Entry &b) {
              return a.seconds > b.seconds;
            });
  std::cout << "  " << std::left << std::setw(32) << "layer" << std::setw(16)
            << "op" << std::right << std::setw(10) << "ms" << std::setw(8)
            << "share\n";
  for (size_t i = 0; i < top.size() && i < 25; ++i)
    std::cout << "  " << std::left << std::setw(32) << top[i].layer
              << std::setw(16) << top[i].op << std::right << std::setw(10)
              << std::setprecision(3) << top[i].seconds / runs * 1e3
              << std::setw(7) << std::setprecision(1)
              << 100 * top[i].seconds / total << "%\n";
  if (top.size() > 25)
    std::cout << "  … " << top.size() - 25 << " more layers\n";
  return 0;
}

/// A number that is finite and positive (or not negative): "nan" and
/// "inf" are refused, not taken as a default.
CLI::Validator finiteNumber(bool positive) {
  return CLI::Validator(
      [positive](std::string &text) -> std::string {
        char *end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end || !std::isfinite(value))
          return "'" + text + "' is not a finite number";
        if (positive ? value <= 0 : value < 0)
          return "'" + text + "' must be " +
                 (positive ? "positive" : "zero or more");
        return "";
      },
      positive ? "POSITIVE" : "NONNEGATIVE");
}

/// The flags of data-parallel training (mpirun -np N, programs built with
/// --mpi; --deterministic also alone).
void parallelOptions(CLI::App *command, ParallelSettings &parallel) {
  command->add_flag(
      "--sync-bn", parallel.syncBn,
      "Under mpirun: batch norm's batch statistics over the whole batch "
      "(summed across the processes), not each process's share");
  command->add_flag(
      "--deterministic", parallel.deterministic,
      "Weights bit-identical whatever the number of processes: each batch "
      "is cut into --chunks chunks whose results are added in one fixed "
      "order (implies --sync-bn)");
  command
      ->add_option("--chunks", parallel.chunks,
                   "With --deterministic: chunks per batch, a power of two "
                   "that the number of processes divides (default 8)")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--bucket-mb", parallel.bucketMiB,
                   "Under mpirun: MiB of gradients summed across the "
                   "processes together, as soon as the backward pass has "
                   "written them (default 25)")
      ->check(finiteNumber(true));
}

/// The model's value of a setting, for --help.
template <typename T> std::string settingText(const T &value) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                std::is_same_v<T, std::vector<std::string>>) {
    for (size_t i = 0; i < value.size(); ++i)
      os << (i ? "," : "") << value[i];
    if (value.empty())
      os << "none";
  } else {
    os << value;
  }
  return os.str();
}

/// The flags of the settings that have one (TrainSettings.h), reading into
/// `given`; their help shows the model's values.
struct SettingFlags {
  std::vector<std::pair<const TrainSettingField *, CLI::Option *>> options;

  void add(CLI::App &cmd, const TrainSettings &model, TrainSettings &given,
           const std::vector<std::string> &only = {}) {
    for (const TrainSettingField &field : trainSettingFields()) {
      if (!field.flag || (!only.empty() && std::find(only.begin(), only.end(),
                                                     field.name) == only.end()))
        continue;
      std::visit(
          [&](auto member) {
            using T = std::decay_t<decltype(model.*member)>;
            std::string help = field.doc;
            help[0] = char(std::toupper(static_cast<unsigned char>(help[0])));
            constexpr bool list = std::is_same_v<T, std::vector<std::string>>;
            help += list ? " (added to the model's: " : " (default ";
            CLI::Option *option =
                cmd.add_option(field.flag, given.*member,
                               help + settingText(model.*member) + ")");
            if constexpr (list)
              option->delimiter(',');
            switch (field.check) {
            case FlagCheck::Positive:
              option->check(finiteNumber(true));
              break;
            case FlagCheck::NonNegative:
              option->check(finiteNumber(false));
              break;
            case FlagCheck::Batch:
              option->check(CLI::Range(int64_t(1), int64_t(1) << 16));
              break;
            case FlagCheck::None:
              break;
            }
            options.push_back({&field, option});
          },
          field.member);
    }
  }

  /// `model` with the flags given: values replace the model's, lists
  /// (--freeze) add to them.
  TrainSettings apply(const TrainSettings &model,
                      const TrainSettings &given) const {
    TrainSettings settings = model;
    for (auto [field, option] : options) {
      if (option->count() == 0)
        continue;
      std::visit(
          [&](auto member) {
            using T = std::decay_t<decltype(model.*member)>;
            if constexpr (std::is_same_v<T, std::vector<std::string>>)
              (settings.*member)
                  .insert((settings.*member).end(), (given.*member).begin(),
                          (given.*member).end());
            else
              settings.*member = given.*member;
          },
          field->member);
    }
    return settings;
  }
};

} // namespace

int runProgram(int argc, char **argv, const ModelSpec &spec) {
  // Beyond a file-size limit, writes fail with EFBIG and a message naming
  // the file rather than killing the program.
  std::signal(SIGXFSZ, SIG_IGN);
  catchHalideErrors();
  if (spec.device)
    setDevice(spec.device());
  CLI::App app{spec.name + ": compiled by netc from " + spec.source};
  app.require_subcommand(1);
  // --threads and --chunk go before or after the subcommand: each
  // subcommand lists them in its --help.
  int threads = 0;
  int64_t chunk = 0;
  auto threadsOption = [&](CLI::App *command) {
    command
        ->add_option("--threads", threads,
                     "Threads that run the kernels (default: one per core; "
                     "under mpirun, the cores shared by the processes on "
                     "the machine); "
                     "an inference batch that splits evenly over them runs "
                     "as one stream of samples per thread")
        ->check(CLI::NonNegativeNumber);
  };
  auto chunkOption = [&](CLI::App *command) {
    command
        ->add_option("--chunk", chunk,
                     "Inference: samples per pass through the network; "
                     "larger batches run in passes of about equal size "
                     "(default " +
                         std::to_string(spec.forwardChunk) +
                         ", whose activations fit in 48 MiB; the threads' "
                         "streams share it)")
        ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  };
  threadsOption(&app);
  chunkOption(&app);

  CLI::App *info = app.add_subcommand(
      "info", "The model's inputs, outputs, target and expected weights");
  bool json = false;
  info->add_flag("--json", json, "Print one JSON object");

  CLI::App *inferCmd =
      app.add_subcommand("infer", "Run the network on .npy inputs");
  std::string weights;
  std::vector<std::string> inputs, outputs;
  inferCmd->add_option("--weights", weights, "Weights (.safetensors)")
      ->required();
  inferCmd
      ->add_option("--input", inputs,
                   "Input batch (.npy, float32, NCHW) or an image (PNG, PPM, "
                   "PGM, JPEG, BMP; resized to the input); NAME=PATH when "
                   "the model has several inputs")
      ->required();
  int top = 0;
  inferCmd
      ->add_option("--top", top,
                   "Print the K most likely classes of the first output "
                   "(default 5 when no --output is given)")
      ->check(CLI::PositiveNumber);
  inferCmd->add_option("--output", outputs,
                       "Where to write an output (.npy); NAME=PATH for "
                       "outputs other than the first");

  CLI::App *evalCmd = app.add_subcommand(
      "eval", "Top-1 and top-5 accuracy on MNIST IDX or CIFAR-10 files");
  std::string evalWeights, dataDir;
  int64_t evalBatch = 64;
  bool evalJson = false;
  evalCmd->add_option("--weights", evalWeights, "Weights (.safetensors)")
      ->required();
  evalCmd
      ->add_option("--data", dataDir,
                   "Folder with t10k-images-idx3-ubyte and "
                   "t10k-labels-idx1-ubyte, or CIFAR-10's test_batch.bin")
      ->required();
  evalCmd->add_option("--batch", evalBatch, "Images per run")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  evalCmd->add_flag("--json", evalJson, "Print one JSON object");

  CLI::App *benchCmd = app.add_subcommand(
      "bench", "Time the network: median latency, images/s, time per layer");
  int64_t batch = 1;
  int iterations = 50;
  std::string benchWeights;
  bool benchJson = false;
  benchCmd->add_option("--batch", batch, "Samples per run")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  benchCmd->add_option("--iters", iterations, "Timed runs (at most a minute)")
      ->check(CLI::Range(1, 1000000));
  benchCmd->add_option("--weights", benchWeights,
                       "Weights (.safetensors); random when not given");
  benchCmd->add_flag("--json", benchJson, "Print one JSON object");
  bool benchTrain = false;
  std::vector<std::string> benchFreeze;
  double benchBucketMiB = ParallelSettings().bucketMiB;
  if (spec.trainStep) {
    benchCmd->add_flag("--train", benchTrain,
                       "Time training steps (forward, backward, update) "
                       "on random data instead of inference");
    benchCmd
        ->add_option("--bucket-mb", benchBucketMiB,
                     "With --train under mpirun: MiB of gradients summed "
                     "across the processes together (default 25)")
        ->check(finiteNumber(true));
    benchCmd
        ->add_option("--freeze", benchFreeze,
                     "With --train: keep parameters under these name "
                     "prefixes fixed (fine-tuning)")
        ->delimiter(',');
  }

  CLI::App *trainCmd = nullptr, *stepCmd = nullptr;
  TrainOptions trainOptions;
  StepOptions stepOptions;
  // Flags that override the model's train section, read into *Given.
  SettingFlags trainFlags, stepFlags;
  TrainSettings trainGiven, stepGiven;
  if (spec.trainStep) {
    const TrainSettings &t = spec.train;
    trainCmd = app.add_subcommand(
        "train", "Train the network (defaults from the model's train section)");
    trainCmd
        ->add_option("--data", trainOptions.data,
                     "Folder with MNIST IDX (train-… and t10k-… files) or "
                     "CIFAR-10 binary batches, or 'synthetic'")
        ->required();
    trainFlags.add(*trainCmd, t, trainGiven);
    trainCmd->add_option("--save", trainOptions.save,
                         "Checkpoint written atomically after every epoch "
                         "(default " +
                             spec.name + ".safetensors)");
    trainCmd->add_option("--resume", trainOptions.resume,
                         "Continue from a checkpoint of --save");
    trainCmd->add_option("--init", trainOptions.init,
                         "Start from pretrained weights, loaded by name");
    trainCmd->add_option("--log", trainOptions.log,
                         "Append per-epoch metrics to this CSV file");
    trainCmd
        ->add_option("--save-every", trainOptions.saveMinutes,
                     "Minutes between checkpoints within an epoch (one is "
                     "also written after every epoch, and on Ctrl-C)")
        ->check(CLI::PositiveNumber);
    trainCmd
        ->add_option("--max-batches", trainOptions.maxBatches,
                     "Stop each epoch after this many batches")
        ->check(CLI::PositiveNumber);
    parallelOptions(trainCmd, trainOptions.parallel);

    stepCmd = app.add_subcommand(
        "train-step", "One training step on given tensors: write every "
                      "gradient and the updated weights (for checking)");
    stepCmd->add_option("--weights", stepOptions.weights, "Weights")
        ->required();
    stepCmd->add_option("--input", stepOptions.input, "Input batch (.npy)")
        ->required();
    stepCmd
        ->add_option("--labels", stepOptions.labels,
                     "Class indices (.npy float32, [N])")
        ->required();
    stepCmd
        ->add_option("--results", stepOptions.results,
                     "Where to write losses, scores and gradients "
                     "(.safetensors)")
        ->required();
    stepCmd
        ->add_option("--updated", stepOptions.updated,
                     "Where to write the weights after the step")
        ->required();
    stepFlags.add(*stepCmd, t, stepGiven, {"lr"});
    parallelOptions(stepCmd, stepOptions.parallel);
  }

  for (CLI::App *command :
       {info, inferCmd, evalCmd, benchCmd, trainCmd, stepCmd})
    if (command)
      threadsOption(command);
  for (CLI::App *command : {inferCmd, evalCmd, benchCmd})
    chunkOption(command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  int cores = std::max(1, int(std::thread::hardware_concurrency()));
  if (threads == 0) {
    threads = cores;
    // Processes of one job on this machine share its cores.
    if (const char *local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"))
      if (comm().size() > 1 && std::atoi(local) > 0)
        threads = std::max(1, cores / std::atoi(local));
  }
  // More threads than a few per core only wait on each other; thousands
  // exhaust the process.
  const int maxThreads = std::max(64, 4 * cores);
  if (threads > maxThreads) {
    std::cerr << spec.name << ": error: --threads " << threads
              << " is more than " << maxThreads << " (4 per core, at least 64)"
              << "; this machine has " << cores << " cores\n";
    return 2;
  }
  useThreadPool(threads);
  ModelSpec tuned = spec;
  if (chunk > 0)
    tuned.forwardChunk = chunk;
  try {
    if (*info) {
      printInfo(tuned, json);
      return 0;
    }
    if (*inferCmd)
      return infer(tuned, weights, inputs, outputs, top);
    if (*evalCmd)
      return evaluate(tuned, evalWeights, dataDir, evalBatch, evalJson);
    if (trainCmd && *trainCmd) {
      trainOptions.settings = trainFlags.apply(spec.train, trainGiven);
      return train(tuned, trainOptions);
    }
    if (stepCmd && *stepCmd) {
      stepOptions.settings = stepFlags.apply(spec.train, stepGiven);
      return trainStep(tuned, stepOptions);
    }
    if (*benchCmd)
      return bench(tuned, benchWeights, batch, iterations, threads, benchJson,
                   benchTrain, benchFreeze, benchBucketMiB);
  } catch (const Error &e) {
    std::cerr << spec.name << ": error: " << e.what();
    if (comm().size() > 1)
      std::cerr << " (" << comm().where() << ")";
    std::cerr << "\n";
    return 1;
  }
  return 2;
}

} // namespace netc::rt
