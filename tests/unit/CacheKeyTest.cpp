//===- CacheKeyTest.cpp - Kernels of other sources never share an entry ---===//

#include "compiler/halide/CacheKey.h"

#include <gtest/gtest.h>

namespace {

using netc::halide::CompilerIdentity;
using netc::halide::kernelCacheHash;

const char *kKey = "conv2d 1x3x32x32 k3 s1";
const char *kSchedule = "pattern=packed vector=16";
const char *kTarget = "x86-64-linux-avx2-fma-no_runtime";

TEST(CacheKey, SourcesOfTheBuildAreInTheKey) {
  CompilerIdentity a{"1111", "libHalide14.so.0-25755832"};
  CompilerIdentity b{"2222", "libHalide14.so.0-25755832"};
  EXPECT_NE(kernelCacheHash(a, kKey, kSchedule, kTarget),
            kernelCacheHash(b, kKey, kSchedule, kTarget));
  EXPECT_EQ(kernelCacheHash(a, kKey, kSchedule, kTarget),
            kernelCacheHash(a, kKey, kSchedule, kTarget));
}

TEST(CacheKey, HalideScheduleAndTargetAreInTheKey) {
  CompilerIdentity a{"1111", "libHalide14.so.0-25755832"};
  CompilerIdentity halide{"1111", "libHalide14.so.0-25755900"};
  std::string base = kernelCacheHash(a, kKey, kSchedule, kTarget);
  EXPECT_NE(base, kernelCacheHash(halide, kKey, kSchedule, kTarget));
  EXPECT_NE(base, kernelCacheHash(a, kKey, "pattern=packed vector=8", kTarget));
  EXPECT_NE(base, kernelCacheHash(a, kKey, kSchedule, "x86-64-linux"));
  EXPECT_NE(netc::halide::runtimeCacheHash(a, kTarget),
            netc::halide::runtimeCacheHash(halide, kTarget));
}

TEST(CacheKey, ThisBuildHashesItsSources) {
  CompilerIdentity self = netc::halide::thisCompiler();
  // A SHA-256 in hex, computed by the build from the lowering sources.
  EXPECT_EQ(self.sourceHash.size(), 64u);
  EXPECT_NE(self.halide.find("Halide"), std::string::npos);
}

} // namespace
