//===- StbImage.cpp - The image decoders (stb_image) ----------------------===//
//
// stb_image's implementation (PNG, PPM, PGM, BMP), alone in this file; its
// assertions are off in every build, as in release builds, so that a bad
// image is reported, never an abort.
//
//===----------------------------------------------------------------------===//

#define STBI_ASSERT(condition) ((void)0)
// JPEG is decoded by libjpeg-turbo (Jpeg.cpp): Debian's stb_image reads far
// out of bounds on some corrupt JPEG Huffman tables.
#define STBI_NO_JPEG
// No side longer than this: a header cannot make it allocate gigabytes.
#define STBI_MAX_DIMENSIONS (1 << 14)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
