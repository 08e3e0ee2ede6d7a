//===- LLVMFlags.h - Flags nnc shares with LLVM's own -----------*- C++ -*-===//
//
// LLVM's shared library already registers `--time-passes` and `--stats`, so
// nnc's tools adopt those options (and show them in their --help) instead of
// declaring clashing ones, then take their values for nnc's own reports.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_LLVMFLAGS_H
#define NNC_TOOLS_LLVMFLAGS_H

#include "llvm/Support/CommandLine.h"

namespace nnc {

/// Shows LLVM's --time-passes and --stats under `category` with nnc's
/// descriptions. Call before parsing the command line.
void adoptLLVMReportFlags(llvm::cl::OptionCategory &category);

struct ReportFlags {
  bool timePasses = false;
  bool statistics = false;
};

/// Reads the flags after parsing, and switches LLVM's own reports off so the
/// JIT's internal passes do not print theirs at exit.
ReportFlags takeLLVMReportFlags();

} // namespace nnc

#endif
