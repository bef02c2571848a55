//===- TrainState.cpp - Weights, optimizer state and checkpoints ----------===//

#include "TrainState.h"

#include "Batches.h"
#include "Error.h"
#include "SafeTensors.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace netc::rt {

/// PyTorch's default initialization of each layer type, from the seed.
std::vector<Buffer> initialParams(const ModelSpec &spec, uint64_t seed) {
  Random random(mixSeed(seed, 0x494e4954ull));
  std::vector<Buffer> params;
  for (const TensorSpec &t : spec.params) {
    Buffer b = makeBuffer(t.shape);
    float bound = 1.0f / std::sqrt(float(t.fanIn));
    b.for_each_value([&](float &v) {
      switch (t.init) {
      case Init::Zeros:
        v = 0.0f;
        break;
      case Init::Ones:
        v = 1.0f;
        break;
      case Init::Normal:
        v = random.normal();
        break;
      case Init::Uniform:
        v = (2.0f * random.uniform() - 1.0f) * bound;
        break;
      }
    });
    params.push_back(std::move(b));
  }
  return params;
}

void allocateOptimizer(const ModelSpec &spec, State &s) {
  s.optimizer.assign(spec.params.size(), {});
  for (size_t i = 0; i < spec.params.size(); ++i)
    if (spec.params[i].trainable)
      for (int k = 0; k < spec.optimizerStates; ++k) {
        Buffer b = makeBuffer(spec.params[i].shape);
        b.fill(0.0f);
        s.optimizer[i].push_back(std::move(b));
      }
}

namespace {

std::string stateName(int k, const std::string &param) {
  return "optimizer." + std::string(k == 0 ? "state1." : "state2.") + param;
}

} // namespace

void saveCheckpoint(const ModelSpec &spec, const TrainSettings &t,
                    const State &s, const std::string &path) {
  std::vector<NamedTensor> tensors;
  auto add = [&](const std::string &name, const Buffer &b,
                 const std::vector<int64_t> &shape) {
    NamedTensor n{name, shape, {}};
    n.data.assign(b.data(), b.data() + b.number_of_elements());
    tensors.push_back(std::move(n));
  };
  for (size_t i = 0; i < spec.params.size(); ++i)
    add(spec.params[i].name, s.params[i], spec.params[i].shape);
  for (size_t i = 0; i < spec.params.size(); ++i)
    for (size_t k = 0; k < s.optimizer[i].size(); ++k)
      add(stateName(int(k), spec.params[i].name), s.optimizer[i][k],
          spec.params[i].shape);
  std::ostringstream best;
  best << std::setprecision(17) << s.best;
  std::ostringstream lr;
  lr << std::setprecision(17) << s.plateauLr;
  writeSafeTensors(path, tensors,
                   {{"format", "pt"},
                    {"netc.model", spec.name},
                    {"netc.optimizer", t.optimizer},
                    {"netc.seed", std::to_string(t.seed)},
                    {"netc.epoch", std::to_string(s.epoch)},
                    {"netc.batch", std::to_string(s.batch)},
                    {"netc.batch_size", std::to_string(t.batch)},
                    {"netc.step", std::to_string(s.step)},
                    {"netc.plateau_lr", lr.str()},
                    {"netc.best", best.str()},
                    {"netc.bad_epochs", std::to_string(s.badEpochs)}});
}

/// Weights, optimizer state and position from a checkpoint of this model.
void loadCheckpoint(const ModelSpec &spec, TrainSettings &t, State &s,
                    const std::string &path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> tensors = readSafeTensors(path, &meta);
  if (!meta.count("netc.epoch"))
    throw Error(path + ": not a netc checkpoint (no training position); use "
                       "--init to start from its weights");
  if (meta["netc.model"] != spec.name)
    throw Error(path + ": a checkpoint of model '" + meta["netc.model"] +
                "', not '" + spec.name + "'");
  if (meta["netc.optimizer"] != t.optimizer)
    throw Error(path + ": the checkpoint's optimizer is " +
                meta["netc.optimizer"] + ", the model's " + t.optimizer);
  std::map<std::string, const NamedTensor *> byName;
  for (const NamedTensor &n : tensors)
    byName[n.name] = &n;
  auto fill = [&](const std::string &name, Buffer &b,
                  const std::vector<int64_t> &shape) {
    auto it = byName.find(name);
    if (it == byName.end())
      throw Error(path + ": missing tensor '" + name + "'");
    if (it->second->shape != shape)
      throw Error(path + ": tensor '" + name + "' has shape " +
                  shapeText(it->second->shape) + ", expected " +
                  shapeText(shape));
    std::memcpy(b.data(), it->second->data.data(),
                it->second->data.size() * sizeof(float));
  };
  for (size_t i = 0; i < spec.params.size(); ++i) {
    fill(spec.params[i].name, s.params[i], spec.params[i].shape);
    for (size_t k = 0; k < s.optimizer[i].size(); ++k)
      fill(stateName(int(k), spec.params[i].name), s.optimizer[i][k],
           spec.params[i].shape);
  }
  // The position, checked: the metadata is text anyone may have edited.
  auto integer = [&](const char *key, int64_t lowest, int64_t fallback) {
    auto it = meta.find(key);
    if (it == meta.end()) {
      if (fallback != INT64_MIN)
        return fallback;
      throw Error(path + ": the checkpoint's metadata lacks '" + key + "'");
    }
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end || errno || value < lowest)
      throw Error(path + ": the checkpoint's '" + key + "' is \"" +
                  it->second.substr(0, 32) + "\", not an integer of at least " +
                  std::to_string(lowest));
    return int64_t(value);
  };
  auto number = [&](const char *key) {
    auto it = meta.find(key);
    if (it == meta.end())
      throw Error(path + ": the checkpoint's metadata lacks '" + key + "'");
    errno = 0;
    char *end = nullptr;
    double value = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end || errno == EINVAL || std::isnan(value))
      throw Error(path + ": the checkpoint's '" + key + "' is \"" +
                  it->second.substr(0, 32) + "\", not a number");
    return value;
  };
  t.seed = integer("netc.seed", 0, INT64_MIN);
  s.epoch = integer("netc.epoch", 0, INT64_MIN);
  s.batch = integer("netc.batch", 0, 0);
  if (s.batch > 0 && integer("netc.batch_size", 1, INT64_MIN) != t.batch)
    throw Error(path + ": stopped within an epoch with batches of " +
                meta["netc.batch_size"] + "; resume it with --batch " +
                meta["netc.batch_size"]);
  s.step = integer("netc.step", 0, INT64_MIN);
  s.plateauLr = number("netc.plateau_lr");
  s.best = number("netc.best");
  s.badEpochs = integer("netc.bad_epochs", 0, INT64_MIN);
}

/// Pretrained weights by name; reports what was loaded and what not.
void loadPretrained(const ModelSpec &spec, State &s, const std::string &path) {
  std::vector<NamedTensor> tensors = readSafeTensors(path);
  std::map<std::string, const NamedTensor *> byName;
  for (const NamedTensor &n : tensors)
    byName[n.name] = &n;
  int loaded = 0;
  std::vector<std::string> skipped, initial;
  for (size_t i = 0; i < spec.params.size(); ++i) {
    auto it = byName.find(spec.params[i].name);
    if (it == byName.end()) {
      initial.push_back(spec.params[i].name);
      continue;
    }
    if (it->second->shape != spec.params[i].shape) {
      skipped.push_back(spec.params[i].name + " " +
                        shapeText(it->second->shape) + " (the model has " +
                        shapeText(spec.params[i].shape) + ")");
      byName.erase(it);
      continue;
    }
    std::memcpy(s.params[i].data(), it->second->data.data(),
                it->second->data.size() * sizeof(float));
    byName.erase(it);
    ++loaded;
  }
  std::cerr << spec.name << ": --init " << path << ": loaded " << loaded
            << " of " << spec.params.size() << " tensors\n";
  for (const std::string &name : skipped)
    std::cerr << "  skipped (shape differs): " << name << "\n";
  for (const std::string &name : initial)
    std::cerr << "  left at initialization: " << name << "\n";
  for (const auto &[name, tensor] : byName)
    std::cerr << "  ignored (not in the model): " << name << "\n";
}

} // namespace netc::rt
