//===- OutputLock.h - One writer per output file ----------------*- C++ -*-===//
//
// Two runs that write the same checkpoint, metrics or trace would interleave
// them: a checkpoint from one run beside a trace from the other. Each output
// therefore has an advisory lock (flock(2)) on a small file beside it,
// `.NAME.lock`, holding the owner's process id. A run takes the locks of all
// its outputs before it starts, and a second run that asks for any of them
// is refused, naming the first. The lock dies with its process, so a killed
// run never leaves a stale lock behind; the lock file itself is removed when
// the lock is released.
//
// A directory (of periodic checkpoints) is locked by `DIR/.nnc.lock`.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_OUTPUTLOCK_H
#define NNC_RUNTIME_OUTPUTLOCK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace nnc {

class OutputLock {
public:
  /// Takes the lock of `target`, a file (which need not exist) or a
  /// directory (which must). Fails when another process holds it ("... is
  /// being written by another process (pid 1234)"), or when the lock file
  /// cannot be created, which means the target's directory is missing or
  /// cannot be written.
  static llvm::Expected<OutputLock> acquire(llvm::StringRef target);

  OutputLock() = default;
  OutputLock(OutputLock &&other);
  OutputLock &operator=(OutputLock &&other);
  ~OutputLock();

  bool held() const { return fd >= 0; }
  /// The lock file.
  const std::string &path() const { return lockPath; }
  /// Releases the lock and removes its file.
  void release();

private:
  int fd = -1;
  std::string lockPath;
};

/// The lock file of `target`: `.NAME.lock` in the directory that really
/// holds it (symbolic links resolved), or `DIR/.nnc.lock` for a directory.
/// Fails when the directory does not exist.
llvm::Expected<std::string> lockFileOf(llvm::StringRef target);

/// Whether this process holds the lock of `target`.
bool holdsOutputLock(llvm::StringRef target);

} // namespace nnc

#endif
