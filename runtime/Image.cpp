//===- Image.cpp - Images as network inputs -------------------------------===//

#include "Image.h"

#include "Error.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace netc::rt {

NamedTensor readImage(const std::string &path, int channels, int height,
                      int width, const std::vector<float> &mean,
                      const std::vector<float> &std) {
  if (channels != 1 && channels != 3)
    throw Error(path + ": the model takes " + std::to_string(channels) +
                "-channel inputs; images give 1 (gray) or 3 (RGB)");
  int w = 0, h = 0, found = 0;
  std::unique_ptr<unsigned char, void (*)(void *)> pixels(
      stbi_load(path.c_str(), &w, &h, &found, channels), stbi_image_free);
  if (!pixels) {
    // stb_image leaves no reason for some corrupt data.
    const char *why = stbi_failure_reason();
    throw Error(path + ": cannot read the image: " +
                (why ? why : "corrupt or unsupported data"));
  }

  NamedTensor tensor;
  tensor.name = path;
  tensor.shape = {1, channels, height, width};
  tensor.data.resize(size_t(channels) * height * width);
  // Bilinear resampling with pixel centres aligned (the identity when the
  // sizes agree).
  float sy = float(h) / height, sx = float(w) / width;
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y) {
      float fy = std::clamp((y + 0.5f) * sy - 0.5f, 0.0f, float(h - 1));
      int y0 = int(fy), y1 = std::min(y0 + 1, h - 1);
      float wy = fy - y0;
      for (int x = 0; x < width; ++x) {
        float fx = std::clamp((x + 0.5f) * sx - 0.5f, 0.0f, float(w - 1));
        int x0 = int(fx), x1 = std::min(x0 + 1, w - 1);
        float wx = fx - x0;
        auto at = [&](int yy, int xx) {
          return pixels.get()[(size_t(yy) * w + xx) * channels + c] / 255.0f;
        };
        float v = (at(y0, x0) * (1 - wx) + at(y0, x1) * wx) * (1 - wy) +
                  (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy;
        if (!mean.empty())
          v = (v - mean[c]) / std[c];
        tensor.data[(size_t(c) * height + y) * width + x] = v;
      }
    }
  return tensor;
}

} // namespace netc::rt
