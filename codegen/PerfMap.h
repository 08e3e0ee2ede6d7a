//===- PerfMap.h - Naming JIT-compiled kernels for perf ---------*- C++ -*-===//
//
// Linux perf attributes samples in JIT-compiled code through a text file,
// /tmp/perf-<pid>.map, of "start size name" lines. With one, `perf record`
// and `perf report` show which kernel (train.k18.max_pool2d_grad) took the
// time, and `perf annotate` is left with addresses only.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_PERFMAP_H
#define NNC_CODEGEN_PERFMAP_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <cstdint>

namespace nnc::codegen {

/// The size in bytes of each function an object file defines.
llvm::Error collectFunctionSizes(llvm::MemoryBufferRef object,
                                 llvm::StringMap<uint64_t> &sizes);

struct PerfMapEntry {
  uint64_t address;
  uint64_t size;
  std::string name;
};

/// Appends the entries to /tmp/perf-<this pid>.map (perf's convention; a
/// process that compiles twice names both sets of code).
llvm::Error appendPerfMap(llvm::ArrayRef<PerfMapEntry> entries);

} // namespace nnc::codegen

#endif // NNC_CODEGEN_PERFMAP_H
