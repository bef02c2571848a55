//===- Project.h - A folder that builds the program alone -------*- C++ -*-===//
#pragma once

#include "compiler/codegen/Plan.h"

#include <ostream>
#include <string>
#include <vector>

namespace netc::codegen {

/// A folder that builds the program with a C++ compiler and CMake alone:
/// the driver, the kernel objects and headers, Halide's runtime object, the
/// runtime's sources and the headers they include.
bool writeProject(const std::string &dir, const ProgramPlan &plan,
                  const std::vector<std::string> &objects,
                  const std::string &runtimeObject,
                  const std::string &kernelDir, std::ostream &log);

} // namespace netc::codegen
