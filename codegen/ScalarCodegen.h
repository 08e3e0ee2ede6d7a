//===- ScalarCodegen.h - LLVM IR for structured scalar bodies ---*- C++ -*-===//
//
// Emits an op's scalar body (ir/ScalarBody.h) on scalars or vectors: the one
// place that knows how each primitive becomes LLVM IR, with the same NaN,
// rounding and saturation behaviour as the primitive's reference semantics.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_SCALARCODEGEN_H
#define NNC_CODEGEN_SCALARCODEGEN_H

#include "codegen/IRHelpers.h"

#include "ir/ScalarBody.h"

namespace nnc::codegen {

/// The body's result from `inputs` (one per Input slot, all scalars or all
/// vectors of one width) and `indices` (i64 loop indices, one per domain
/// dimension the body reads; scalars, splat where the inputs are vectors).
llvm::Value *emitScalarBody(KernelBuilder &kb, const ScalarBody &body,
                            llvm::ArrayRef<llvm::Value *> inputs,
                            llvm::ArrayRef<llvm::Value *> indices = {});

} // namespace nnc::codegen

#endif // NNC_CODEGEN_SCALARCODEGEN_H
