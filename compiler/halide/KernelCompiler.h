//===- KernelCompiler.h - AOT kernels with an on-disk cache -----*- C++ -*-===//
#pragma once

#include "compiler/halide/OpLowering.h"
#include "compiler/halide/Schedule.h"

#include <string>

namespace netc::halide {

struct CompiledKernel {
  std::string symbol; // the C function, e.g. netc_conv2d_1f3a…
  std::string object; // path of the .o
  std::string header; // path of the .h
  bool fromCache = false;
};

/// Compiles kernels ahead of time into `cacheDir`, one object and header per
/// distinct signature (op, shapes, attributes, schedule, target, and the
/// compiler's own sources: CacheKey.h); a kernel already in the cache is not
/// compiled again.
class KernelCompiler {
public:
  KernelCompiler(std::string cacheDir, Halide::Target target);

  CompiledKernel compile(LoweredOp &op, const std::string &key,
                         const Schedule &schedule);
  /// Halide's runtime for the target, compiled once per target.
  std::string runtimeObject();

  const Halide::Target &target() const { return target_; }
  const std::string &cacheDirectory() const { return cacheDir_; }

  /// The default cache: $NETC_CACHE_DIR, else $XDG_CACHE_HOME/netc, else
  /// ~/.cache/netc.
  static std::string defaultCacheDir();

private:
  std::string cacheDir_;
  Halide::Target target_;
};

} // namespace netc::halide
