//===- Names.h - Parameter names and the prefixes that select them -*- C++ -*-//
//
// Header-only: the language checks `freeze` entries with it, nn-autodiff
// leaves frozen parameters out with it, and programs apply --freeze with it,
// so all three agree.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace netc::rt {

/// Whether the parameter `name` is under the dotted prefix `prefix`: "c1"
/// and "c1." hold "c1.weight" and "c1" itself, not "c10.weight".
inline bool underPrefix(const std::string &name, const std::string &prefix) {
  if (prefix.empty() || name.compare(0, prefix.size(), prefix) != 0)
    return false;
  return name.size() == prefix.size() || prefix.back() == '.' ||
         name[prefix.size()] == '.';
}

inline bool underAnyPrefix(const std::string &name,
                           const std::vector<std::string> &prefixes) {
  for (const std::string &prefix : prefixes)
    if (underPrefix(name, prefix))
      return true;
  return false;
}

} // namespace netc::rt
