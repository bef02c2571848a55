//===- Error.h - Errors of generated programs -------------------*- C++ -*-===//
//
// Runtime errors carry a message that names the file, tensor or flag at
// fault; the program's main prints it and exits with status 1.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>
#include <string>

namespace netc::rt {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace netc::rt
