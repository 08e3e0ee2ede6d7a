//===- Diagnostics.h - The driver's error and warning lines -----*- C++ -*-===//
//
// `nnc: error: ...`, `nnc: warning: ...` and `nnc: note: ...`, each written to
// stderr in one write. In a data-parallel job mpirun writes its own messages to
// the same terminal or pipe as the ranks; a line written in pieces is split by
// them
// ("nnc" ... mpirun's banner ... ": error: rank 1: ...").
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_DIAGNOSTICS_H
#define NNC_TOOLS_NNC_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"

namespace nnc {

void printError(const llvm::Twine &msg);
void printWarning(const llvm::Twine &msg);
void printNote(const llvm::Twine &msg);

} // namespace nnc

#endif
