//===- AtomicFile.h - Files that appear whole or not at all -----*- C++ -*-===//
//
// Checkpoints, metrics and loss traces are written to a unique temporary
// file beside their target, synced, and renamed over it, so that a reader,
// or a crash, never sees half a file: the target holds either its old
// contents or all of the new ones. A target that exists and is not a
// regular file (a terminal, a pipe, /dev/stdout) is written in place; one
// reached through symbolic links is replaced where the links lead.
//
// A replaced file keeps its mode (and its owner, where the process may set
// it). Each write holds the target's OutputLock, the run's if it has taken
// it, else its own for the write; under it, the temporary files that a
// killed writer of the same target left behind are removed first.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_ATOMICFILE_H
#define NNC_RUNTIME_ATOMICFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <system_error>

namespace nnc {

/// Writes `path` through a temporary file that `write` fills through its
/// descriptor. On failure the temporary file is removed and the target is
/// untouched; the error says which step failed ("cannot create a temporary
/// file in DIR", "writing TEMP", "cannot rename TEMP to it") and why.
llvm::Error
writeFileAtomically(llvm::StringRef path,
                    llvm::function_ref<std::error_code(int fd)> write);

/// writeFileAtomically with `contents` as the whole file.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents);

/// Writes all of `size` bytes to `fd`, resuming after short writes.
std::error_code writeAll(int fd, const void *data, size_t size);

/// Removes the temporary file of the write in progress, if any. Safe in a
/// signal handler: a process that must exit at once (a second Ctrl-C) calls
/// it so as to leave nothing behind. Writes are made by one thread at a
/// time, normally the main thread.
void removeUnfinishedTemporaryFile();

/// For tests of interrupted saves: called with the temporary file's path
/// once its contents are written, before they are synced and renamed into
/// place. Null (the default) for none.
using BeforeCommitHook = void (*)(const char *temporaryPath);
void setBeforeCommitHookForTesting(BeforeCommitHook hook);

} // namespace nnc

#endif
