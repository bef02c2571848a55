//===- RuntimeTest.cpp - Weight and array files of generated programs -----===//

#include "Datasets.h"
#include "Error.h"
#include "Image.h"
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

/// A safetensors file of `header` and the data bytes `data`.
void writeRaw(const std::string &path, const std::string &header,
              const std::string &data) {
  std::string size(8, '\0');
  for (int i = 0; i < 8; ++i)
    size[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << size << header << data;
}

TEST(SafeTensors, ReadsTheDtypesPyTorchWrites) {
  // Laid out as safetensors.torch.save_file writes a state_dict with a
  // half weight and batch norm's counter: I64 scalar, metadata "pt".
  std::string path = tempPath("torch.safetensors");
  std::string data;
  auto put = [&](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      data += char((value >> (8 * i)) & 0xff);
  };
  put(7, 8);                      // bn.num_batches_tracked: I64 7
  put(0x3e00, 2), put(0xc000, 2); // w16: F16 1.5, -2
  put(0xbf80, 2), put(0x4040, 2); // wbf: BF16 -1, 3
  put(0x3fd0000000000000ull, 8);  // w64: F64 0.25
  put(0x0001, 2);                 // tiny: the smallest F16 subnormal
  writeRaw(
      path,
      R"({"__metadata__":{"format":"pt"},)"
      R"("bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("w16":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
      R"("wbf":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},)"
      R"("w64":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},)"
      R"("tiny":{"dtype":"F16","shape":[1],"data_offsets":[24,26]}})",
      data);
  std::vector<NamedTensor> t = readSafeTensors(path);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].name, "bn.num_batches_tracked");
  EXPECT_EQ(t[0].shape, std::vector<int64_t>{});
  EXPECT_EQ(t[0].data, std::vector<float>{7});
  EXPECT_EQ(t[1].data, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(t[2].data, (std::vector<float>{-1.0f, 3.0f}));
  EXPECT_EQ(t[3].data, std::vector<float>{0.25f});
  EXPECT_EQ(t[4].data, std::vector<float>{5.9604645e-08f});
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

  // A dtype netc does not read.
  header = R"({"w":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})";
  text.assign(8, '\0');
  text[0] = char(header.size());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << text << header << std::string(16, 'a');
  message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find("tensor 'w' has dtype \"C64\""), std::string::npos)
      << message;

  // A deeply nested dtype: refused before anything walks it.
  header = R"({"w":{"dtype":)" + std::string(100000, '[') +
           std::string(100000, ']') + R"(,"shape":[1],"data_offsets":[0,4]}})";
  writeRaw(path, header, "abcd");
  message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find("nests deeper than 16 levels"), std::string::npos)
      << message;

  // Two tensors sharing bytes.
  writeRaw(path,
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           std::string(12, '\0'));
  message = errorOf([&] { readSafeTensors(path); });
  EXPECT_NE(message.find("tensor 'b' overlaps the data of tensor 'a'"),
            std::string::npos)
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

TEST(Image, CorruptDataIsAnErrorNamingTheFile) {
  // A PNG whose header is valid and whose compressed data is garbage.
  std::string path = tempPath("corrupt.png");
  std::string png = "\x89PNG\r\n\x1a\n";
  auto chunk = [&](const std::string &type, const std::string &data) {
    uint32_t n = uint32_t(data.size());
    png += std::string{char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
    png += type + data + std::string(4, '\0'); // the CRC is not checked
  };
  // 4x4, 8-bit RGB.
  chunk("IHDR", std::string("\0\0\0\x04\0\0\0\x04\x08\x02\0\0\0", 13));
  chunk("IDAT", "\x78\x9c garbage, not deflate data at all \xff\xfe");
  chunk("IEND", "");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << png;
  std::string message =
      errorOf([&] { netc::rt::readImage(path, 3, 4, 4, {}, {}); });
  EXPECT_NE(message.find(path + ": cannot read the image: "), std::string::npos)
      << message;
  std::remove(path.c_str());
}

/// A .npy file of `header` (version `version`) and `floats` zeros.
void writeNpyRaw(const std::string &path, const std::string &header,
                 size_t floats, int version = 1) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write("\x93NUMPY", 6);
  out.put(char(version)).put('\0');
  out.put(char(header.size())).put('\0');
  if (version != 1)
    out.put('\0').put('\0');
  out << header << std::string(floats * 4, '\0');
}

TEST(Npy, HeadersAreReadStrictly) {
  std::string path = tempPath("strict.npy");
  auto errorFor = [&](const std::string &header, int version = 1) {
    writeNpyRaw(path, header, 784, version);
    return errorOf([&] { readNpy(path); });
  };
  const std::string good =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), }";
  writeNpyRaw(path, good, 784);
  EXPECT_EQ(readNpy(path).shape, (std::vector<int64_t>{1, 1, 28, 28}));
  // Shapes were once read digit by digit: both of these loaded as 1x1x28x28.
  EXPECT_NE(errorFor("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(-1, 1, 28, 28), }")
                .find("malformed .npy header: the shape holds something"),
            std::string::npos);
  EXPECT_NE(errorFor("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(1, 1, 2x8, 28), }")
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_NE(errorFor("{'descr': '<f4', 'descr': '<f4', 'fortran_order': "
                     "False, 'shape': (784,), }")
                .find("the key 'descr' is given twice"),
            std::string::npos);
  EXPECT_NE(
      errorFor("{'descr': '<f4', 'fortran_order': False}").find("no 'shape'"),
      std::string::npos);
  EXPECT_NE(errorFor(good, 9).find("unsupported .npy version 9"),
            std::string::npos);
  // A header promising 3.2 GB of floats in a small file (found by the
  // fuzzer): refused before any memory is set aside.
  EXPECT_NE(errorFor("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(800000000,), }")
                .find("truncated: the header promises 800000000 floats, the "
                      "file holds 784"),
            std::string::npos);
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
