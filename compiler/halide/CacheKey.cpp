//===- CacheKey.cpp - What names a kernel in the cache --------------------===//

#include "compiler/halide/CacheKey.h"

#include <cstdint>
#include <cstdio>

namespace netc::halide {

CompilerIdentity thisCompiler() {
  return {kernelSourceHash(), NETC_HALIDE_IDENTITY};
}

std::string stableHash(const std::string &text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx",
                static_cast<unsigned long long>(hash));
  return buffer;
}

std::string kernelCacheHash(const CompilerIdentity &compiler,
                            const std::string &kernelKey,
                            const std::string &scheduleKey,
                            const std::string &target) {
  return stableHash(compiler.sourceHash + "\n" + compiler.halide + "\n" +
                    kernelKey + "\n" + scheduleKey + "\n" + target);
}

std::string runtimeCacheHash(const CompilerIdentity &compiler,
                             const std::string &target) {
  return stableHash(compiler.halide + "\n" + target);
}

} // namespace netc::halide
