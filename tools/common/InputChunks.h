//===- InputChunks.h - Reading an input file, split or whole ----*- C++ -*-===//
//
// `--split-input-file` treats each part of a file between `// -----` lines
// (`# -----` in model files) as a separate input, so one lit test can hold
// many small cases. Each chunk is registered as its own buffer, padded with
// the newlines that precede it, so that line numbers in diagnostics are those
// of the whole file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_INPUTCHUNKS_H
#define NNC_TOOLS_INPUTCHUNKS_H

#include "ir/Diagnostics.h"

#include "llvm/Support/Error.h"

#include <vector>

namespace nnc {

/// Reads `path` ("-" is stdin) and registers its chunks with `diag`.
/// Returns their buffer ids; one id unless `split`.
llvm::Expected<std::vector<unsigned>> readInputChunks(llvm::StringRef path,
                                                      bool split,
                                                      llvm::StringRef separator,
                                                      DiagnosticEngine &diag);

} // namespace nnc

#endif
