//===- Batches.cpp - Shuffled, augmented training batches -----------------===//

#include "Batches.h"

#include "Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace netc::rt {

uint64_t mixSeed(uint64_t a, uint64_t b, uint64_t c) {
  auto step = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  return step(step(step(a) ^ b) ^ c);
}

uint64_t Random::next() {
  state_ += 0x9e3779b97f4a7c15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float Random::uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }

int64_t Random::below(int64_t n) { return int64_t(next() % uint64_t(n)); }

float Random::normal() {
  // Box-Muller; 1 - u keeps the logarithm finite.
  float u = 1.0f - uniform(), v = uniform();
  return std::sqrt(-2.0f * std::log(u)) * std::cos(6.2831853f * v);
}

std::vector<int64_t> shuffled(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(count);
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  Random random(mixSeed(seed, 0x5348554646ull, uint64_t(epoch)));
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(order[i], order[random.below(i + 1)]);
  return order;
}

Batch makeBatch(const Dataset &data, const std::vector<int64_t> &order,
                int64_t first, int64_t n, const std::vector<int64_t> &input,
                const Augmentation *augment, const Augmentation &normalize,
                uint64_t seed, int64_t epoch) {
  int64_t C = input[0], H = input[1], W = input[2];
  int64_t h = data.height, w = data.width;
  Batch out;
  out.images = makeBuffer(input, n);
  out.labels = makeBuffer({}, n);
  out.classes.resize(n);
  int64_t pad = augment ? augment->cropPad : 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t sample = order[first + i];
    Random random(mixSeed(seed, uint64_t(epoch) + 1, uint64_t(first + i)));
    const float *src = data.images.data() + sample * C * h * w;
    float *dst = out.images.data() + i * C * H * W;
    // The window of the (zero-padded) image that becomes the input.
    int64_t top = (h - H) / 2, left = (w - W) / 2;
    if (augment && augment->cropSize) {
      top = random.below(h + 2 * pad - H + 1) - pad;
      left = random.below(w + 2 * pad - W + 1) - pad;
    }
    bool flip = augment && augment->hflip && random.uniform() < 0.5f;
    for (int64_t c = 0; c < C; ++c) {
      float mean = normalize.mean.empty() ? 0.0f : normalize.mean[c];
      float scale = normalize.std.empty() ? 1.0f : 1.0f / normalize.std[c];
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          int64_t sy = y + top, sx = (flip ? W - 1 - x : x) + left;
          float v = sy >= 0 && sy < h && sx >= 0 && sx < w
                        ? src[(c * h + sy) * w + sx]
                        : 0.0f;
          dst[(c * H + y) * W + x] = (v - mean) * scale;
        }
    }
    out.classes[i] = data.labels[sample];
    out.labels.data()[i] = float(data.labels[sample]);
  }
  return out;
}

Dataset syntheticDataset(const std::vector<int64_t> &input, int64_t classes,
                         int64_t count, uint64_t seed) {
  Dataset d;
  d.description = "synthetic (" + std::to_string(count) + " images)";
  d.channels = input[0], d.height = input[1], d.width = input[2];
  int64_t size = d.channels * d.height * d.width;
  d.images.resize(size_t(count * size));
  d.labels.resize(size_t(count));
  // Labels: the best of `classes` random projections of the image's mean
  // over each of `features` runs of values, so that they can be learnt
  // and cost little to make for large images and many classes.
  Random random(mixSeed(seed, 0x53594e54ull));
  int64_t features = std::min<int64_t>(size, 64);
  std::vector<float> projection(size_t(classes * features));
  for (float &p : projection)
    p = random.normal();
  std::vector<double> mean(static_cast<size_t>(features));
  for (int64_t i = 0; i < count; ++i) {
    float *image = d.images.data() + i * size;
    for (int64_t j = 0; j < size; ++j)
      image[j] = random.uniform();
    for (int64_t f = 0; f < features; ++f) {
      int64_t begin = f * size / features, end = (f + 1) * size / features;
      double sum = 0;
      for (int64_t j = begin; j < end; ++j)
        sum += image[j] - 0.5f;
      mean[f] = sum / double(end - begin);
    }
    int32_t best = 0;
    double bestScore = -1e300;
    for (int64_t k = 0; k < classes; ++k) {
      double score = 0;
      for (int64_t f = 0; f < features; ++f)
        score += projection[k * features + f] * mean[f];
      if (score > bestScore)
        bestScore = score, best = int32_t(k);
    }
    d.labels[i] = best;
  }
  return d;
}

} // namespace netc::rt
