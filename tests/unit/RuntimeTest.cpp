//===- RuntimeTest.cpp - Weight and array files of generated programs -----===//

#include "Datasets.h"
#include "Error.h"
#include "Names.h"
#include "Npy.h"
#include "Program.h"
#include "SafeTensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

using namespace netc::rt;

namespace {

std::string tempPath(const std::string &name) {
  return testing::TempDir() + "/netc_runtime_" + std::to_string(getpid()) +
         "_" + name;
}

/// The message of the Error that `f` throws, or "" if it does not throw.
template <typename F> std::string errorOf(F f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(Names, PrefixesEndAtADot) {
  using netc::rt::underPrefix;
  EXPECT_TRUE(underPrefix("c1.weight", "c1"));
  EXPECT_TRUE(underPrefix("c1.weight", "c1."));
  EXPECT_TRUE(underPrefix("c1", "c1"));
  EXPECT_TRUE(underPrefix("layer1.0.conv1.weight", "layer1.0"));
  EXPECT_FALSE(underPrefix("c10.weight", "c1"));
  EXPECT_FALSE(underPrefix("c1.weight", "c1.w"));
  EXPECT_FALSE(underPrefix("c1.weight", ""));
  EXPECT_TRUE(netc::rt::underAnyPrefix("fc.bias", {"c1", "fc"}));
}

TEST(SafeTensors, RoundTripKeepsOrderShapesAndValues) {
  std::string path = tempPath("round.safetensors");
  std::vector<NamedTensor> tensors = {
      {"conv1.weight", {2, 1, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {"conv1.bias", {2}, {-1.5f, 2.25f}},
      {"scalar", {}, {42}}};
  writeSafeTensors(path, tensors, {{"format", "pt"}});
  std::vector<NamedTensor> back = readSafeTensors(path);
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].name, tensors[i].name);
    EXPECT_EQ(back[i].shape, tensors[i].shape);
    EXPECT_EQ(back[i].data, tensors[i].data);
  }
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "temporary file left";
  std::remove(path.c_str());
}

TEST(SafeTensors, BadFilesNameTheFileAndTensor) {
  std::string path = tempPath("bad.safetensors");
  EXPECT_NE(errorOf([&] {
              readSafeTensors(path + ".missing");
            }).find("cannot open weights file"),
            std::string::npos);

  std::ofstream(path, std::ios::binary) << "abc";
  EXPECT_NE(
      errorOf([&] { readSafeTensors(path); }).find("not a safetensors file"),
      std::string::npos);

  writeSafeTensors(path, {{"w", {4}, {1, 2, 3, 4}}});
  // Truncate the data: the tensor now extends past the end of the file.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, bytes.size() - 4);
  std::string message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find(path + ": tensor 'w' extends past the end"),
            std::string::npos)
      << message;

  // A header that is not JSON.
  std::string header = "{not json";
  std::string text(8, '\0');
  text[0] = char(header.size());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text << header;
  EXPECT_NE(errorOf([&] { readSafeTensors(path); }).find("not a JSON object"),
            std::string::npos);

  // A dtype other than F32.
  header = R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";
  text.assign(8, '\0');
  text[0] = char(header.size());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << text << header << "abcd";
  message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find("tensor 'w' has dtype \"F16\""), std::string::npos)
      << message;

  // Offsets that do not match the shape.
  header = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  text[0] = char(header.size());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << text << header << "abcdefgh";
  message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find("tensor 'w' has 8 bytes of data for shape [3]"),
            std::string::npos)
      << message;
  std::remove(path.c_str());
}

TEST(Npy, RoundTripAndErrors) {
  std::string path = tempPath("x.npy");
  NamedTensor x{"x", {2, 3}, {1, 2, 3, 4, 5, 6}};
  writeNpy(path, x);
  NamedTensor back = readNpy(path);
  EXPECT_EQ(back.shape, x.shape);
  EXPECT_EQ(back.data, x.data);
  writeNpy(path, {"v", {4}, {1, 2, 3, 4}});
  EXPECT_EQ(readNpy(path).shape, (std::vector<int64_t>{4}));

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not numpy";
  EXPECT_NE(errorOf([&] { readNpy(path); }).find("not a .npy file"),
            std::string::npos);
  std::string header =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(char(header.size())).put('\0') << header;
  out.close();
  EXPECT_NE(errorOf([&] { readNpy(path); }).find("expected float32"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(Program, LoadParamsChecksNamesAndShapes) {
  ModelSpec spec;
  spec.name = "m";
  spec.params.resize(2);
  spec.params[0].name = "fc.weight", spec.params[0].shape = {2, 3};
  spec.params[1].name = "fc.bias", spec.params[1].shape = {2};
  std::string path = tempPath("params.safetensors");

  writeSafeTensors(path, {{"fc.weight", {2, 3}, std::vector<float>(6, 1)},
                          {"fc.bias", {2}, {1, 2}},
                          {"bn.num_batches_tracked", {}, {0}}});
  std::vector<Buffer> params = loadParams(spec, path);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[1](1), 2.0f);
  EXPECT_EQ(params[0].dimensions(), 2);
  EXPECT_EQ(params[0].dim(0).extent(), 3); // reversed: (in, out)

  writeSafeTensors(path, {{"fc.weight", {3, 2}, std::vector<float>(6, 1)},
                          {"fc.bias", {2}, {1, 2}}});
  std::string message = errorOf([&] { loadParams(spec, path); });
  EXPECT_NE(message.find("tensor 'fc.weight' has shape [3, 2], the model "
                         "expects [2, 3]"),
            std::string::npos)
      << message;

  writeSafeTensors(path, {{"fc.weight", {2, 3}, std::vector<float>(6, 1)}});
  message = errorOf([&] { loadParams(spec, path); });
  EXPECT_NE(message.find("missing tensor fc.bias"), std::string::npos)
      << message;

  writeSafeTensors(path, {{"fc.weight", {2, 3}, std::vector<float>(6, 1)},
                          {"fc.bias", {2}, {1, 2}},
                          {"extra", {1}, {0}}});
  message = errorOf([&] { loadParams(spec, path); });
  EXPECT_NE(message.find("unexpected tensor 'extra'"), std::string::npos)
      << message;
  std::remove(path.c_str());
}

TEST(Datasets, MnistAndCifarFilesAndTheirErrors) {
  std::string dir = tempPath("data");
  std::string mkdir = "mkdir -p " + dir;
  ASSERT_EQ(std::system(mkdir.c_str()), 0);
  EXPECT_NE(errorOf([&] { readDataset(dir); }).find("no dataset found"),
            std::string::npos);

  auto be = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  std::string images =
      be(0x803) + be(2) + be(2) + be(3) + std::string(12, '\x80');
  std::string labels = be(0x801) + be(2) + std::string("\x03\x07");
  std::ofstream(dir + "/t10k-images-idx3-ubyte", std::ios::binary) << images;
  std::ofstream(dir + "/t10k-labels-idx1-ubyte", std::ios::binary) << labels;
  Dataset mnist = readDataset(dir);
  EXPECT_EQ(mnist.size(), 2);
  EXPECT_EQ(mnist.height, 2);
  EXPECT_EQ(mnist.width, 3);
  EXPECT_EQ(mnist.labels[1], 7);
  EXPECT_FLOAT_EQ(mnist.images[0], 128.0f / 255.0f);

  std::ofstream(dir + "/t10k-images-idx3-ubyte", std::ios::binary)
      << images.substr(0, images.size() - 1);
  EXPECT_NE(errorOf([&] { readDataset(dir); }).find("truncated or malformed"),
            std::string::npos);

  std::remove((dir + "/t10k-images-idx3-ubyte").c_str());
  std::remove((dir + "/t10k-labels-idx1-ubyte").c_str());
  std::ofstream(dir + "/test_batch.bin", std::ios::binary)
      << std::string(1, '\x05') + std::string(3072, '\0');
  Dataset cifar = readDataset(dir);
  EXPECT_EQ(cifar.size(), 1);
  EXPECT_EQ(cifar.labels[0], 5);
  EXPECT_EQ(cifar.channels, 3);
  std::ofstream(dir + "/test_batch.bin", std::ios::binary) << "short";
  EXPECT_NE(
      errorOf([&] { readDataset(dir); }).find("not a CIFAR-10 binary batch"),
      std::string::npos);
  std::remove((dir + "/test_batch.bin").c_str());
}

} // namespace
