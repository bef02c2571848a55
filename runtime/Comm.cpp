//===- Comm.cpp - The process's peers: alone unless MPI says otherwise ----===//

#include "Comm.h"

namespace netc::rt {

namespace {
std::unique_ptr<Comm> &current() {
  static std::unique_ptr<Comm> c = std::make_unique<Comm>();
  return c;
}
} // namespace

Comm &comm() { return *current(); }

void setComm(std::unique_ptr<Comm> comm) { current() = std::move(comm); }

} // namespace netc::rt
