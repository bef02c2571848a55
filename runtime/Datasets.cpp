//===- Datasets.cpp - Labelled images from standard files -----------------===//

#include "Datasets.h"

#include "Error.h"
#include "Image.h"

#include <algorithm>
#include <filesystem>

#include <fstream>
#include <sys/stat.h>

namespace netc::rt {

namespace {

bool exists(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

uint32_t bigEndian(const std::string &bytes, size_t at) {
  return (uint32_t(uint8_t(bytes[at])) << 24) |
         (uint32_t(uint8_t(bytes[at + 1])) << 16) |
         (uint32_t(uint8_t(bytes[at + 2])) << 8) |
         uint32_t(uint8_t(bytes[at + 3]));
}

Dataset readMnist(const std::string &images, const std::string &labels) {
  std::string x = readAll(images), y = readAll(labels);
  if (x.size() < 16 || bigEndian(x, 0) != 0x803)
    throw Error(images + ": not an IDX image file (magic 0x00000803)");
  if (y.size() < 8 || bigEndian(y, 0) != 0x801)
    throw Error(labels + ": not an IDX label file (magic 0x00000801)");
  uint64_t count = bigEndian(x, 4), rows = bigEndian(x, 8),
           cols = bigEndian(x, 12);
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096 ||
      x.size() != 16 + count * rows * cols)
    throw Error(images + ": truncated or malformed (" + std::to_string(count) +
                " images of " + std::to_string(rows) + "x" +
                std::to_string(cols) + " promised, " +
                std::to_string(x.size()) + " bytes found)");
  if (bigEndian(y, 4) != count || y.size() != 8 + count)
    throw Error(labels + ": has " + std::to_string(bigEndian(y, 4)) +
                " labels for " + std::to_string(count) + " images");
  Dataset data;
  data.channels = 1, data.height = rows, data.width = cols;
  data.images.resize(count * rows * cols);
  for (size_t i = 0; i < data.images.size(); ++i)
    data.images[i] = uint8_t(x[16 + i]) / 255.0f;
  data.labels.resize(count);
  for (size_t i = 0; i < count; ++i)
    data.labels[i] = uint8_t(y[8 + i]);
  return data;
}

void appendCifar(const std::string &path, Dataset &data) {
  std::string bytes = readAll(path);
  constexpr size_t kRecord = 1 + 3 * 32 * 32;
  if (bytes.empty() || bytes.size() % kRecord != 0)
    throw Error(path + ": not a CIFAR-10 binary batch (" +
                std::to_string(bytes.size()) + " bytes is not a multiple of " +
                std::to_string(kRecord) + ")");
  for (size_t at = 0; at < bytes.size(); at += kRecord) {
    uint8_t label = uint8_t(bytes[at]);
    if (label > 9)
      throw Error(path + ": label " + std::to_string(label) + " of record " +
                  std::to_string(at / kRecord) + " is not a CIFAR-10 class");
    data.labels.push_back(label);
    for (size_t i = 1; i < kRecord; ++i)
      data.images.push_back(uint8_t(bytes[at + i]) / 255.0f);
  }
}

namespace fs = std::filesystem;

bool isImageFile(const fs::path &path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".png" || ext == ".ppm" || ext == ".pgm" || ext == ".jpg" ||
         ext == ".jpeg" || ext == ".bmp";
}

/// DIR/CLASS/*.png…: classes in name order, as torchvision's ImageFolder.
Dataset readImageFolder(const fs::path &dir, int64_t channels, int64_t height,
                        int64_t width) {
  std::vector<fs::path> classes;
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.is_directory())
      classes.push_back(entry.path());
  std::sort(classes.begin(), classes.end());
  Dataset data;
  data.channels = channels, data.height = height, data.width = width;
  for (size_t label = 0; label < classes.size(); ++label) {
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(classes[label]))
      if (entry.is_regular_file() && isImageFile(entry.path()))
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path &file : files) {
      NamedTensor image =
          readImage(file.string(), int(channels), int(height), int(width));
      data.images.insert(data.images.end(), image.data.begin(),
                         image.data.end());
      data.labels.push_back(int32_t(label));
    }
  }
  if (data.labels.empty())
    throw Error(dir.string() + ": no images in class folders");
  data.description = "images of " + std::to_string(classes.size()) +
                     " classes in " + dir.string();
  return data;
}

} // namespace

Dataset readDataset(const std::string &dir, const std::string &split,
                    int64_t channels, int64_t height, int64_t width) {
  // A folder of class folders: DIR/train/… and DIR/test/… (or DIR/val/…),
  // or DIR/CLASS/… for training alone.
  if (channels > 0 && fs::is_directory(dir) &&
      !exists(dir + "/train-images-idx3-ubyte") &&
      !exists(dir + "/data_batch_1.bin") && !exists(dir + "/test_batch.bin")) {
    fs::path root(dir);
    fs::path part = root / (split == "train" ? "train" : "test");
    if (split != "train" && !fs::is_directory(part))
      part = root / "val";
    if (fs::is_directory(part))
      return readImageFolder(part, channels, height, width);
    if (split == "train" && !fs::is_directory(root / "test"))
      return readImageFolder(root, channels, height, width);
    throw Error(dir + ": no " + split + " folder of class folders");
  }
  std::string prefix = split == "train" ? "/train" : "/t10k";
  if (exists(dir + prefix + "-images-idx3-ubyte")) {
    Dataset data = readMnist(dir + prefix + "-images-idx3-ubyte",
                             dir + prefix + "-labels-idx1-ubyte");
    data.description = "MNIST " + split + " split of " + dir;
    return data;
  }
  std::vector<std::string> batches;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i)
      batches.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  } else {
    batches.push_back(dir + "/test_batch.bin");
  }
  if (exists(batches.front())) {
    Dataset data;
    data.channels = 3, data.height = 32, data.width = 32;
    for (const std::string &batch : batches)
      appendCifar(batch, data);
    data.description = "CIFAR-10 " + split + " split of " + dir;
    return data;
  }
  throw Error(dir + ": no dataset found (expected MNIST " + prefix.substr(1) +
              "-images-idx3-ubyte and " + prefix.substr(1) +
              "-labels-idx1-ubyte, or CIFAR-10 " +
              batches.front().substr(dir.size() + 1) + ")");
}

} // namespace netc::rt
