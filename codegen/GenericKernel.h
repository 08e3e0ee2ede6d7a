//===- GenericKernel.h - Loop nests from structured descriptions -*- C++
//-*-===//
//
// The code generator every op has: it compiles the structured description
// (ir/Structured.h) of an op, or of each op of a fused kernel body in turn,
// into loop nests over the stages' domains. Correct at every rank, element
// type and index map the verifier accepts; the specialised kernels
// (FusedKernels.h) are faster where a body's structure matches theirs.
//
// Threads split each stage's outermost parallel dimension; every element is
// computed by one thread in the same order whatever the thread count, so
// results do not depend on it. Stages that read what another thread wrote
// wait at the step's barrier first. Values a body computes but does not
// yield, and the intermediates of multi-stage ops, live in the step's
// scratch memory.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_GENERICKERNEL_H
#define NNC_CODEGEN_GENERICKERNEL_H

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

/// Emits the loops computing `op`'s results from its operands. An error
/// names an op that has no description (and no hand-written lowering).
llvm::Error emitGenericOp(KernelBuilder &kb, const Op &op,
                          llvm::ArrayRef<TensorRef> operands,
                          llvm::ArrayRef<TensorRef> results,
                          ThreadInfo threads);

/// Emits a fused kernel body op by op: `inputs` are its arguments and
/// `outputs` what its yield returns.
llvm::Error emitGenericKernel(KernelBuilder &kb, const Graph &body,
                              llvm::ArrayRef<TensorRef> inputs,
                              llvm::ArrayRef<TensorRef> outputs,
                              ThreadInfo threads);

} // namespace nnc::codegen

#endif // NNC_CODEGEN_GENERICKERNEL_H
