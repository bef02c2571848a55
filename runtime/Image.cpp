//===- Image.cpp - Images as network inputs -------------------------------===//

#include "Image.h"

#include "Error.h"
#include "Jpeg.h"

#include <stb/stb_image.h> // implemented in StbImage.cpp

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>

namespace netc::rt {

namespace {

/// `pixels` (w x h, `channels` interleaved, 8-bit) resampled to the model's
/// height x width, as a [1, C, H, W] tensor, normalized when asked.
NamedTensor resampled(const std::string &path, const unsigned char *pixels,
                      int w, int h, int channels, int height, int width,
                      const std::vector<float> &mean,
                      const std::vector<float> &std);

/// PPM and PGM files are checked before stb_image reads them: it reads
/// past its buffer on 16-bit ones (maxval above 255) and fills truncated
/// ones with zeros.
void checkPnm(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {0, 0};
  if (!in.read(magic, 2) || magic[0] != 'P' ||
      (magic[1] != '5' && magic[1] != '6'))
    return; // not a binary PPM or PGM
  // Width, height and maxval: decimal numbers separated by white space, with
  // `#` comments to the end of the line.
  int64_t values[3] = {0, 0, 0};
  for (int64_t &value : values) {
    // White space and `#` comments (to the end of the line) before it; the
    // character that ends a number is not consumed, as stb_image reads it.
    while (in.peek() != EOF && (std::isspace(in.peek()) || in.peek() == '#')) {
      if (in.get() == '#')
        while (in.peek() != EOF && in.peek() != '\n')
          in.get();
    }
    if (in.peek() == EOF || !std::isdigit(in.peek()))
      throw Error(path + ": cannot read the image: a malformed PNM header");
    while (in.peek() != EOF && std::isdigit(in.peek())) {
      value = value * 10 + (in.get() - '0');
      if (value > (int64_t(1) << 24))
        throw Error(path + ": cannot read the image: a PNM size too large");
    }
  }
  in.get(); // the single white space character before the pixels
  if (values[2] < 1 || values[2] > 255)
    throw Error(path + ": cannot read the image: PNM maxval " +
                std::to_string(values[2]) +
                "; netc reads 8-bit PPM and PGM images (maxval 1 to 255)");
  int64_t bytes = values[0] * values[1] * (magic[1] == '6' ? 3 : 1);
  std::streamoff start = in.tellg();
  in.seekg(0, std::ios::end);
  std::streamoff have = in.tellg() - start;
  if (have < bytes)
    throw Error(path + ": cannot read the image: truncated (" +
                std::to_string(values[0]) + "x" + std::to_string(values[1]) +
                " needs " + std::to_string(bytes) +
                " bytes of pixels, the file "
                "has " +
                std::to_string(have) + ")");
}

/// PNG files are checked before stb_image reads them: it allocates what a
/// data chunk's length claims (up to 2 GiB) before finding the file too
/// short. Every chunk must lie within the file, up to the image's end.
void checkPng(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  int64_t size = in ? int64_t(in.tellg()) : 0;
  in.seekg(0);
  static const unsigned char signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};
  unsigned char head[8];
  if (!in.read(reinterpret_cast<char *>(head), 8) ||
      !std::equal(head, head + 8, signature))
    return; // not a PNG
  for (int64_t at = 8; at < size;) {
    unsigned char chunk[8]; // length (big-endian) and type
    if (size - at < 12 || !in.read(reinterpret_cast<char *>(chunk), 8))
      break;
    int64_t length = int64_t(chunk[0]) << 24 | int64_t(chunk[1]) << 16 |
                     int64_t(chunk[2]) << 8 | int64_t(chunk[3]);
    std::string type(reinterpret_cast<char *>(chunk) + 4, 4);
    int64_t after = size - at - 8; // the data and the checksum
    if (length + 4 > after)
      throw Error(path + ": cannot read the image: truncated (its " + type +
                  " chunk at byte " + std::to_string(at) + " claims " +
                  std::to_string(length) + " bytes, the file has " +
                  std::to_string(after) + " more)");
    if (type == "IEND")
      return;
    at += length + 12;
    in.seekg(at);
  }
}

} // namespace

NamedTensor readImage(const std::string &path, int channels, int height,
                      int width, const std::vector<float> &mean,
                      const std::vector<float> &std) {
  if (channels != 1 && channels != 3)
    throw Error(path + ": the model takes " + std::to_string(channels) +
                "-channel inputs; images give 1 (gray) or 3 (RGB)");
  // A header may claim any size: refuse what would take gigabytes.
  constexpr int64_t kMaxPixels = int64_t(1) << 25;
  int w = 0, h = 0, found = 0;
  if (isJpeg(path)) {
    std::vector<unsigned char> pixels =
        decodeJpeg(path, channels, w, h, kMaxPixels);
    return resampled(path, pixels.data(), w, h, channels, height, width, mean,
                     std);
  }
  checkPnm(path);
  checkPng(path);
  // The size first: stb_image decodes some headers its own stbi_info
  // refuses (a BMP of 16 million rows took 15 s), so both must agree.
  if (!stbi_info(path.c_str(), &w, &h, &found)) {
    const char *why = stbi_failure_reason();
    throw Error(path + ": cannot read the image: " +
                (why ? why : "corrupt or unsupported data"));
  }
  {
    int64_t pixels = int64_t(w) * int64_t(h);
    if (pixels > kMaxPixels)
      throw Error(path + ": cannot read the image: " + std::to_string(w) + "x" +
                  std::to_string(h) + " is more than " +
                  std::to_string(kMaxPixels >> 20) + " megapixels");
    // No format netc reads packs more than about a thousand pixels into a
    // byte (deflate's best ratio): a small file claiming a large image is
    // truncated, and would be decoded from nothing at great cost.
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    int64_t bytes = file ? int64_t(file.tellg()) : 0;
    if (pixels > 2048 * std::max<int64_t>(bytes, 1))
      throw Error(path + ": cannot read the image: " + std::to_string(bytes) +
                  " bytes cannot hold a " + std::to_string(w) + "x" +
                  std::to_string(h) + " image (truncated?)");
  }
  std::unique_ptr<unsigned char, void (*)(void *)> pixels(
      stbi_load(path.c_str(), &w, &h, &found, channels), stbi_image_free);
  if (!pixels) {
    // stb_image leaves no reason for some corrupt data.
    const char *why = stbi_failure_reason();
    throw Error(path + ": cannot read the image: " +
                (why ? why : "corrupt or unsupported data"));
  }
  if (w <= 0 || h <= 0)
    throw Error(path + ": cannot read the image: its size is " +
                std::to_string(w) + "x" + std::to_string(h));
  return resampled(path, pixels.get(), w, h, channels, height, width, mean,
                   std);
}

namespace {

NamedTensor resampled(const std::string &path, const unsigned char *pixels,
                      int w, int h, int channels, int height, int width,
                      const std::vector<float> &mean,
                      const std::vector<float> &std) {
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
          return pixels[(size_t(yy) * w + xx) * channels + c] / 255.0f;
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

} // namespace

} // namespace netc::rt
