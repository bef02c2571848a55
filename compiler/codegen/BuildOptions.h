//===- BuildOptions.h - What `netc build` is asked for ----------*- C++ -*-===//
#pragma once

#include <string>

namespace netc::codegen {

struct BuildOptions {
  std::string output; // the executable to write
  std::string target = "host";
  std::string cacheDir;   // empty: KernelCompiler::defaultCacheDir()
  std::string workDir;    // where main.cpp goes; empty: a temporary folder
  std::string projectDir; // --emit-project: a folder that builds alone
  std::string source;     // the .nn file, for the program's info
  bool training = false;  // a training program (needs a train section)
  bool mpi = false;     // training: links Open MPI, data-parallel under mpirun
  bool verbose = false; // print each kernel and the compiler command
};

} // namespace netc::codegen
