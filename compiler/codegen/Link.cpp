//===- Link.cpp - The system C++ compiler links a program -----------------===//

#include "compiler/codegen/Link.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

namespace netc::codegen {

int runCommand(const std::vector<std::string> &argv, std::string &error) {
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int status =
      posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (status != 0) {
    error = "cannot run " + argv[0] + ": " + std::strerror(status);
    return -1;
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      error = "lost " + argv[0] + ": " + std::strerror(errno);
      return -1;
    }
  if (WIFSIGNALED(status)) {
    error =
        argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
    return -1;
  }
  return WEXITSTATUS(status);
}

bool linkProgram(const std::string &mainFile,
                 const std::vector<std::string> &objects,
                 const std::string &kernelDir, const std::string &runtimeObject,
                 const std::string &output, bool mpi, bool verbose,
                 std::ostream &log) {
  const char *cxx = std::getenv("CXX");
  std::vector<std::string> argv = {cxx && *cxx ? cxx : "c++",
                                   "-std=c++17",
                                   "-O2",
                                   "-I" + kernelDir,
                                   "-I" NETC_RUNTIME_INCLUDE_DIR,
                                   "-isystem",
                                   NETC_HALIDE_INCLUDE_DIR,
                                   mainFile};
  argv.insert(argv.end(), objects.begin(), objects.end());
  if (mpi) {
#ifdef NETC_MPI_RUNTIME_LIBRARY
    // Before netc's runtime, which it calls.
    argv.push_back(NETC_MPI_RUNTIME_LIBRARY);
#else
    log << "netc: error: --mpi: this netc was built without Open MPI "
           "(Debian: libopenmpi-dev); rebuild it with Open MPI installed\n";
    return false;
#endif
  }
  for (const char *arg :
       {runtimeObject.c_str(), NETC_RUNTIME_LIBRARY, NETC_JPEG_LIBRARY,
        "-lpthread", "-ldl", "-lm", "-o", output.c_str()})
    argv.push_back(arg);
#ifdef NETC_MPI_LIBRARIES
  if (mpi) {
    std::string libraries = NETC_MPI_LIBRARIES; // a CMake list
    for (size_t start = 0; start <= libraries.size();) {
      size_t end = std::min(libraries.find(';', start), libraries.size());
      if (end > start)
        argv.insert(argv.end() - 2, libraries.substr(start, end - start));
      start = end + 1;
    }
  }
#endif
  if (verbose) {
    log << "netc:";
    for (const std::string &arg : argv)
      log << " " << arg;
    log << "\n";
  }
  std::string error;
  int status = runCommand(argv, error);
  if (status == 0)
    return true;
  if (status < 0)
    log << "netc: error: " << error << "\n";
  else
    log << "netc: error: the C++ compiler failed (exit " << status << ")\n";
  return false;
}

} // namespace netc::codegen
