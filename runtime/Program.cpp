//===- Program.cpp - Buffers, weights and profiling of generated programs -===//

#include "Program.h"

#include "Error.h"
#include "SafeTensors.h"
#include "ThreadPool.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>

namespace netc::rt {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string TrainResultSpec::label() const {
  switch (kind) {
  case Kind::Loss:
    return "loss:" + of;
  case Kind::Scores:
    return "scores:" + of;
  case Kind::Gradient:
    return "grad:" + of;
  case Kind::BatchMean:
    return "mean:" + of;
  case Kind::BatchVar:
    return "var:" + of;
  }
  return of;
}

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Buffer makeBuffer(const std::vector<int64_t> &shape, int64_t batch) {
  std::vector<int> extents;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    extents.push_back(static_cast<int>(*it));
  if (batch >= 0)
    extents.push_back(static_cast<int>(batch));
  Buffer b(extents);
  // Callers write the host memory directly: on a GPU, it is what the
  // first kernel to read the buffer copies to the device.
  b.set_host_dirty();
  return b;
}

float *arena(int64_t floats) {
  struct Block {
    float *data = nullptr;
    int64_t size = 0;
    ~Block() { std::free(data); }
  };
  thread_local Block block;
  if (floats > block.size) {
    std::free(block.data);
    size_t bytes = (size_t(floats) * sizeof(float) + 63) / 64 * 64;
    block.data = static_cast<float *>(std::aligned_alloc(64, bytes));
    if (!block.data)
      throw Error("out of memory: the activations need " +
                  std::to_string(bytes >> 20) + " MiB");
    block.size = floats;
  }
  return block.data;
}

Buffer view(float *data, const std::vector<int64_t> &shape, int64_t batch) {
  std::vector<int> extents;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    extents.push_back(static_cast<int>(*it));
  extents.push_back(static_cast<int>(batch));
  Buffer b(data, extents);
  b.set_host_dirty(); // as makeBuffer's
  return b;
}

namespace {
const halide_device_interface_t *gpu = nullptr;
} // namespace

void setDevice(const halide_device_interface_t *device) { gpu = device; }

namespace {

/// `src`'s host and device memory with other dimensions (the device memory
/// allocated now if need be), with `src`'s flags: a kernel reads it where
/// it is current. The view does not own the device memory.
Buffer deviceView(Buffer &src, std::vector<halide_dimension_t> dims) {
  if (!src.has_device_allocation())
    src.device_malloc(gpu);
  halide_buffer_t raw = *src.raw_buffer();
  raw.dimensions = int32_t(dims.size());
  raw.dim = dims.data();
  return Buffer(raw, Halide::Runtime::BufferDeviceOwnership::Unmanaged);
}

} // namespace

Buffer reshape(Buffer &src, const std::vector<int64_t> &shape, int64_t batch) {
  if (!gpu)
    return view(src.data(), shape, batch);
  std::vector<halide_dimension_t> dims;
  int64_t stride = 1;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
    dims.push_back({0, int32_t(*it), int32_t(stride), 0});
    stride *= *it;
  }
  dims.push_back({0, int32_t(batch), int32_t(stride), 0});
  return deviceView(src, dims);
}

Buffer flat(Buffer &b) {
  int32_t count = int32_t(b.number_of_elements());
  if (!gpu)
    return Buffer(b.data(), count);
  return deviceView(b, {{0, count, 1, 0}});
}

void wroteOnDevice(Buffer &b) {
  if (!gpu || !b.has_device_allocation())
    return;
  b.raw_buffer()->set_host_dirty(false);
  b.raw_buffer()->set_device_dirty(true);
}

ResultView::ResultView(Buffer &dst, const std::vector<int64_t> &shape,
                       int64_t batch)
    : dst_(dst), view_(reshape(dst, shape, batch)) {
  // The kernel writes all of it: nothing to copy to the device first.
  if (gpu)
    view_.raw_buffer()->set_host_dirty(false);
}

ResultView::~ResultView() {
  // What the kernel wrote through the view is `dst`'s, on the device.
  if (view_.device_dirty())
    wroteOnDevice(dst_);
}

void copyInto(Buffer &dst, Buffer &src) {
  src.copy_to_host();
  dst.copy_to_host();
  dst.copy_from(src);
  dst.raw_buffer()->set_host_dirty(true);
}

bool runsOnDevice(const ModelSpec &spec) { return spec.device != nullptr; }

Profile &profile() {
  static Profile instance;
  return instance;
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Profile::add(const char *layer, const char *op, double seconds) {
  // Layers run in the same order every time: look near the last position.
  static size_t cursor = 0;
  auto matches = [&](const Entry &e) { return e.layer == layer && e.op == op; };
  if (cursor >= entries.size() || !matches(entries[cursor])) {
    cursor = 0;
    while (cursor < entries.size() && !matches(entries[cursor]))
      ++cursor;
    if (cursor == entries.size())
      entries.push_back({layer, op, 0, 0, {}});
  }
  entries[cursor].seconds += seconds;
  entries[cursor].calls += 1;
  entries[cursor].samples.push_back(seconds);
  ++cursor;
}

double Profile::Entry::median() const {
  if (samples.empty())
    return 0;
  std::vector<double> sorted = samples;
  auto middle = sorted.begin() + sorted.size() / 2;
  std::nth_element(sorted.begin(), middle, sorted.end());
  return *middle;
}

double Profile::Entry::fastest() const {
  return samples.empty() ? 0
                         : *std::min_element(samples.begin(), samples.end());
}

namespace {

/// Runs samples [first, first + count) of the batch through the network, in
/// chunks of at most `limit` samples (0: any) of about equal size.
void runSamples(const ModelSpec &spec, std::vector<Buffer> &params,
                std::vector<Buffer> &prepared, std::vector<Buffer> &inputs,
                std::vector<Buffer> &outputs, int64_t first, int64_t count,
                int64_t limit) {
  if (count <= 0)
    return;
  if (limit <= 0)
    limit = count;
  int64_t chunks = (count + limit - 1) / limit;
  int64_t chunk = (count + chunks - 1) / chunks;
  for (int64_t begin = first; begin < first + count; begin += chunk) {
    int64_t n = std::min(chunk, first + count - begin);
    auto slice = [&](std::vector<Buffer> &buffers,
                     const std::vector<TensorSpec> &specs) {
      std::vector<Buffer> views;
      for (size_t i = 0; i < buffers.size(); ++i) {
        const std::vector<int64_t> &shape = specs[i].shape;
        views.push_back(
            view(buffers[i].data() + begin * elementCount(shape), shape, n));
      }
      return views;
    };
    std::vector<Buffer> in = slice(inputs, spec.inputs);
    std::vector<Buffer> out = slice(outputs, spec.outputs);
    spec.forward(params, prepared, in, out);
    // On a GPU the outputs are written on the device.
    for (Buffer &b : out)
      b.copy_to_host();
  }
}

} // namespace

void runForward(const ModelSpec &spec, std::vector<Buffer> &params,
                std::vector<Buffer> &prepared, std::vector<Buffer> &inputs,
                std::vector<Buffer> &outputs) {
  int64_t batch =
      inputs.empty() ? 0 : inputs[0].dim(inputs[0].dimensions() - 1).extent();
  int64_t threads = poolThreads();
  // A GPU runs one stream of samples: the host threads only launch kernels.
  if (runsOnDevice(spec))
    threads = 1;
  if (threads > 1 && batch >= threads &&
      (batch % threads == 0 || batch >= 4 * threads)) {
    // The streams' activations together stay within the chunk's budget.
    int64_t limit = spec.forwardChunk > 0
                        ? std::max<int64_t>(1, spec.forwardChunk / threads)
                        : 0;
    parallelFor(int(threads), [&](int stream) {
      int64_t first = batch * stream / threads;
      int64_t last = batch * (stream + 1) / threads;
      runSamples(spec, params, prepared, inputs, outputs, first, last - first,
                 limit);
    });
    return;
  }
  runSamples(spec, params, prepared, inputs, outputs, 0, batch,
             spec.forwardChunk);
}

namespace {

/// The last message of Halide's runtime on this thread (its default
/// handler prints it and aborts the program).
thread_local std::string halideMessage;

void recordHalideError(void *, const char *message) {
  halideMessage = message ? message : "";
  while (!halideMessage.empty() &&
         (halideMessage.back() == '\n' || halideMessage.back() == ' '))
    halideMessage.pop_back();
}

} // namespace

void catchHalideErrors() { halide_set_error_handler(recordHalideError); }

void checkKernel(int status, const char *layer) {
  if (status == 0)
    return;
  std::string why = halideMessage.empty()
                        ? "Halide error " + std::to_string(status)
                        : halideMessage;
  halideMessage.clear();
  throw Error(std::string("the kernel of layer '") + layer +
              "' failed: " + why);
}

std::vector<Buffer> loadParams(const ModelSpec &spec, const std::string &path) {
  std::vector<NamedTensor> tensors = readSafeTensors(path);
  std::map<std::string, NamedTensor *> byName;
  for (NamedTensor &t : tensors)
    byName[t.name] = &t;
  std::vector<Buffer> params;
  std::vector<std::string> missing;
  for (const TensorSpec &p : spec.params) {
    auto it = byName.find(p.name);
    if (it == byName.end()) {
      if (p.unused)
        params.emplace_back(); // never read
      else
        missing.push_back(p.name);
      continue;
    }
    const NamedTensor &t = *it->second;
    if (t.shape != p.shape)
      throw Error(path + ": tensor '" + p.name + "' has shape " +
                  shapeText(t.shape) + ", the model expects " +
                  shapeText(p.shape));
    Buffer buffer = makeBuffer(p.shape);
    std::memcpy(buffer.data(), t.data.data(), t.data.size() * sizeof(float));
    params.push_back(std::move(buffer));
    byName.erase(it);
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i)
      list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5)
      list += ", … (" + std::to_string(missing.size()) + " in all)";
    throw Error(path + ": missing tensor" + (missing.size() > 1 ? "s " : " ") +
                list + "; see '" + spec.name + " info' for the expected names");
  }
  // PyTorch's batch counters and the optimizer state of training
  // checkpoints are not weights.
  for (const auto &[name, tensor] : byName)
    if (name.compare(0, 10, "optimizer.") != 0 &&
        (name.size() < 20 ||
         name.compare(name.size() - 20, 20, ".num_batches_tracked") != 0))
      throw Error(path + ": unexpected tensor '" + name +
                  "', which the model does not have");
  return params;
}

} // namespace netc::rt
