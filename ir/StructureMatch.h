//===- StructureMatch.h - What an op's loop structure is --------*- C++ -*-===//
//
// The kernel forms (ir/KernelForms.h) and the passes that plan kernels ask
// what an op does to its operands' elements, not what it is called. These
// matchers read the answer off the op's structured description
// (ir/Structured.h), so an op gets the fast kernels its loop structure
// allows by being defined, with no list of op kinds to join.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_STRUCTUREMATCH_H
#define NNC_IR_STRUCTUREMATCH_H

#include "ir/Graph.h"

#include <optional>
#include <utility>

namespace nnc {

/// Element-wise: one stage, no reductions, over the result's shape, reading
/// every operand NumPy-broadcast (each index the aligned loop index, or 0
/// on a dimension of size 1) and computing a body that does not depend on
/// the position (no loop indices, no random draws).
bool isElementwise(const Op &op);

/// True for element-wise ops on scalars, which every kernel form computes
/// once per invocation.
bool isScalarElementwise(const Op &op);

/// A product the contraction tiles compute: C[m, n] = sum_k A[m, k] B[k, n]
/// in f32, with A and B read directly or transposed.
struct Product {
  unsigned lhs = 0, rhs = 1; ///< the operand numbers of A and B
  bool transposeA = false;   ///< A is stored [k, m]
  bool transposeB = false;   ///< B is stored [n, k]
  int64_t m = 0, n = 0, depth = 0;
};

/// The product `op` computes, if its description is one sum over a [m, n |
/// k] domain of the product of two rank-2 f32 operands, each read through
/// a permutation of (m, k) or (k, n).
std::optional<Product> matchProduct(const Op &op);

/// A row op: [rows, cols] -> [rows] or [rows, cols], every stage a
/// reduction along the rows of its first operand (the innermost axis), an
/// element-wise map over them, or a per-row finish, reading row values at
/// (row, col) and per-row values at (row). Softmax, cross-entropy, argmax
/// and reductions over the last axis are; returns [rows, cols].
std::optional<std::pair<int64_t, int64_t>> rowSpaceOf(const Op &op);

/// A row expansion: [rows] -> [rows, cols], no reduction, reading the
/// per-row operand at (row) (one_hot). Returns [rows, cols].
std::optional<std::pair<int64_t, int64_t>> rowExpansionOf(const Op &op);

/// A batch reduction: [rows] -> [] or [rows, cols] -> [cols], summing or
/// taking the maximum over the first axis, and perhaps finishing each
/// result element (a mean's division).
bool isBatchReduction(const Op &op);

} // namespace nnc

#endif // NNC_IR_STRUCTUREMATCH_H
