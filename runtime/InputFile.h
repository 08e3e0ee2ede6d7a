//===- InputFile.h - Reading the runtime's input files whole ----*- C++ -*-===//
//
// Checkpoints and data files are read whole into memory. Only a regular
// file has an end that its size promises: a device such as /dev/zero would
// be read until memory ran out.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_INPUTFILE_H
#define NNC_RUNTIME_INPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace nnc {

/// The contents of the regular file at `path` (symbolic links followed).
/// The error is the reason alone ("No such file or directory", "not a
/// regular file but a character device"), for the caller to put after
/// the file's name.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path);

} // namespace nnc

#endif
