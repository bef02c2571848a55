//===- Jpeg.cpp - JPEG decoding with libjpeg-turbo ------------------------===//

#include "Jpeg.h"

#include "Error.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include <jpeglib.h>

namespace netc::rt {

namespace {

/// libjpeg reports errors through this: the message is kept and control
/// jumps back to decodeJpeg (libjpeg's way; no C++ frame is skipped).
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf back;
  char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr info) {
  auto *errors = reinterpret_cast<ErrorManager *>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->back, 1);
}

void onWarning(j_common_ptr, int) {} // corrupt-data warnings: decode on

} // namespace

bool isJpeg(const std::string &path) {
  unsigned char magic[3] = {0, 0, 0};
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return false;
  size_t n = std::fread(magic, 1, 3, f);
  std::fclose(f);
  return n == 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
}

std::vector<unsigned char> decodeJpeg(const std::string &path, int channels,
                                      int &width, int &height,
                                      int64_t maxPixels) {
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(
      std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file)
    throw Error(path + ": cannot read the image: " + std::strerror(errno));
  // Everything longjmp may cross is plain data set up before setjmp.
  jpeg_decompress_struct info;
  ErrorManager errors;
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = onError;
  errors.base.emit_message = onWarning;
  std::vector<unsigned char> pixels;
  std::string failure;
  jpeg_create_decompress(&info);
  if (setjmp(errors.back) == 0) {
    jpeg_stdio_src(&info, file.get());
    jpeg_read_header(&info, TRUE);
    if (int64_t(info.image_width) * int64_t(info.image_height) > maxPixels) {
      failure = std::to_string(info.image_width) + "x" +
                std::to_string(info.image_height) + " is more than " +
                std::to_string(maxPixels >> 20) + " megapixels";
    } else {
      info.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
      jpeg_start_decompress(&info);
      width = int(info.output_width);
      height = int(info.output_height);
      size_t row = size_t(width) * size_t(channels);
      pixels.resize(row * size_t(height));
      while (info.output_scanline < info.output_height) {
        JSAMPROW rows[1] = {pixels.data() + row * info.output_scanline};
        jpeg_read_scanlines(&info, rows, 1);
      }
      jpeg_finish_decompress(&info);
    }
  } else {
    failure = errors.message;
  }
  jpeg_destroy_decompress(&info);
  if (!failure.empty())
    throw Error(path + ": cannot read the image: " + failure);
  if (width <= 0 || height <= 0)
    throw Error(path + ": cannot read the image: its size is " +
                std::to_string(width) + "x" + std::to_string(height));
  return pixels;
}

} // namespace netc::rt
