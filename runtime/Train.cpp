//===- Train.cpp - The train command of training programs -----------------===//
//
// The loop: for each epoch, shuffled batches (prepared on a second thread
// while the current one trains), one generated training step each, the
// optimizer's update kernel on every trained parameter, running statistics;
// then validation, the learning-rate schedule, a checkpoint and a CSV row.
//
//===----------------------------------------------------------------------===//

#include "Train.h"
#include "TrainState.h"

#include "Batches.h"
#include "Error.h"
#include "Npy.h"
#include "SafeTensors.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace netc::rt {

namespace {

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

/// Whether `name` is under one of the dotted prefixes ("c1" holds
/// "c1.weight", not "c10.weight").
bool underPrefix(const std::string &name,
                 const std::vector<std::string> &prefixes) {
  for (const std::string &p : prefixes)
    if (startsWith(name, p) &&
        (name.size() == p.size() || name[p.size()] == '.' || p.back() == '.'))
      return true;
  return false;
}

Buffer flat(Buffer &b) { return Buffer(b.data(), int(b.number_of_elements())); }

/// One call of the optimizer's update kernel, in place.
void update(const ModelSpec &spec, const TrainSettings &t, Buffer &weight,
            Buffer &grad, std::vector<Buffer> &state, double lr, int64_t step,
            const std::string &name) {
  Buffer w = flat(weight), g = flat(grad), s1 = flat(state[0]);
  int status;
  if (t.optimizer == "sgd") {
    using Kernel =
        int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, float,
                float, float, float, halide_buffer_t *, halide_buffer_t *);
    status = reinterpret_cast<Kernel>(spec.optimizerKernel)(
        w, g, s1, float(lr), float(t.momentum), float(t.weightDecay),
        t.nesterov ? 1.0f : 0.0f, w, s1);
  } else if (t.optimizer == "rmsprop") {
    Buffer s2 = flat(state[1]);
    using Kernel =
        int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                halide_buffer_t *, float, float, float, float, float,
                halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);
    status = reinterpret_cast<Kernel>(spec.optimizerKernel)(
        w, g, s1, s2, float(lr), float(t.rmsAlpha), float(t.eps),
        float(t.weightDecay), float(t.momentum), w, s1, s2);
  } else {
    Buffer s2 = flat(state[1]);
    double c1 = 1.0 / (1.0 - std::pow(t.beta1, double(step)));
    double c2 = 1.0 / (1.0 - std::pow(t.beta2, double(step)));
    using Kernel =
        int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                halide_buffer_t *, float, float, float, float, float, float,
                float, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *);
    status = reinterpret_cast<Kernel>(spec.optimizerKernel)(
        w, g, s1, s2, float(lr), float(t.beta1), float(t.beta2), float(t.eps),
        float(t.weightDecay), float(c1), float(c2), w, s1, s2);
  }
  checkKernel(status, name.c_str());
}

//===----------------------------------------------------------------------===//
// The step
//===----------------------------------------------------------------------===//

/// The dropout masks' key: the run's seed and the step, as floats below
/// 2^24 (exact).
Buffer rngInput(int64_t seed, int64_t step) {
  Buffer rng = makeBuffer({2});
  rng.data()[0] = float(seed % (int64_t(1) << 24));
  rng.data()[1] = float(step % (int64_t(1) << 24));
  return rng;
}

/// The training step's outputs, allocated for a batch of n.
std::vector<Buffer> resultBuffers(const ModelSpec &spec, int64_t n) {
  std::vector<Buffer> results;
  for (const TrainResultSpec &r : spec.trainResults) {
    bool batched = startsWith(r.name, "loss:") || startsWith(r.name, "scores:");
    results.push_back(makeBuffer(r.shape, batched ? n : -1));
  }
  return results;
}

int64_t paramIndex(const ModelSpec &spec, const std::string &name) {
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (spec.params[i].name == name)
      return int64_t(i);
  throw Error("the program has no parameter '" + name + "'");
}

/// The steps of trainStep that lead to a result in use: everything but the
/// gradients of parameters that are not trained.
std::vector<bool> stepsNeeded(const ModelSpec &spec,
                              const std::vector<bool> &trained) {
  std::vector<bool> needed(spec.trainStepReads.size());
  std::vector<int> pending;
  for (size_t r = 0; r < spec.trainResults.size(); ++r) {
    const std::string &name = spec.trainResults[r].name;
    if (startsWith(name, "grad:") && !trained[paramIndex(spec, name.substr(5))])
      continue;
    if (spec.trainResultSteps[r] >= 0)
      pending.push_back(spec.trainResultSteps[r]);
  }
  while (!pending.empty()) {
    int k = pending.back();
    pending.pop_back();
    if (needed[k])
      continue;
    needed[k] = true;
    pending.insert(pending.end(), spec.trainStepReads[k].begin(),
                   spec.trainStepReads[k].end());
  }
  return needed;
}

struct StepOutcome {
  double loss = 0;
  int64_t correct = 0;
};

/// Runs the step, checks it, applies the optimizer and the running
/// statistics. Throws Error naming the first non-finite tensor. The step's
/// results (gradients, batch statistics, losses) go to `kept` when given.
StepOutcome trainOn(const ModelSpec &spec, const TrainSettings &t, State &s,
                    std::vector<Buffer> &prepared, Batch &batch, double lr,
                    const std::vector<bool> &trained,
                    std::vector<Buffer> *kept = nullptr) {
  int64_t n = batch.images.dim(batch.images.dimensions() - 1).extent();
  std::vector<Buffer> inputs = {batch.images};
  for (size_t k = 0; k < spec.lossWeights.size(); ++k)
    inputs.push_back(batch.labels);
  if (spec.trainTakesRng)
    inputs.push_back(rngInput(t.seed, s.step));
  std::vector<Buffer> results = resultBuffers(spec, n);
  spec.trainPrepare(s.params, prepared);
  spec.trainStep(s.params, prepared, inputs, results,
                 stepsNeeded(spec, trained));
  s.step += 1;

  StepOutcome outcome;
  size_t term = 0;
  std::string where = "step " + std::to_string(s.step) + " (epoch " +
                      std::to_string(s.epoch + 1) + ")";
  for (size_t r = 0; r < spec.trainResults.size(); ++r) {
    const std::string &name = spec.trainResults[r].name;
    Buffer &b = results[r];
    if (startsWith(name, "loss:")) {
      double total = 0;
      for (int64_t i = 0; i < n; ++i)
        total += b.data()[i];
      outcome.loss += spec.lossWeights[term++] * total / double(n);
      if (!std::isfinite(outcome.loss))
        throw Error(where + ": the loss '" + name.substr(5) +
                    "' is not finite");
    } else if (startsWith(name, "scores:")) {
      int64_t classes = b.dim(0).extent();
      for (int64_t i = 0; i < n; ++i) {
        const float *v = b.data() + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; ++c)
          if (spec.scoresAreDistances ? v[c] < v[best] : v[c] > v[best])
            best = c;
        outcome.correct += best == batch.classes[i];
      }
    } else if (!startsWith(name, "grad:") ||
               trained[paramIndex(spec, name.substr(5))]) {
      const float *v = b.data();
      for (int64_t i = 0; i < int64_t(b.number_of_elements()); ++i)
        if (!std::isfinite(v[i]))
          throw Error(where + ": the gradient '" + name +
                      "' is not finite (first at element " + std::to_string(i) +
                      ")");
    }
  }
  for (size_t r = 0; r < spec.trainResults.size(); ++r) {
    const std::string &name = spec.trainResults[r].name;
    if (startsWith(name, "grad:")) {
      int64_t i = paramIndex(spec, name.substr(5));
      if (trained[i])
        update(spec, t, s.params[i], results[r], s.optimizer[i], lr, s.step,
               name.substr(5));
    } else if (startsWith(name, "mean:") || startsWith(name, "var:")) {
      bool var = name[0] == 'v';
      std::string buffer = name.substr(var ? 4 : 5);
      int64_t i = paramIndex(spec, buffer);
      double momentum = 0.1;
      int64_t perSample = 1;
      for (const RunningStat &rs : spec.runningStats)
        if (rs.name == buffer)
          momentum = rs.momentum, perSample = rs.perSample;
      // PyTorch keeps the unbiased variance.
      double count = double(n * perSample);
      double unbias = var && count > 1 ? count / (count - 1) : 1.0;
      float *running = s.params[i].data();
      const float *batchStat = results[r].data();
      for (int64_t c = 0; c < int64_t(results[r].number_of_elements()); ++c)
        running[c] = float((1 - momentum) * running[c] +
                           momentum * batchStat[c] * unbias);
    }
  }
  if (kept)
    *kept = std::move(results);
  return outcome;
}

//===----------------------------------------------------------------------===//
// Validation and schedule
//===----------------------------------------------------------------------===//

struct Validation {
  double loss = 0, top1 = 0, top5 = 0;
};

Validation validate(const ModelSpec &spec, State &s, const Dataset &data,
                    const std::vector<int64_t> &input,
                    const Augmentation &normalize, int64_t batch) {
  std::vector<Buffer> prepared;
  spec.prepare(s.params, prepared);
  std::vector<int64_t> order(data.size());
  for (int64_t i = 0; i < data.size(); ++i)
    order[i] = i;
  int64_t classes = elementCount(spec.outputs[0].shape);
  Validation v;
  for (int64_t first = 0; first < data.size(); first += batch) {
    int64_t n = std::min(batch, data.size() - first);
    Batch b =
        makeBatch(data, order, first, n, input, nullptr, normalize, 0, 0, 0);
    std::vector<Buffer> inputs = {b.images}, outputs;
    for (const TensorSpec &t : spec.outputs)
      outputs.push_back(makeBuffer(t.shape, n));
    runForward(spec, s.params, prepared, inputs, outputs);
    for (int64_t i = 0; i < n; ++i) {
      const float *o = outputs[0].data() + i * classes;
      auto score = [&](int64_t c) {
        return spec.scoresAreDistances ? -double(o[c]) : double(o[c]);
      };
      int32_t label = b.classes[i];
      double peak = score(0);
      for (int64_t c = 1; c < classes; ++c)
        peak = std::max(peak, score(c));
      double total = 0;
      int64_t better = 0;
      for (int64_t c = 0; c < classes; ++c) {
        total += std::exp(score(c) - peak);
        better +=
            score(c) > score(label) || (score(c) == score(label) && c < label);
      }
      v.loss += std::log(total) + peak - score(label);
      v.top1 += better == 0;
      v.top5 += better < 5;
    }
  }
  v.loss /= double(data.size());
  v.top1 *= 100.0 / double(data.size());
  v.top5 *= 100.0 / double(data.size());
  return v;
}

/// The learning rate during `epoch` (from 0), `fraction` of it done.
double learningRate(const TrainSettings &t, const State &s, int64_t epoch,
                    double fraction) {
  double lr = t.lr;
  if (t.schedule == "step") {
    int64_t k = 0;
    if (t.stepEvery > 0)
      k = epoch / t.stepEvery;
    for (int64_t m : t.milestones)
      k += epoch >= m;
    lr *= std::pow(t.gamma, double(k));
  } else if (t.schedule == "cosine") {
    lr = t.minLr + (t.lr - t.minLr) *
                       (1 + std::cos(3.14159265358979 * double(epoch) /
                                     double(std::max<int64_t>(t.epochs, 1)))) /
                       2;
  } else if (t.schedule == "plateau" && s.plateauLr > 0) {
    lr = s.plateauLr;
  }
  if (epoch < t.warmup)
    lr *= std::min(1.0, (double(epoch) + fraction) / double(t.warmup));
  return lr;
}

/// Set by SIGINT and SIGTERM: the loop saves its position and stops.
volatile std::sig_atomic_t stopRequested = 0;

void requestStop(int) { stopRequested = 1; }

std::string clock(double seconds) {
  int64_t total = int64_t(seconds + 0.5);
  std::ostringstream os;
  if (total >= 3600)
    os << total / 3600 << ":" << std::setw(2) << std::setfill('0')
       << total / 60 % 60;
  else
    os << total / 60;
  os << ":" << std::setw(2) << std::setfill('0') << total % 60;
  return os.str();
}

} // namespace

int train(const ModelSpec &spec, const TrainOptions &o) {
  TrainSettings t = spec.train;
  if (o.epochs >= 0)
    t.epochs = o.epochs;
  if (o.batch > 0)
    t.batch = o.batch;
  if (o.lr > 0)
    t.lr = o.lr;
  if (o.seed >= 0)
    t.seed = o.seed;
  t.freeze.insert(t.freeze.end(), o.freeze.begin(), o.freeze.end());
  if (spec.inputs.size() != 1 || spec.inputs[0].shape.size() != 3)
    throw Error("train needs a model with one image input [C, H, W]");
  const std::vector<int64_t> &input = spec.inputs[0].shape;
  int64_t classes = elementCount(spec.outputs[0].shape);

  Dataset trainSet, testSet;
  bool validation = true;
  if (o.data == "synthetic") {
    trainSet = syntheticDataset(input, classes, 2048, t.seed);
    testSet = syntheticDataset(input, classes, 512, t.seed + 1);
  } else {
    int64_t side = t.cropSize ? t.cropSize : 0;
    int64_t h = side ? side : input[1], w = side ? side : input[2];
    trainSet = readDataset(o.data, "train", input[0], h, w);
    try {
      testSet = readDataset(o.data, "test", input[0], h, w);
    } catch (const Error &e) {
      std::cerr << spec.name << ": note: no validation: " << e.what() << "\n";
      validation = false;
    }
  }
  std::vector<int64_t> stored = {trainSet.channels, trainSet.height,
                                 trainSet.width};
  int64_t cropped = t.cropSize ? t.cropSize : 0;
  if (stored[0] != input[0] ||
      (cropped ? cropped != input[1] || cropped != input[2]
               : stored[1] < input[1] || stored[2] < input[2]))
    throw Error(o.data + ": " + trainSet.description + " has images " +
                shapeText(stored) + ", the model's input '" +
                spec.inputs[0].name + "' is " + shapeText(input));
  for (int32_t label : trainSet.labels)
    if (label < 0 || label >= classes)
      throw Error(o.data + ": label " + std::to_string(label) +
                  " is beyond the model's " + std::to_string(classes) +
                  " classes");

  Augmentation augment, normalize;
  augment.cropSize = t.cropSize, augment.cropPad = t.cropPad;
  augment.hflip = t.hflip;
  normalize.mean = spec.mean, normalize.std = spec.std;

  State s;
  s.params = initialParams(spec, uint64_t(t.seed));
  allocateOptimizer(spec, t.optimizer, s);
  if (!o.init.empty())
    loadPretrained(spec, s, o.init);
  if (!o.resume.empty()) {
    loadCheckpoint(spec, t, s, o.resume);
    if (s.batch > 0)
      std::cerr << spec.name << ": resuming " << o.resume << " in epoch "
                << s.epoch + 1 << " after batch " << s.batch << " (step "
                << s.step << ")\n";
    else
      std::cerr << spec.name << ": resuming " << o.resume << " after epoch "
                << s.epoch << " (step " << s.step << ")\n";
  }
  std::vector<bool> trained(spec.params.size());
  int64_t trainedCount = 0;
  for (size_t i = 0; i < spec.params.size(); ++i) {
    trained[i] =
        spec.params[i].trainable && !underPrefix(spec.params[i].name, t.freeze);
    if (trained[i])
      trainedCount += elementCount(spec.params[i].shape);
  }
  std::string save = o.save.empty() ? spec.name + ".safetensors" : o.save;

  std::ofstream csv;
  if (!o.log.empty()) {
    bool fresh = o.resume.empty() || access(o.log.c_str(), F_OK) != 0;
    csv.open(o.log, fresh ? std::ios::trunc : std::ios::app);
    if (!csv)
      throw Error(o.log + ": cannot write the metrics file");
    if (fresh)
      csv << "epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,"
             "lr,seconds\n";
  }

  if (s.epoch >= t.epochs) {
    std::cout << spec.name << ": nothing to do: " << o.resume << " has "
              << s.epoch << " of " << t.epochs
              << " epochs (ask for more with --epochs)" << std::endl;
    return 0;
  }
  bool terminal = isatty(2);
  int64_t perEpoch = (trainSet.size() + t.batch - 1) / t.batch;
  if (o.maxBatches > 0)
    perEpoch = std::min(perEpoch, o.maxBatches);
  std::cerr << spec.name << ": training on " << trainSet.description << ", "
            << perEpoch << " batches of " << t.batch << " per epoch, "
            << t.epochs << (t.epochs == 1 ? " epoch, " : " epochs, ")
            << t.optimizer << " lr " << t.lr << ", " << trainedCount
            << " trained parameters";
  std::vector<bool> needed = stepsNeeded(spec, trained);
  int64_t skipped = std::count(needed.begin(), needed.end(), false);
  if (skipped)
    std::cerr << " (" << skipped << " of " << needed.size()
              << " steps skipped: they lead only to frozen gradients)";
  std::cerr << "\n";
  double start = now(), lastSaved = now(), validating = 0;
  int64_t imagesDone = 0;
  std::vector<Buffer> prepared;
  // Ctrl-C or a termination request: save the position, stop, resume later.
  stopRequested = 0;
  std::signal(SIGINT, requestStop);
  std::signal(SIGTERM, requestStop);
  // For tests: stop as if interrupted after this many steps.
  int64_t stopAfter = -1;
  if (const char *steps = std::getenv("NETC_STOP_AFTER_STEPS"))
    stopAfter = std::atoll(steps);
  for (; s.epoch < t.epochs; ++s.epoch) {
    int64_t epoch = s.epoch;
    std::vector<int64_t> order = shuffled(trainSet.size(), t.seed, epoch);
    auto load = [&](int64_t b) {
      int64_t first = b * t.batch;
      int64_t n = std::min(t.batch, trainSet.size() - first);
      return makeBatch(trainSet, order, first, n, input, &augment, normalize,
                       uint64_t(t.seed), epoch, b);
    };
    std::future<Batch> next = std::async(std::launch::async, load, s.batch);
    double epochStart = now(), lossSum = 0, lr = 0, lastShown = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t b = s.batch; b < perEpoch; ++b) {
      Batch batch = next.get();
      if (b + 1 < perEpoch)
        next = std::async(std::launch::async, load, b + 1);
      lr = learningRate(t, s, epoch, double(b) / double(perEpoch));
      int64_t n = int64_t(batch.classes.size());
      StepOutcome r;
      try {
        r = trainOn(spec, t, s, prepared, batch, lr, trained);
      } catch (const Error &e) {
        if (terminal)
          std::cerr << "\n";
        throw Error(std::string(e.what()) + "; training stopped" +
                    (access(save.c_str(), F_OK) == 0
                         ? ", the last good checkpoint is " + save
                         : ""));
      }
      s.batch = b + 1;
      lossSum += r.loss * double(n);
      correct += r.correct;
      seen += n;
      imagesDone += n;
      if (stopAfter >= 0 && s.step >= stopAfter)
        stopRequested = 1;
      bool last = b + 1 == perEpoch;
      if (!last &&
          (stopRequested || now() - lastSaved > 60.0 * o.saveMinutes)) {
        // Within the epoch: the checkpoint holds the position, so that a
        // crash or a stop loses at most a few minutes.
        next.wait();
        saveCheckpoint(spec, t, s, save);
        lastSaved = now();
        if (stopRequested) {
          if (terminal)
            std::cerr << "\n";
          std::cerr << spec.name << ": stopped in epoch " << epoch + 1
                    << " after batch " << b + 1 << "; saved " << save
                    << "; continue with --resume " << save << "\n";
          return 130;
        }
      }
      double elapsed = now() - epochStart;
      if (terminal && (now() - lastShown > 0.2 || b + 1 == perEpoch)) {
        lastShown = now();
        double rate = double(seen) / std::max(elapsed, 1e-9);
        double left = double((t.epochs - epoch) * perEpoch - b - 1) *
                      double(t.batch) / std::max(rate, 1e-9);
        std::cerr << "\repoch " << epoch + 1 << "/" << t.epochs << "  batch "
                  << b + 1 << "/" << perEpoch << "  " << std::fixed
                  << std::setprecision(0) << rate << " images/s  loss "
                  << std::setprecision(4) << lossSum / double(seen) << "  ETA "
                  << clock(left) << "   " << std::flush;
      }
    }
    if (terminal)
      std::cerr << "\n";
    double trainLoss = lossSum / double(std::max<int64_t>(seen, 1));
    double trainTop1 =
        100.0 * double(correct) / double(std::max<int64_t>(seen, 1));
    Validation v;
    if (validation) {
      double validationStart = now();
      v = validate(spec, s, testSet, input, normalize,
                   std::max<int64_t>(t.batch, 64));
      validating += now() - validationStart;
    }
    if (t.schedule == "plateau") {
      if (s.plateauLr < 0)
        s.plateauLr = t.lr;
      double metric = validation ? v.loss : trainLoss;
      if (metric < s.best * (1 - 1e-4)) {
        s.best = metric, s.badEpochs = 0;
      } else if (++s.badEpochs > t.patience) {
        s.plateauLr = std::max(s.plateauLr * t.gamma, t.minLr);
        s.badEpochs = 0;
      }
    }
    s.epoch += 1;
    s.batch = 0;
    saveCheckpoint(spec, t, s, save);
    lastSaved = now();
    s.epoch -= 1;
    double seconds = now() - start;
    std::cout << "epoch " << epoch + 1 << "/" << t.epochs << ": loss "
              << std::fixed << std::setprecision(4) << trainLoss
              << ", train top-1 " << std::setprecision(2) << trainTop1 << "%";
    if (validation)
      std::cout << ", val loss " << std::setprecision(4) << v.loss
                << ", val top-1 " << std::setprecision(2) << v.top1
                << "%, top-5 " << v.top5 << "%";
    std::cout << ", lr " << std::defaultfloat << std::setprecision(4) << lr
              << ", " << std::fixed << std::setprecision(1) << seconds << " s"
              << std::endl;
    if (csv)
      csv << epoch + 1 << "," << s.step << "," << std::setprecision(6)
          << trainLoss << "," << trainTop1 << "," << v.loss << "," << v.top1
          << "," << v.top5 << "," << lr << "," << std::setprecision(3)
          << seconds << std::endl;
  }
  double seconds = now() - start;
  // The rate counts the time spent training, not validating.
  std::cout << spec.name << ": trained " << imagesDone << " images in "
            << std::fixed << std::setprecision(1) << seconds << " s ("
            << std::setprecision(0)
            << double(imagesDone) / std::max(seconds - validating, 1e-9)
            << " images/s";
  if (validating > 0)
    std::cout << "; " << std::setprecision(1) << validating
              << " s of it validating";
  std::cout << "); weights and state in " << save << std::endl;
  return 0;
}

std::function<void()> makeTrainingStep(const ModelSpec &spec,
                                       const std::vector<Buffer> &params,
                                       int64_t batch,
                                       const std::vector<std::string> &freeze) {
  auto s = std::make_shared<State>();
  for (const Buffer &p : params)
    s->params.push_back(p.data() ? p.copy() : Buffer());
  allocateOptimizer(spec, spec.train.optimizer, *s);
  const std::vector<int64_t> &input = spec.inputs[0].shape;
  int64_t classes = elementCount(spec.outputs[0].shape);
  auto data = std::make_shared<Dataset>(
      syntheticDataset(input, classes, batch, uint64_t(spec.train.seed)));
  std::vector<int64_t> order(batch);
  for (int64_t i = 0; i < batch; ++i)
    order[i] = i;
  auto b = std::make_shared<Batch>(makeBatch(*data, order, 0, batch, input,
                                             nullptr, Augmentation(), 0, 0, 0));
  auto prepared = std::make_shared<std::vector<Buffer>>();
  std::vector<bool> trained(spec.params.size());
  for (size_t i = 0; i < spec.params.size(); ++i)
    trained[i] =
        spec.params[i].trainable && !underPrefix(spec.params[i].name, freeze);
  TrainSettings t = spec.train;
  // A tiny learning rate keeps random weights from diverging over many
  // timed steps; the work is the same.
  t.lr = 1e-6;
  return [&spec, s, b, prepared, trained, t] {
    trainOn(spec, t, *s, *prepared, *b, t.lr, trained);
  };
}

int trainStep(const ModelSpec &spec, const StepOptions &o) {
  TrainSettings t = spec.train;
  if (o.lr > 0)
    t.lr = o.lr;
  State s;
  s.params = loadParams(spec, o.weights);
  allocateOptimizer(spec, t.optimizer, s);
  NamedTensor x = readNpy(o.input), y = readNpy(o.labels);
  if (x.shape.size() != spec.inputs[0].shape.size() + 1 ||
      std::vector<int64_t>(x.shape.begin() + 1, x.shape.end()) !=
          spec.inputs[0].shape)
    throw Error(o.input + ": shape " + shapeText(x.shape) + " is not [N] + " +
                shapeText(spec.inputs[0].shape));
  int64_t n = x.shape[0];
  if (y.shape != std::vector<int64_t>{n})
    throw Error(o.labels + ": labels must have shape [" + std::to_string(n) +
                "], got " + shapeText(y.shape));
  Batch batch;
  batch.images = makeBuffer(spec.inputs[0].shape, n);
  std::memcpy(batch.images.data(), x.data.data(), x.data.size() * 4);
  batch.labels = makeBuffer({}, n);
  for (int64_t i = 0; i < n; ++i) {
    batch.labels.data()[i] = y.data[i];
    batch.classes.push_back(int32_t(y.data[i]));
  }
  std::vector<bool> trained(spec.params.size());
  for (size_t i = 0; i < spec.params.size(); ++i)
    trained[i] = spec.params[i].trainable;
  std::vector<Buffer> results, prepared;
  StepOutcome r = trainOn(spec, t, s, prepared, batch, t.lr, trained, &results);
  std::vector<NamedTensor> out;
  for (size_t r = 0; r < results.size(); ++r) {
    NamedTensor nt{spec.trainResults[r].name, {}, {}};
    for (int d = results[r].dimensions() - 1; d >= 0; --d)
      nt.shape.push_back(results[r].dim(d).extent());
    nt.data.assign(results[r].data(),
                   results[r].data() + results[r].number_of_elements());
    out.push_back(std::move(nt));
  }
  writeSafeTensors(o.results, out);
  std::vector<NamedTensor> weights;
  for (size_t i = 0; i < spec.params.size(); ++i) {
    NamedTensor nt{spec.params[i].name, spec.params[i].shape, {}};
    nt.data.assign(s.params[i].data(),
                   s.params[i].data() + s.params[i].number_of_elements());
    weights.push_back(std::move(nt));
  }
  writeSafeTensors(o.updated, weights);
  std::cout << "loss " << std::setprecision(9) << r.loss << "\n";
  return 0;
}

} // namespace netc::rt
