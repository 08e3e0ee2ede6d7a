//===- LLVMFlags.h - Flags nnc shares with LLVM's own -----------*- C++ -*-===//
//
// LLVM's shared library already registers `--time-passes`, `--stats` and
// `--threads`, so nnc's tools adopt those options (and show them in their
// --help) instead of declaring clashing ones, then take their values.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_LLVMFLAGS_H
#define NNC_TOOLS_LLVMFLAGS_H

#include "llvm/Support/CommandLine.h"

#include <optional>

namespace nnc {

/// Shows LLVM's --time-passes and --stats under `category` with nnc's
/// descriptions. Call before parsing the command line.
void adoptLLVMReportFlags(llvm::cl::OptionCategory &category);

/// LLVM also registers `--threads` (an int): nnc adopts it for the number of
/// threads that run the compiled steps. Call before parsing.
void adoptLLVMThreadsFlag(llvm::cl::OptionCategory &category,
                          llvm::StringRef description);
/// Its value after parsing, if it was given.
std::optional<int> llvmThreadsFlag();

struct ReportFlags {
  bool timePasses = false;
  bool statistics = false;
};

/// Reads the flags after parsing, and switches LLVM's own reports off so the
/// JIT's internal passes do not print theirs at exit.
ReportFlags takeLLVMReportFlags();

} // namespace nnc

#endif
