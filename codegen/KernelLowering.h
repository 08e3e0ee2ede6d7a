//===- KernelLowering.h - Loop nests for single ops -------------*- C++ -*-===//
//
// The straightforward lowering of each op to loops over its static shapes:
// correct for every op and every shape, and the fallback for whatever the
// specialised kernels do not cover. Each kernel splits its outermost output
// loop between threads, so every output element is computed by one thread in
// the same order whatever the thread count.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_KERNELLOWERING_H
#define NNC_CODEGEN_KERNELLOWERING_H

#include "codegen/IRHelpers.h"

namespace nnc::codegen {

/// A tensor as a kernel sees it: memory at `ptr`, or a scalar standing for
/// every element.
struct TensorRef {
  TensorType type;
  llvm::Value *ptr = nullptr;
  llvm::Value *splat = nullptr;

  llvm::Value *load(KernelBuilder &kb, llvm::Value *index) const {
    return splat ? splat : kb.load(ptr, type.element(), index);
  }
};

/// The threads running a kernel: this one's index, their number, and what
/// a kernel that synchronises inside needs: the step's barrier (a function
/// pointer and its state) and the step's thread scratch memory (see
/// KernelBuilder::requireThreadScratch).
struct ThreadInfo {
  llvm::Value *index;
  llvm::Value *count;
  llvm::Value *barrier = nullptr;
  llvm::Value *barrierState = nullptr;
  llvm::Value *scratch = nullptr;
};

/// Emits, at the builder's position, the loops computing `op`'s results from
/// its operands. Returns false for ops it has no lowering for.
bool lowerOp(KernelBuilder &kb, const Op &op,
             llvm::ArrayRef<TensorRef> operands,
             llvm::ArrayRef<TensorRef> results, ThreadInfo threads);

} // namespace nnc::codegen

#endif
