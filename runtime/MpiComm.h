//===- MpiComm.h - Open MPI for programs built with --mpi -------*- C++ -*-===//
//
// Only programs built with `netc build --train --mpi` include this and link
// the library it belongs to (netc_runtime_mpi) and Open MPI.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace netc::rt {

/// main() of an --mpi program holds one. Under mpirun (Open MPI's
/// environment says so) it starts MPI and makes comm() the job's
/// processes; alone the program runs as any other.
class MpiSession {
public:
  MpiSession(int &argc, char **&argv);
  /// Ends MPI and returns `status`: MPI_Finalize after success; after a
  /// failure the whole job is aborted, so that no process waits forever
  /// for one that stopped.
  int finish(int status);

private:
  bool active_ = false;
};

} // namespace netc::rt
