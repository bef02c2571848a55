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
#include "Distributed.h"
#include "Error.h"
#include "Names.h"
#include "Npy.h"
#include "OutputFile.h"
#include "SafeTensors.h"
#include "StepGraph.h"

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

/// The optimizer's update of every trained parameter, in place: the
/// generated driver calls the update kernel on each.
void update(const ModelSpec &spec, const TrainSettings &t, State &s,
            std::vector<Buffer> &results, double lr,
            const std::vector<bool> &trained) {
  OptimizerStep h;
  h.lr = float(lr);
  h.momentum = float(t.momentum);
  h.weight_decay = float(t.weightDecay);
  h.nesterov = t.nesterov ? 1.0f : 0.0f;
  h.beta1 = float(t.beta1);
  h.beta2 = float(t.beta2);
  h.eps = float(t.eps);
  h.alpha = float(t.rmsAlpha);
  // Adam's bias corrections after s.step steps.
  h.correction1 = float(1.0 / (1.0 - std::pow(t.beta1, double(s.step))));
  h.correction2 = float(1.0 / (1.0 - std::pow(t.beta2, double(s.step))));
  spec.optimizerUpdate(s.params, results, s.optimizer, h, trained);
}

//===----------------------------------------------------------------------===//
// The step
//===----------------------------------------------------------------------===//

/// The dropout masks' key: the run's seed, the step, and the index in the
/// whole batch of this process's first sample, as floats below 2^24
/// (exact).
Buffer rngInput(int64_t seed, int64_t step, int64_t first) {
  Buffer rng = makeBuffer({3});
  rng.data()[0] = float(seed % (int64_t(1) << 24));
  rng.data()[1] = float(step % (int64_t(1) << 24));
  rng.data()[2] = float(first);
  return rng;
}

/// The training step's outputs, allocated for a batch of n.
std::vector<Buffer> resultBuffers(const ModelSpec &spec, int64_t n) {
  std::vector<Buffer> results;
  for (const TrainResultSpec &r : spec.trainResults)
    results.push_back(makeBuffer(r.shape, r.batched() ? n : -1));
  return results;
}

/// Whether the step computes result `r`: all but the gradients of
/// parameters that are not trained.
bool wanted(const TrainResultSpec &r, const std::vector<bool> &trained) {
  return r.kind != TrainResultSpec::Kind::Gradient || trained[r.param];
}

/// The steps of trainStep that lead to a wanted result.
std::vector<bool> stepsNeeded(const ModelSpec &spec,
                              const std::vector<bool> &trained) {
  std::vector<bool> results;
  for (const TrainResultSpec &r : spec.trainResults)
    results.push_back(wanted(r, trained));
  return stepsLeadingTo(spec.trainStepReads, spec.trainResultSteps, results);
}

/// Whether the parameter is trained: not a buffer, not under a frozen
/// prefix.
std::vector<bool> trainedParams(const ModelSpec &spec,
                                const std::vector<std::string> &freeze) {
  std::vector<bool> trained(spec.params.size());
  for (size_t i = 0; i < spec.params.size(); ++i)
    trained[i] = spec.params[i].trainable &&
                 !underAnyPrefix(spec.params[i].name, freeze);
  return trained;
}

struct StepOutcome {
  double loss = 0;
  int64_t correct = 0;
};

/// This process's part of a batch trained by several (or in chunks): the
/// whole batch's size and where this process's samples begin in it.
struct Part {
  DataParallel *parallel = nullptr;
  int64_t batch = 0, first = 0;
};

/// Runs the step, checks it, applies the optimizer and the running
/// statistics. Throws Error naming the first non-finite tensor. The step's
/// results (gradients, batch statistics, losses) go to `kept` when given.
StepOutcome trainOn(const ModelSpec &spec, const TrainSettings &t, State &s,
                    std::vector<Buffer> &prepared, Batch &batch, double lr,
                    const std::vector<bool> &trained,
                    std::vector<Buffer> *kept = nullptr, Part part = Part()) {
  int64_t n = batch.images.dim(batch.images.dimensions() - 1).extent();
  std::vector<Buffer> inputs = {batch.images};
  for (size_t k = 0; k < spec.lossWeights.size(); ++k)
    inputs.push_back(batch.labels);
  if (spec.trainTakesRng)
    inputs.push_back(rngInput(t.seed, s.step, part.first));
  std::vector<Buffer> results = resultBuffers(spec, n);
  spec.trainPrepare(s.params, prepared);
  if (part.parallel)
    part.parallel->step(s.params, prepared, inputs, results, part.batch,
                        stepsNeeded(spec, trained));
  else
    spec.trainStep(s.params, prepared, inputs, results,
                   stepsNeeded(spec, trained), [](int) {});
  s.step += 1;
  // The host reads the results: losses, scores, the gradients' check, the
  // batch statistics (on a GPU, from the device).
  for (Buffer &r : results)
    r.copy_to_host();
  // The batch statistics are the whole batch's when synchronized.
  int64_t statisticsOver =
      part.parallel && part.parallel->syncBn() ? part.batch : n;

  StepOutcome outcome;
  size_t term = 0;
  std::string where = "step " + std::to_string(s.step) + " (epoch " +
                      std::to_string(s.epoch + 1) + ")";
  using Kind = TrainResultSpec::Kind;
  for (size_t r = 0; r < spec.trainResults.size(); ++r) {
    const TrainResultSpec &result = spec.trainResults[r];
    Buffer &b = results[r];
    if (result.kind == Kind::Loss) {
      double total = 0;
      for (int64_t i = 0; i < n; ++i)
        total += b.data()[i];
      outcome.loss += spec.lossWeights[term++] * total / double(n);
      if (!std::isfinite(outcome.loss))
        throw Error(where + ": the loss '" + result.of + "' is not finite");
    } else if (result.kind == Kind::Scores) {
      int64_t classes = b.dim(0).extent();
      for (int64_t i = 0; i < n; ++i) {
        const float *v = b.data() + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; ++c)
          if (spec.scoresAreDistances ? v[c] < v[best] : v[c] > v[best])
            best = c;
        outcome.correct += best == batch.classes[i];
      }
    } else if (wanted(result, trained)) {
      const float *v = b.data();
      for (int64_t i = 0; i < int64_t(b.number_of_elements()); ++i)
        if (!std::isfinite(v[i]))
          throw Error(where + ": the gradient '" + result.label() +
                      "' is not finite (first at element " + std::to_string(i) +
                      ")");
    }
  }
  update(spec, t, s, results, lr, trained);
  // On a GPU the update kernel wrote the weights and the optimizer's state
  // there, through flat views.
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (trained[i]) {
      wroteOnDevice(s.params[i]);
      for (Buffer &b : s.optimizer[i])
        wroteOnDevice(b);
    }
  for (size_t r = 0; r < spec.trainResults.size(); ++r) {
    const TrainResultSpec &result = spec.trainResults[r];
    if (result.kind != Kind::BatchMean && result.kind != Kind::BatchVar)
      continue;
    bool var = result.kind == Kind::BatchVar;
    double momentum = 0.1;
    int64_t perSample = 1;
    for (const RunningStat &rs : spec.runningStats)
      if (rs.name == result.of)
        momentum = rs.momentum, perSample = rs.perSample;
    // PyTorch keeps the unbiased variance.
    double count = double(statisticsOver * perSample);
    double unbias = var && count > 1 ? count / (count - 1) : 1.0;
    s.params[result.param].copy_to_host();
    float *running = s.params[result.param].data();
    const float *batchStat = results[r].data();
    for (int64_t c = 0; c < int64_t(results[r].number_of_elements()); ++c)
      running[c] =
          float((1 - momentum) * running[c] + momentum * batchStat[c] * unbias);
    s.params[result.param].set_host_dirty();
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

/// The validation set's loss and top-1/top-5 accuracy; processes that
/// train together each score their share of it.
Validation validate(const ModelSpec &spec, State &s, const Dataset &data,
                    const std::vector<int64_t> &input,
                    const Augmentation &normalize, int64_t batch, Comm &peers) {
  std::vector<Buffer> prepared;
  spec.prepare(s.params, prepared);
  std::vector<int64_t> order(data.size());
  for (int64_t i = 0; i < data.size(); ++i)
    order[i] = i;
  int64_t classes = elementCount(spec.outputs[0].shape);
  Validation v;
  int64_t begin = data.size() * peers.rank() / peers.size();
  int64_t end = data.size() * (peers.rank() + 1) / peers.size();
  for (int64_t first = begin; first < end; first += batch) {
    int64_t n = std::min(batch, end - first);
    Batch b = makeBatch(data, order, first, n, input, nullptr, normalize, 0, 0);
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
  double sums[3] = {v.loss, v.top1, v.top5};
  peers.sum(sums, 3);
  v.loss = sums[0], v.top1 = sums[1], v.top5 = sums[2];
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

/// The weights and the optimizer's state on the host (on a GPU they are
/// updated on the device): before checkpoints and other host reads.
void toHost(State &s) {
  for (Buffer &b : s.params)
    b.copy_to_host();
  for (std::vector<Buffer> &states : s.optimizer)
    for (Buffer &b : states)
      b.copy_to_host();
}

/// Batch norm's running statistics, averaged over the processes when each
/// keeps its own (without --sync-bn): before validation and checkpoints.
void averageRunningStats(const ModelSpec &spec, State &s, Comm &peers,
                         const DataParallel *parallel) {
  if (peers.size() == 1 || !parallel || parallel->syncBn())
    return;
  std::vector<double> values;
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (!spec.params[i].trainable && s.params[i].data())
      values.insert(values.end(), s.params[i].data(),
                    s.params[i].data() + s.params[i].number_of_elements());
  peers.sum(values.data(), int64_t(values.size()));
  size_t at = 0;
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (!spec.params[i].trainable && s.params[i].data())
      for (float &v : s.params[i])
        v = float(values[at++] / double(peers.size()));
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (!spec.params[i].trainable && s.params[i].data())
      s.params[i].set_host_dirty();
}

/// Every process starts from process 0's state: its initialization, or
/// the --init or --resume file it read.
void shareState(TrainSettings &t, State &s, Comm &peers) {
  if (peers.size() == 1)
    return;
  int64_t counts[6] = {t.seed, s.epoch, s.batch, s.step, s.badEpochs, 0};
  peers.broadcast(counts, sizeof counts);
  t.seed = counts[0], s.epoch = counts[1], s.batch = counts[2];
  s.step = counts[3], s.badEpochs = counts[4];
  double reals[2] = {s.plateauLr, s.best};
  peers.broadcast(reals, sizeof reals);
  s.plateauLr = reals[0], s.best = reals[1];
  auto share = [&](Buffer &b) {
    if (b.data())
      peers.broadcast(b.data(), int64_t(b.number_of_elements() * 4));
  };
  for (Buffer &b : s.params)
    share(b);
  for (std::vector<Buffer> &states : s.optimizer)
    for (Buffer &b : states)
      share(b);
}

/// Refuses to train when the processes run different programs, models,
/// data or flags: they would wait for each other forever or silently
/// disagree.
void checkSameRun(const ModelSpec &spec, const TrainSettings &t,
                  const TrainOptions &o, int64_t samples, Comm &peers) {
  if (peers.size() == 1)
    return;
  uint64_t h = modelFingerprint(spec);
  for (int64_t v :
       {t.batch, t.epochs, o.maxBatches, samples, int64_t(o.parallel.syncBn),
        int64_t(o.parallel.deterministic), o.parallel.chunks,
        int64_t(o.parallel.bucketMiB * 1024)})
    h = mixSeed(h, uint64_t(v));
  int64_t mine = int64_t(h >> 1);
  int64_t highest = peers.max(mine), lowest = -peers.max(-mine);
  if (highest != lowest)
    throw Error("the " + std::to_string(peers.size()) +
                " processes were not started alike (program, model, "
                "training set, --batch, --epochs, --max-batches or the "
                "parallel flags differ); this one's fingerprint is " +
                std::to_string(mine));
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

namespace {

/// The training and validation sets, checked against the model.
struct TrainingData {
  Dataset train, test;
  bool validation = true;
};

TrainingData loadData(const ModelSpec &spec, const TrainSettings &t,
                      const std::string &data) {
  const std::vector<int64_t> &input = spec.inputs[0].shape;
  int64_t classes = elementCount(spec.outputs[0].shape);
  TrainingData d;
  if (data == "synthetic") {
    d.train = syntheticDataset(input, classes, 2048, t.seed);
    d.test = syntheticDataset(input, classes, 512, t.seed + 1);
  } else {
    int64_t side = t.cropSize ? t.cropSize : 0;
    int64_t h = side ? side : input[1], w = side ? side : input[2];
    d.train = readDataset(data, "train", input[0], h, w);
    try {
      d.test = readDataset(data, "test", input[0], h, w);
    } catch (const Error &e) {
      std::cerr << spec.name << ": note: no validation: " << e.what() << "\n";
      d.validation = false;
    }
  }
  std::vector<int64_t> stored = {d.train.channels, d.train.height,
                                 d.train.width};
  int64_t cropped = t.cropSize ? t.cropSize : 0;
  if (stored[0] != input[0] ||
      (cropped ? cropped != input[1] || cropped != input[2]
               : stored[1] < input[1] || stored[2] < input[2]))
    throw Error(data + ": " + d.train.description + " has images " +
                shapeText(stored) + ", the model's input '" +
                spec.inputs[0].name + "' is " + shapeText(input));
  if (cropped && (stored[1] + 2 * t.cropPad < cropped ||
                  stored[2] + 2 * t.cropPad < cropped))
    throw Error(data + ": " + d.train.description + " has images " +
                shapeText(stored) + ", too small for random_crop(" +
                std::to_string(cropped) + ", pad=" + std::to_string(t.cropPad) +
                ") even with the padding");
  if (d.train.size() == 0)
    throw Error(data + ": " + d.train.description + " has no images");
  if (d.validation && d.test.size() == 0) {
    std::cerr << spec.name << ": note: no validation: " << d.test.description
              << " has no images\n";
    d.validation = false;
  }
  // Every split's labels: a label past the model's classes would be
  // scored from memory past its outputs.
  for (const Dataset *split : {&d.train, &d.test}) {
    if (split == &d.test && !d.validation)
      continue;
    for (int32_t label : split->labels)
      if (label < 0 || label >= classes)
        throw Error(data + ": " + split->description + " has label " +
                    std::to_string(label) + ", beyond the model's " +
                    std::to_string(classes) + " classes");
  }
  return d;
}

/// The state to start from: initialized, or pretrained weights (--init),
/// or a checkpoint's weights, optimizer state and position (--resume).
State startingState(const ModelSpec &spec, TrainSettings &t,
                    const TrainOptions &o) {
  State s;
  s.params = initialParams(spec, uint64_t(t.seed));
  allocateOptimizer(spec, s);
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
  return s;
}

/// `--log`: one CSV row per epoch, appended when resuming.
class MetricsLog {
public:
  MetricsLog(const TrainOptions &o) {
    if (o.log.empty())
      return;
    bool fresh = o.resume.empty() || access(o.log.c_str(), F_OK) != 0;
    csv_.open(o.log, fresh ? std::ios::trunc : std::ios::app);
    if (!csv_)
      throw Error(o.log + ": cannot write the metrics file");
    if (fresh)
      csv_ << "epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,"
              "lr,seconds\n";
  }

  void row(int64_t epoch, int64_t step, double trainLoss, double trainTop1,
           const Validation &v, double lr, double seconds) {
    if (csv_)
      csv_ << epoch << "," << step << "," << std::setprecision(6) << trainLoss
           << "," << trainTop1 << "," << v.loss << "," << v.top1 << ","
           << v.top5 << "," << lr << "," << std::setprecision(3) << seconds
           << std::endl;
  }

private:
  std::ofstream csv_;
};

/// The progress line on a terminal: epoch, batch, images/s, loss, ETA, at
/// most five times a second.
class ProgressLine {
public:
  /// Shown by the process that reports (process 0 under mpirun).
  explicit ProgressLine(bool reports) : terminal_(reports && isatty(2)) {}

  /// After batch b: `images` of this epoch trained (by every process),
  /// `loss` the mean loss of this process's samples.
  void update(const TrainSettings &t, int64_t epoch, int64_t b,
              int64_t perEpoch, int64_t images, double loss, double elapsed) {
    if (!terminal_ || (now() - lastShown_ <= 0.2 && b + 1 != perEpoch))
      return;
    lastShown_ = now();
    double rate = double(images) / std::max(elapsed, 1e-9);
    double left = double((t.epochs - epoch) * perEpoch - b - 1) *
                  double(t.batch) / std::max(rate, 1e-9);
    std::cerr << "\repoch " << epoch + 1 << "/" << t.epochs << "  batch "
              << b + 1 << "/" << perEpoch << "  " << std::fixed
              << std::setprecision(0) << rate << " images/s  loss "
              << std::setprecision(4) << loss << "  ETA " << clock(left)
              << "   " << std::flush;
  }

  /// Ends the line, before other output.
  void end() {
    if (terminal_)
      std::cerr << "\n";
  }

private:
  bool terminal_;
  double lastShown_ = 0;
};

/// The plateau schedule's end of an epoch: reduce the rate when `metric`
/// (the validation loss, else the training loss) has not improved for
/// `patience` epochs.
void endEpochSchedule(const TrainSettings &t, State &s, double metric) {
  if (t.schedule != "plateau")
    return;
  if (s.plateauLr < 0)
    s.plateauLr = t.lr;
  if (metric < s.best * (1 - 1e-4)) {
    s.best = metric, s.badEpochs = 0;
  } else if (++s.badEpochs > t.patience) {
    s.plateauLr = std::max(s.plateauLr * t.gamma, t.minLr);
    s.badEpochs = 0;
  }
}

/// The checkpoint after an epoch: the position is the next epoch's start.
void saveEpochCheckpoint(const ModelSpec &spec, const TrainSettings &t,
                         State &s, const std::string &path) {
  s.epoch += 1;
  s.batch = 0;
  saveCheckpoint(spec, t, s, path);
  s.epoch -= 1;
}

/// The epoch's line: training and validation metrics, the rate.
void printEpoch(const TrainSettings &t, int64_t epoch, double trainLoss,
                double trainTop1, const Validation *v, double lr,
                double seconds) {
  std::cout << "epoch " << epoch + 1 << "/" << t.epochs << ": loss "
            << std::fixed << std::setprecision(4) << trainLoss
            << ", train top-1 " << std::setprecision(2) << trainTop1 << "%";
  if (v)
    std::cout << ", val loss " << std::setprecision(4) << v->loss
              << ", val top-1 " << std::setprecision(2) << v->top1
              << "%, top-5 " << v->top5 << "%";
  std::cout << ", lr " << std::defaultfloat << std::setprecision(4) << lr
            << ", " << std::fixed << std::setprecision(1) << seconds << " s"
            << std::endl;
}

} // namespace

int train(const ModelSpec &spec, const TrainOptions &o) {
  TrainSettings t = o.settings; // --resume takes the checkpoint's seed
  if (spec.inputs.size() != 1 || spec.inputs[0].shape.size() != 3)
    throw Error("train needs a model with one image input [C, H, W]");
  // Under mpirun, process 0 reads the starting state, reports and writes
  // the files; every process trains on its share of each batch.
  Comm &peers = comm();
  bool leader = peers.rank() == 0;
  // Where the results go, before any work.
  std::string save = o.save.empty() ? spec.name + ".safetensors" : o.save;
  if (leader) {
    checkWritable(save, "--save");
    if (!o.log.empty())
      checkWritable(o.log, "--log");
  }
  const std::vector<int64_t> &input = spec.inputs[0].shape;
  TrainingData data = loadData(spec, t, o.data);
  checkSameRun(spec, t, o, data.train.size(), peers);

  Augmentation augment, normalize;
  augment.cropSize = t.cropSize, augment.cropPad = t.cropPad;
  augment.hflip = t.hflip;
  normalize.mean = spec.mean, normalize.std = spec.std;

  TrainOptions starting = o;
  if (!leader)
    starting.init.clear(), starting.resume.clear();
  State s = startingState(spec, t, starting);
  shareState(t, s, peers);
  for (const std::string &prefix : t.freeze)
    if (std::none_of(
            spec.params.begin(), spec.params.end(),
            [&](const TensorSpec &p) { return underPrefix(p.name, prefix); }))
      throw Error(
          "--freeze " + prefix + ": no parameter is named '" + prefix +
          "' or starts with '" +
          (!prefix.empty() && prefix.back() == '.' ? prefix : prefix + ".") +
          "'; see '" + spec.name + " info'");
  std::vector<bool> trained = trainedParams(spec, t.freeze);
  int64_t trainedCount = 0;
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (trained[i])
      trainedCount += elementCount(spec.params[i].shape);
  TrainOptions logged = o;
  if (!leader)
    logged.log.clear();
  MetricsLog metrics(logged);

  if (s.epoch >= t.epochs) {
    if (leader)
      std::cout << spec.name << ": nothing to do: " << o.resume << " has "
                << s.epoch << " of " << t.epochs
                << " epochs (ask for more with --epochs)" << std::endl;
    return 0;
  }
  std::unique_ptr<DataParallel> parallel;
  if (peers.size() > 1 || o.parallel.deterministic)
    parallel = std::make_unique<DataParallel>(spec, peers, o.parallel, trained);
  // A last batch too small to give every chunk a sample is left out.
  int64_t chunks = parallel ? parallel->chunks() : 1;
  int64_t rest = data.train.size() % t.batch;
  int64_t perEpoch = data.train.size() / t.batch + (rest >= chunks ? 1 : 0);
  if (perEpoch == 0)
    throw Error(o.data + ": " + data.train.description +
                " has fewer images "
                "than the " +
                std::to_string(chunks) + " chunks each batch is cut into");
  if (o.maxBatches > 0)
    perEpoch = std::min(perEpoch, o.maxBatches);
  if (s.batch > 0 && s.batch >= perEpoch)
    throw Error(o.resume + ": the checkpoint stopped after batch " +
                std::to_string(s.batch) + " of an epoch, which has " +
                std::to_string(perEpoch) + " batches here");
  std::vector<bool> needed = stepsNeeded(spec, trained);
  int64_t skipped = std::count(needed.begin(), needed.end(), false);
  if (leader) {
    std::cerr << spec.name << ": training on " << data.train.description << ", "
              << perEpoch << " batches of " << t.batch << " per epoch, "
              << t.epochs << (t.epochs == 1 ? " epoch, " : " epochs, ")
              << t.optimizer << " lr " << t.lr << ", " << trainedCount
              << " trained parameters";
    if (skipped)
      std::cerr << " (" << skipped << " of " << needed.size()
                << " steps skipped: they lead only to frozen gradients)";
    std::cerr << "\n";
    if (parallel)
      std::cerr << spec.name << ": data-parallel over " << peers.size()
                << (peers.size() == 1 ? " process" : " processes") << ", "
                << parallel->chunks() << " chunks per batch"
                << (o.parallel.deterministic ? ", deterministic"
                    : parallel->syncBn()     ? ", batch norm synchronized"
                                             : "")
                << "\n";
  }
  double start = now(), lastSaved = now(), validating = 0;
  int64_t imagesDone = 0;
  std::vector<Buffer> prepared;
  ProgressLine progress(leader);
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
    std::vector<int64_t> order = shuffled(data.train.size(), t.seed, epoch);
    // Batch b's size, and this process's share of it.
    auto batchSize = [&](int64_t b) {
      return std::min(t.batch, data.train.size() - b * t.batch);
    };
    auto shareOf = [&](int64_t b) {
      return parallel ? parallel->share(batchSize(b))
                      : DataParallel::Share{0, batchSize(b)};
    };
    auto load = [&](int64_t b) {
      DataParallel::Share mine = shareOf(b);
      return makeBatch(data.train, order, b * t.batch + mine.first, mine.count,
                       input, &augment, normalize, uint64_t(t.seed), epoch);
    };
    // The next batch is prepared on a second thread while this one trains.
    std::future<Batch> next = std::async(std::launch::async, load, s.batch);
    double epochStart = now(), lossSum = 0, lr = 0;
    int64_t correct = 0, seen = 0, epochImages = 0;
    for (int64_t b = s.batch; b < perEpoch; ++b) {
      Batch batch = next.get();
      if (b + 1 < perEpoch)
        next = std::async(std::launch::async, load, b + 1);
      lr = learningRate(t, s, epoch, double(b) / double(perEpoch));
      int64_t n = int64_t(batch.classes.size());
      Part part{parallel.get(), batchSize(b), shareOf(b).first};
      StepOutcome r;
      try {
        r = trainOn(spec, t, s, prepared, batch, lr, trained, nullptr, part);
      } catch (const Error &e) {
        progress.end();
        throw Error(std::string(e.what()) + "; training stopped" +
                    (access(save.c_str(), F_OK) == 0
                         ? ", the last good checkpoint is " + save
                         : ""));
      }
      s.batch = b + 1;
      lossSum += r.loss * double(n);
      correct += r.correct;
      seen += n;
      imagesDone += part.batch;
      epochImages += part.batch;
      if (stopAfter >= 0 && s.step >= stopAfter)
        stopRequested = 1;
      bool last = b + 1 == perEpoch;
      // 2: stop (and save), 1: save; the processes decide together.
      int64_t action = stopRequested                              ? 2
                       : now() - lastSaved > 60.0 * o.saveMinutes ? 1
                                                                  : 0;
      if (parallel && peers.size() > 1 && !last)
        action = peers.max(action);
      if (!last && action) {
        // Within the epoch: the checkpoint holds the position, so that a
        // crash or a stop loses at most a few minutes.
        next.wait();
        averageRunningStats(spec, s, peers, parallel.get());
        toHost(s);
        if (leader)
          saveCheckpoint(spec, t, s, save);
        lastSaved = now();
        if (action == 2) {
          progress.end();
          if (leader)
            std::cerr << spec.name << ": stopped in epoch " << epoch + 1
                      << " after batch " << b + 1 << "; saved " << save
                      << "; continue with --resume " << save << "\n";
          return 130;
        }
      }
      progress.update(t, epoch, b, perEpoch, epochImages,
                      lossSum / double(seen), now() - epochStart);
    }
    progress.end();
    // The epoch's training metrics over every process's samples.
    double sums[3] = {lossSum, double(correct), double(seen)};
    peers.sum(sums, 3);
    double trainLoss = sums[0] / std::max(sums[2], 1.0);
    double trainTop1 = 100.0 * sums[1] / std::max(sums[2], 1.0);
    averageRunningStats(spec, s, peers, parallel.get());
    Validation v;
    if (data.validation) {
      double validationStart = now();
      v = validate(spec, s, data.test, input, normalize,
                   std::max<int64_t>(t.batch, 64), peers);
      validating += now() - validationStart;
    }
    endEpochSchedule(t, s, data.validation ? v.loss : trainLoss);
    toHost(s);
    if (leader)
      saveEpochCheckpoint(spec, t, s, save);
    s.batch = 0; // on every process: the next epoch starts at its beginning
    lastSaved = now();
    double seconds = now() - start;
    if (leader)
      printEpoch(t, epoch, trainLoss, trainTop1, data.validation ? &v : nullptr,
                 lr, seconds);
    metrics.row(epoch + 1, s.step, trainLoss, trainTop1, v, lr, seconds);
  }
  if (!leader)
    return 0;
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

TrainingStep makeTrainingStep(const ModelSpec &spec,
                              const std::vector<Buffer> &params, int64_t batch,
                              const std::vector<std::string> &freeze,
                              double bucketMiB) {
  auto s = std::make_shared<State>();
  for (const Buffer &p : params)
    s->params.push_back(p.data() ? p.copy() : Buffer());
  allocateOptimizer(spec, *s);
  std::vector<bool> trained = trainedParams(spec, freeze);
  TrainingStep step;
  Part part{nullptr, batch, 0};
  int64_t count = batch;
  if (comm().size() > 1) {
    ParallelSettings settings;
    settings.bucketMiB = bucketMiB;
    step.parallel =
        std::make_shared<DataParallel>(spec, comm(), settings, trained);
    if (batch < step.parallel->chunks())
      throw Error("--batch " + std::to_string(batch) + " is smaller than the " +
                  std::to_string(comm().size()) + " processes");
    DataParallel::Share mine = step.parallel->share(batch);
    part = Part{step.parallel.get(), batch, mine.first};
    count = mine.count;
  }
  const std::vector<int64_t> &input = spec.inputs[0].shape;
  int64_t classes = elementCount(spec.outputs[0].shape);
  auto data = std::make_shared<Dataset>(
      syntheticDataset(input, classes, count, uint64_t(spec.train.seed)));
  std::vector<int64_t> order(count);
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  auto b = std::make_shared<Batch>(
      makeBatch(*data, order, 0, count, input, nullptr, Augmentation(), 0, 0));
  auto prepared = std::make_shared<std::vector<Buffer>>();
  TrainSettings t = spec.train;
  // A tiny learning rate keeps random weights from diverging over many
  // timed steps; the work is the same.
  t.lr = 1e-6;
  step.run = [&spec, s, b, prepared, trained, t, part] {
    trainOn(spec, t, *s, *prepared, *b, t.lr, trained, nullptr, part);
  };
  return step;
}

int trainStep(const ModelSpec &spec, const StepOptions &o) {
  const TrainSettings &t = o.settings;
  Comm &peers = comm();
  bool leader = peers.rank() == 0;
  if (leader) {
    checkWritable(o.results, "--results");
    checkWritable(o.updated, "--updated");
  }
  State s;
  s.params = loadParams(spec, o.weights);
  allocateOptimizer(spec, s);
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
  std::vector<bool> trained = trainedParams(spec, {});
  std::unique_ptr<DataParallel> parallel;
  DataParallel::Share mine{0, n};
  if (peers.size() > 1 || o.parallel.deterministic) {
    parallel = std::make_unique<DataParallel>(spec, peers, o.parallel, trained);
    if (n < parallel->chunks())
      throw Error(o.input + ": " + std::to_string(n) +
                  " samples cannot be cut into " +
                  std::to_string(parallel->chunks()) + " chunks");
    mine = parallel->share(n);
  }
  int64_t per = elementCount(spec.inputs[0].shape);
  Batch batch;
  batch.images = makeBuffer(spec.inputs[0].shape, mine.count);
  std::memcpy(batch.images.data(), x.data.data() + mine.first * per,
              size_t(mine.count * per) * 4);
  batch.labels = makeBuffer({}, mine.count);
  for (int64_t i = 0; i < mine.count; ++i) {
    batch.labels.data()[i] = y.data[size_t(mine.first + i)];
    batch.classes.push_back(int32_t(y.data[size_t(mine.first + i)]));
  }
  std::vector<Buffer> results, prepared;
  StepOutcome r = trainOn(spec, t, s, prepared, batch, t.lr, trained, &results,
                          Part{parallel.get(), n, mine.first});
  averageRunningStats(spec, s, peers, parallel.get());
  toHost(s);
  if (!leader)
    return 0;
  std::vector<NamedTensor> out;
  for (size_t r = 0; r < results.size(); ++r) {
    NamedTensor nt{spec.trainResults[r].label(), {}, {}};
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
