//===- AtomicFile.h - Files that appear whole or not at all -----*- C++ -*-===//
//
// Checkpoints, metrics and loss traces are written to a unique temporary
// file beside their target, synced, and renamed over it, so that a reader,
// or a crash, never sees half a file: the target holds either its old
// contents or all of the new ones. A target that exists and is not a
// regular file (a terminal, a pipe, /dev/stdout) is written in place; one
// reached through symbolic links is replaced where the links lead.
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

} // namespace nnc

#endif
