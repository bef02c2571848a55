//===- StbImage.cpp - The image decoders (stb_image) ----------------------===//
//
// stb_image's implementation, alone in this file: the fuzzer builds it with
// the bounds check off, because Debian's stb_image reads one entry past a
// 257-entry table in its JPEG Huffman decoder on corrupt files (a read
// inside the decoder's own state; everything else stays checked).
//
// Its assertions are off in every build, as in release builds: on corrupt
// JPEG data one of them fails where the decoder then goes on safely, and a
// program must report a bad image, not abort.
//
//===----------------------------------------------------------------------===//

#define STBI_ASSERT(condition) ((void)0)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
