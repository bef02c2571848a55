//===- KernelCompiler.cpp - AOT kernels with an on-disk cache -------------===//

#include "compiler/halide/KernelCompiler.h"

#include "compiler/halide/CacheKey.h"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

using namespace Halide;

namespace netc::halide {

static bool exists(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

static void makeDirs(const std::string &path) {
  for (size_t pos = 1; pos <= path.size(); ++pos)
    if (pos == path.size() || path[pos] == '/')
      mkdir(path.substr(0, pos).c_str(), 0755);
}

std::string KernelCompiler::defaultCacheDir() {
  if (const char *dir = std::getenv("NETC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::string(dir) + "/netc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/netc";
  return "/tmp/netc-cache";
}

KernelCompiler::KernelCompiler(std::string cacheDir, Target target)
    : cacheDir_(std::move(cacheDir)), target_(target) {
  makeDirs(cacheDir_);
}

CompiledKernel KernelCompiler::compile(LoweredOp &op, const std::string &key,
                                       const Schedule &schedule) {
  Target target = target_.with_feature(Target::NoRuntime);
  std::string hash =
      kernelCacheHash(thisCompiler(), key, schedule.key(), target.to_string());
  CompiledKernel kernel;
  kernel.symbol = "netc_" + op.opName + "_" + hash.substr(0, 12);
  std::string base = cacheDir_ + "/" + kernel.symbol;
  kernel.object = base + ".o";
  kernel.header = base + ".h";
  if (exists(kernel.object) && exists(kernel.header)) {
    kernel.fromCache = true;
    return kernel;
  }
  applySchedule(op, schedule);
  // Outputs after the first (of a Tuple) share its extents; their strides
  // still need declaring.
  std::vector<OutputImageParam> buffers = op.output.output_buffers();
  constrainDense(buffers[0],
                 op.outputView.empty() ? op.outputShape : op.outputView);
  for (size_t i = 1; i < buffers.size(); ++i)
    buffers[i].dim(0).set_stride(1);
  // Write under temporary names, then rename: a concurrent or interrupted
  // build never leaves a half-written kernel in the cache.
  std::string tmp = base + ".tmp" + std::to_string(getpid());
  std::vector<Argument> args(op.args.begin(), op.args.end());
  args.insert(args.end(), op.scalars.begin(), op.scalars.end());
  std::map<OutputFileType, std::string> outputs = {
      {OutputFileType::object, tmp + ".o"},
      {OutputFileType::c_header, tmp + ".h"}};
  // NETC_DUMP_STMT=1 keeps Halide's lowered statement beside the kernel,
  // for reading what a schedule does.
  if (const char *dump = std::getenv("NETC_DUMP_STMT"); dump && *dump == '1')
    outputs[OutputFileType::stmt] = base + ".stmt";
  Pipeline(op.output).compile_to(outputs, args, kernel.symbol, target);
  std::rename((tmp + ".h").c_str(), kernel.header.c_str());
  std::rename((tmp + ".o").c_str(), kernel.object.c_str());
  return kernel;
}

std::string KernelCompiler::runtimeObject() {
  Target target = target_.without_feature(Target::NoRuntime);
  std::string path =
      cacheDir_ + "/halide_runtime_" +
      runtimeCacheHash(thisCompiler(), target.to_string()).substr(0, 12) + ".o";
  if (!exists(path)) {
    std::string tmp = path + ".tmp" + std::to_string(getpid());
    compile_standalone_runtime(tmp, target);
    std::rename(tmp.c_str(), path.c_str());
  }
  return path;
}

} // namespace netc::halide
