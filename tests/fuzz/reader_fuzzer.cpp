//===- reader_fuzzer.cpp - libFuzzer entry for the programs' readers ------===//
//
// One target for every file a generated program reads; NETC_FUZZ_READER
// picks it: safetensors (weights and checkpoints, with their metadata), npy,
// image (PNG, JPEG, PPM, PGM, BMP), idx (MNIST: after a 4-byte length, the
// image file then the label file) and cifar (a test batch). Any input must load
// or end in netc::rt::Error: never a crash, a hang or a sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "Datasets.h"
#include "Error.h"
#include "Image.h"
#include "Npy.h"
#include "SafeTensors.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::string folder() {
  static const std::string dir = [] {
    std::string d = "/tmp/netc-fuzz-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

void write(const std::string &path, const uint8_t *data, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char *>(data), std::streamsize(size));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string reader = [] {
    const char *r = std::getenv("NETC_FUZZ_READER");
    return std::string(r ? r : "safetensors");
  }();
  const std::string dir = folder();
  try {
    if (reader == "safetensors") {
      write(dir + "/w.safetensors", data, size);
      std::map<std::string, std::string> metadata;
      netc::rt::readSafeTensors(dir + "/w.safetensors", &metadata);
    } else if (reader == "npy") {
      write(dir + "/x.npy", data, size);
      netc::rt::readNpy(dir + "/x.npy");
    } else if (reader == "image") {
      write(dir + "/x.img", data, size);
      netc::rt::readImage(dir + "/x.img", 3, 16, 16, {}, {});
      netc::rt::readImage(dir + "/x.img", 1, 7, 5, {0.5f}, {0.25f});
    } else if (reader == "idx") {
      // The first 4 bytes: the image file's length; the rest: the files.
      if (size < 4)
        return 0;
      uint32_t length = uint32_t(data[0]) | uint32_t(data[1]) << 8 |
                        uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
      size_t split = std::min<size_t>(length, size - 4);
      write(dir + "/t10k-images-idx3-ubyte", data + 4, split);
      write(dir + "/t10k-labels-idx1-ubyte", data + 4 + split,
            size - 4 - split);
      netc::rt::readDataset(dir, "test");
    } else if (reader == "cifar") {
      write(dir + "/test_batch.bin", data, size);
      netc::rt::readDataset(dir, "test");
    } else {
      std::fprintf(stderr, "unknown NETC_FUZZ_READER '%s'\n", reader.c_str());
      std::abort();
    }
  } catch (const netc::rt::Error &) {
  }
  return 0;
}
