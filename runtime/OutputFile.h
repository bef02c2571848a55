//===- OutputFile.h - Writing a file without losing what was there -*- C++ -*-//
//
// Every file a program writes (weights, checkpoints, .npy outputs) goes
// through OutputFile, so that a kill, a full disk or a file-size limit
// never leaves a half-written file, and what is at the path is never
// destroyed:
//   - a regular file, or a path where nothing is yet, is written to
//     PATH.tmp beside it, flushed to disk, then renamed over it;
//   - a symbolic link is followed: its target is replaced the same way;
//   - anything else (a device such as /dev/null, a pipe) is written in
//     place; a folder is refused.
// Errors name the file and the reason.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <string>

namespace netc::rt {

class OutputFile {
public:
  /// Opens the file (its temporary) for writing; throws Error.
  explicit OutputFile(const std::string &path);
  /// Without commit (an error on the way): the temporary is removed and
  /// the file at the path is left as it was.
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  void write(const void *data, size_t size);
  /// Flushes to disk and puts the file in place; throws Error.
  void commit();

private:
  void fail(const std::string &what, int error);

  std::string path_;   // as given, for messages
  std::string target_; // the file replaced (a link's target)
  std::string tmp_;    // empty: written in place
  int fd_ = -1;
};

/// Throws Error naming `flag` and `path` unless a file can be written at
/// `path` (its folder exists and is writable; a file there is writable and
/// not a folder). Run before long work, so a bad path is found at once.
void checkWritable(const std::string &path, const std::string &flag);

} // namespace netc::rt
