//===- OutputFile.cpp - Writing a file without losing what was there ------===//

#include "OutputFile.h"

#include "Error.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netc::rt {

namespace {

/// The folder of `path` ("." for a bare name).
std::string folderOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// What writing at `path` replaces: a link's target, else the path.
std::string resolve(const std::string &path) {
  struct stat link;
  if (lstat(path.c_str(), &link) != 0 || !S_ISLNK(link.st_mode))
    return path;
  char real[PATH_MAX];
  if (!realpath(path.c_str(), real))
    throw Error(path + ": a symbolic link to nowhere (" + std::strerror(errno) +
                ")");
  return real;
}

} // namespace

OutputFile::OutputFile(const std::string &path) : path_(path) {
  target_ = resolve(path);
  struct stat info;
  bool exists = stat(target_.c_str(), &info) == 0;
  if (exists && S_ISDIR(info.st_mode))
    throw Error(path + ": is a folder, not a file");
  if (exists && !S_ISREG(info.st_mode)) {
    // A device or a pipe: there is nothing to replace.
    fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw Error(path + ": cannot write: " + std::strerror(errno));
    return;
  }
  tmp_ = target_ + ".tmp";
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error(path + ": cannot write (creating " + tmp_ +
                "): " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (fd_ >= 0 && !tmp_.empty())
    ::unlink(tmp_.c_str());
}

void OutputFile::fail(const std::string &what, int error) {
  ::close(fd_);
  if (!tmp_.empty())
    ::unlink(tmp_.c_str());
  fd_ = -1;
  throw Error(path_ + ": " + what + ": " + std::strerror(error) +
              (tmp_.empty() ? "" : "; the file there is unchanged"));
}

void OutputFile::write(const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail("write failed", n < 0 ? errno : ENOSPC);
    p += n;
    size -= size_t(n);
  }
}

void OutputFile::commit() {
  if (!tmp_.empty() && ::fsync(fd_) != 0)
    fail("could not be flushed to disk", errno);
  if (::close(fd_) != 0) {
    int error = errno;
    fd_ = -1;
    if (!tmp_.empty())
      ::unlink(tmp_.c_str());
    throw Error(path_ + ": write failed: " + std::strerror(error));
  }
  fd_ = -1;
  if (!tmp_.empty() && std::rename(tmp_.c_str(), target_.c_str()) != 0) {
    int error = errno;
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot replace: " + std::strerror(error));
  }
}

void checkWritable(const std::string &path, const std::string &flag) {
  std::string where = flag + " " + path;
  std::string target = resolve(path);
  struct stat info;
  if (stat(target.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode))
      throw Error(where + ": is a folder, not a file");
    if (access(target.c_str(), W_OK) != 0)
      throw Error(where + ": cannot write: " + std::strerror(errno));
    if (!S_ISREG(info.st_mode))
      return; // written in place
  }
  std::string folder = folderOf(target);
  if (access(folder.c_str(), W_OK) != 0)
    throw Error(where + ": cannot write in " + folder + ": " +
                std::strerror(errno));
}

} // namespace netc::rt
