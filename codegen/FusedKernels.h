//===- FusedKernels.h - Code for the forms of fused kernels -----*- C++ -*-===//
//
// One generator per kernel form (ir/KernelForms.h): a single loop for
// element-wise kernels, a loop over rows for row-wise kernels, and
// register-tiled matrix products with their epilogues for contractions.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_FUSEDKERNELS_H
#define NNC_CODEGEN_FUSEDKERNELS_H

#include "codegen/KernelLowering.h"

#include "ir/KernelForms.h"

namespace nnc::codegen {

/// Computes the scalar-phase values of a body (constants, scalar ops and
/// scalar inputs) at the builder's position.
class ScalarValues {
public:
  ScalarValues(KernelBuilder &kb, const Graph &body, const KernelFormInfo &info,
               llvm::ArrayRef<TensorRef> inputs);
  llvm::Value *lookup(const Value *v) const { return values.lookup(v); }

private:
  llvm::DenseMap<const Value *, llvm::Value *> values;
};

void emitElementwiseKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads);

void emitRowwiseKernel(KernelBuilder &kb, const Graph &body,
                       const KernelFormInfo &info,
                       llvm::ArrayRef<TensorRef> inputs,
                       llvm::ArrayRef<TensorRef> outputs, ThreadInfo threads);

/// What a kernel form's emitter works from: the builder, the kernel's body
/// and form, its buffers, and the thread running it.
struct KernelSite {
  KernelBuilder &kb;
  llvm::IRBuilder<> &b;
  const Graph &body;
  const KernelFormInfo &info;
  llvm::ArrayRef<TensorRef> inputs, outputs;
  ThreadInfo threads;
};

struct ContractionOptions {
  /// Vector width in floats (16 with AVX-512, 8 with AVX2).
  unsigned vectorWidth = 16;
  /// Skip the depths at which a row tile of the left operand is all zeros:
  /// worth its scan when that operand is often zero (input images, relu
  /// outputs). With finite operands the sums are unchanged: a skipped term
  /// is 0 * b.
  bool skipZeroRows = false;
  /// The target has AVX-512's compress for vectors of vectorWidth i32.
  bool avx512Compress = false;
};

void emitContractionKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads,
                           const ContractionOptions &options);

} // namespace nnc::codegen

#endif
