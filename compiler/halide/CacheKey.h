//===- CacheKey.h - What names a kernel in the cache ------------*- C++ -*-===//
//
// A cached kernel is named by a hash of everything that determines its
// code: the sources of netc's lowerings and schedules (hashed by the build),
// the Halide library, the kernel's own key (op, shapes, attributes), its
// schedule and its target. No version string is kept by hand.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace netc::halide {

/// What a build of netc compiles kernels with.
struct CompilerIdentity {
  std::string sourceHash; // the lowering and schedule sources
  std::string halide;     // the Halide library
};

/// This build's identity.
CompilerIdentity thisCompiler();

/// The hash (16 hex digits) that names a kernel in the cache.
std::string kernelCacheHash(const CompilerIdentity &compiler,
                            const std::string &kernelKey,
                            const std::string &scheduleKey,
                            const std::string &target);

/// The hash that names Halide's runtime object for `target`.
std::string runtimeCacheHash(const CompilerIdentity &compiler,
                             const std::string &target);

/// A stable 64-bit FNV-1a hash as 16 hex digits.
std::string stableHash(const std::string &text);

/// Defined in the file the build generates (HashSources.cmake).
const char *kernelSourceHash();

} // namespace netc::halide
