//===- MpiComm.cpp - Comm over Open MPI -----------------------------------===//

#include "MpiComm.h"

#include "Comm.h"
#include "Error.h"

// MPI's C interface only (Open MPI would add its old C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <vector>

namespace netc::rt {

namespace {

/// MPI counts are ints: larger messages go in pieces.
constexpr int64_t kPiece = int64_t(1) << 30;

void check(int status, const char *call) {
  if (status == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, length));
}

class MpiComm : public Comm {
public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    MPI_Get_processor_name(name, &length);
    host_.assign(name, length);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string where() const override {
    return "process " + std::to_string(rank_) + " of " + std::to_string(size_) +
           " on " + host_;
  }

  int startSum(float *data, int64_t count) override {
    std::vector<MPI_Request> requests;
    for (int64_t first = 0; first < count; first += kPiece) {
      requests.emplace_back();
      check(MPI_Iallreduce(MPI_IN_PLACE, data + first,
                           int(std::min(kPiece, count - first)), MPI_FLOAT,
                           MPI_SUM, MPI_COMM_WORLD, &requests.back()),
            "MPI_Iallreduce");
    }
    pending_.push_back(std::move(requests));
    return int(pending_.size() - 1);
  }

  void finish(int handle) override {
    std::vector<MPI_Request> &requests = pending_[size_t(handle)];
    check(
        MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
        "MPI_Waitall");
    requests.clear();
    while (!pending_.empty() && pending_.back().empty())
      pending_.pop_back();
  }

  bool finished(int handle) override {
    std::vector<MPI_Request> &requests = pending_[size_t(handle)];
    int done = 1;
    if (!requests.empty())
      check(MPI_Testall(int(requests.size()), requests.data(), &done,
                        MPI_STATUSES_IGNORE),
            "MPI_Testall");
    return done != 0;
  }

  void progress() override {
    // Testing one request moves every message on.
    for (std::vector<MPI_Request> &requests : pending_)
      if (!requests.empty()) {
        int done = 0;
        MPI_Testall(int(requests.size()), requests.data(), &done,
                    MPI_STATUSES_IGNORE);
        return;
      }
  }

  void sum(double *data, int64_t count) override {
    for (int64_t first = 0; first < count; first += kPiece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + first,
                          int(std::min(kPiece, count - first)), MPI_DOUBLE,
                          MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
  }

  int64_t max(int64_t value) override {
    long long v = value;
    check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_LONG_LONG, MPI_MAX,
                        MPI_COMM_WORLD),
          "MPI_Allreduce");
    return v;
  }

  void broadcast(void *data, int64_t bytes) override {
    char *p = static_cast<char *>(data);
    for (int64_t first = 0; first < bytes; first += kPiece)
      check(MPI_Bcast(p + first, int(std::min(kPiece, bytes - first)), MPI_BYTE,
                      0, MPI_COMM_WORLD),
            "MPI_Bcast");
  }

  void exchange(int partner, const float *send, float *receive,
                int64_t count) override {
    for (int64_t first = 0; first < count; first += kPiece) {
      int n = int(std::min(kPiece, count - first));
      check(MPI_Sendrecv(send + first, n, MPI_FLOAT, partner, 7,
                         receive + first, n, MPI_FLOAT, partner, 7,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "MPI_Sendrecv");
    }
  }

private:
  int rank_ = 0, size_ = 1;
  std::string host_;
  std::vector<std::vector<MPI_Request>> pending_;
};

} // namespace

MpiSession::MpiSession(int &argc, char **&argv) {
  // Started by mpirun (or another Open MPI launcher)?
  if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMIX_RANK"))
    return;
  int provided = 0;
  // Chunk threads (--deterministic) call MPI one at a time.
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) !=
      MPI_SUCCESS) {
    std::cerr << "error: MPI could not start\n";
    std::exit(1);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    std::cerr << "error: this MPI does not support calls from several "
                 "threads in turn (MPI_THREAD_SERIALIZED)\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Errors come back as codes, to be reported with the call that failed.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  active_ = true;
  setComm(std::make_unique<MpiComm>());
}

int MpiSession::finish(int status) {
  if (!active_)
    return status;
  if (status != 0) {
    std::cerr.flush();
    MPI_Abort(MPI_COMM_WORLD, status);
  }
  MPI_Finalize();
  return status;
}

} // namespace netc::rt
