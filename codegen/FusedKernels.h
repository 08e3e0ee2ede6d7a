//===- FusedKernels.h - Code for the forms of fused kernels -----*- C++ -*-===//
//
// One generator per kernel form (ir/KernelForms.h): a single loop for
// element-wise kernels, a loop over rows for row-wise kernels, and
// register-tiled matrix products with their epilogues for contractions.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_FUSEDKERNELS_H
#define NNC_CODEGEN_FUSEDKERNELS_H

#include "codegen/GenericKernel.h"

#include "ir/KernelForms.h"

namespace nnc::codegen {

/// The element types of an op's operands, as KernelBuilder::elementwise
/// takes them.
llvm::SmallVector<ElementType, 3> operandTypes(const Op &op);

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
  /// The left operand is the batch itself, a graph argument (input images:
  /// 81% of MNIST's pixels are zero), rather than a relu's output or a
  /// gradient through one (about half zero).
  bool aMostlyZero = false;
  /// The target has AVX-512's compress for vectors of vectorWidth i32.
  bool avx512Compress = false;
  /// The left operand, a [rows, columns] buffer, is stored blocked by the
  /// threads that own its columns (nnc::ownedRows over the columns): thread
  /// t's columns [c0, c1) of every row lie together, row after row, from
  /// element rows * c0, so that no page holds two threads' elements. Only
  /// for a kernel that contractionReadsAByOwner.
  bool aBlockedByOwner = false;
};

/// Whether a contraction kernel reads its left operand, viewed as the
/// [rows, columns] buffer it is stored in, only in the columns that the
/// reading thread owns (nnc::ownedRows): a product whose threads split the
/// depth (A stored by rows: the batch times the first layer's weight), or
/// a weight gradient over rows with bit masks (A stored transposed: X^T
/// dY, each thread the rows of the weight it owns). Such an operand may be
/// stored blocked by owner (ContractionOptions::aBlockedByOwner).
bool contractionReadsAByOwner(const KernelFormInfo &info,
                              const ContractionOptions &options);

void emitContractionKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads,
                           const ContractionOptions &options);

} // namespace nnc::codegen

#endif
