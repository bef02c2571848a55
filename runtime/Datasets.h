//===- Datasets.h - Labelled images from standard files ---------*- C++ -*-===//
//
// MNIST IDX files and CIFAR-10 binary batches, read whole into memory as
// float images in [0, 1] (NCHW) with integer labels.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netc::rt {

struct Dataset {
  std::string description; // e.g. "MNIST t10k (10000 images)"
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> images; // count x channels x height x width
  std::vector<int32_t> labels;
  int64_t size() const { return int64_t(labels.size()); }
};

/// Reads the test split found in `dir`: MNIST (`t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, or with `split` = "train" the `train-…`
/// files) or CIFAR-10 (`test_batch.bin`, or `data_batch_1..5.bin`). Throws
/// Error naming the file for anything missing, truncated or malformed.
/// With an image size (channels > 0), also a folder of class folders
/// (PNG, PPM, PGM, JPEG, BMP; classes in name order): DIR/train/CLASS/…
/// and DIR/test/CLASS/… (or DIR/val/…), or DIR/CLASS/… for the train split
/// alone; images are resized to height x width.
Dataset readDataset(const std::string &dir, const std::string &split = "test",
                    int64_t channels = 0, int64_t height = 0,
                    int64_t width = 0);

} // namespace netc::rt
