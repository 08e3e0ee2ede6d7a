//===- KernelForms.h - The shapes of fused kernel bodies --------*- C++ -*-===//
//
// The fusion pass forms kernels and code generation compiles them; this is
// their contract. A kernel body has one of three forms, each with a
// specialised code generator:
//
// - Elementwise: element-wise ops (and constants) whose results all have the
//   kernel's iteration shape, reading inputs that broadcast to it: one loop.
// - Rowwise: over a [rows, cols] space, "row" values computed per row
//   (softmax, cross-entropy, argmax, reductions over the last axis, one_hot,
//   element-wise ops on [rows, cols], [rows] and [rows, 1]), reductions of
//   row values over the batch, and "post" element-wise ops on their [cols]
//   or scalar results.
// - Contraction: one matmul of two kernel inputs and an element-wise
//   epilogue at its output shape, whose side inputs broadcast to it (a
//   transposed right operand at most kMaxPackedDepth deep).
//
// In every form, scalar element-wise ops on scalars may appear anywhere:
// they are computed once per kernel invocation.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_KERNELFORMS_H
#define NNC_IR_KERNELFORMS_H

#include "ir/Graph.h"
#include "ir/StructureMatch.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace nnc {

enum class KernelForm { Elementwise, Rowwise, Contraction };

/// Where a value of a kernel body is computed.
enum class ValuePhase {
  None,   ///< not a computed value (the yield)
  Scalar, ///< once per invocation: constants and scalar ops
  Row,    ///< rowwise: per row
  Post,   ///< rowwise: after the batch reductions
  Space,  ///< elementwise and contraction: per element of the space
};

struct KernelFormInfo {
  KernelForm form;
  /// Elementwise: the iteration shape. Rowwise: [rows, cols].
  /// Contraction: the matmul's output shape.
  Shape space;
  /// Contraction: the op computing the product, and how.
  const Op *product = nullptr;
  Product shape;
  /// The phase of every op of the body (but the yield).
  llvm::DenseMap<const Op *, ValuePhase> phase;
};

/// The deepest product with a transposed right operand a contraction kernel
/// takes: it copies a [depth, 64] panel of that operand to the stack.
constexpr int64_t kMaxPackedDepth = 4096;

/// Classifies a kernel body; nullopt if it has none of the forms.
std::optional<KernelFormInfo> classifyKernel(const Graph &body);

/// Classifies ops of a graph as the body of one kernel would be if they were
/// outlined into it: values other ops compute are its inputs, and results
/// read by other ops its outputs. `ops` are in program order.
std::optional<KernelFormInfo> classifyOps(llvm::ArrayRef<const Op *> ops);

} // namespace nnc

#endif
