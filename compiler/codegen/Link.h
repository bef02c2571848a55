//===- Link.h - The system C++ compiler links a program ---------*- C++ -*-===//
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace netc::codegen {

/// Runs `argv` (argv[0] looked up on the PATH) and waits for it. Returns
/// its exit status, or -1 with a message in `error` when it could not run
/// or was killed.
int runCommand(const std::vector<std::string> &argv, std::string &error);

/// Compiles the driver `mainFile` and links it with the kernel objects,
/// Halide's runtime object and netc's runtime library into `output`, with
/// $CXX (else c++); with `mpi`, also netc's MPI runtime and Open MPI.
bool linkProgram(const std::string &mainFile,
                 const std::vector<std::string> &objects,
                 const std::string &kernelDir, const std::string &runtimeObject,
                 const std::string &output, bool mpi, bool verbose,
                 std::ostream &log);

} // namespace netc::codegen
