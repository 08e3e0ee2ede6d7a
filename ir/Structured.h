//===- Structured.h - Ops described by loop nests ---------------*- C++ -*-===//
//
// Every op that computes describes itself as a short sequence of structured
// stages, in the spirit of MLIR's linalg.generic: a stage has an iteration
// domain (parallel dimensions first, then reduction dimensions), reads each
// of its operands through an affine index map (strides, offsets and padding
// express transposes, broadcasts, slices and windows), computes a scalar
// body at every point, and combines the points of each reduction with sum,
// max, min or argmax (max and argmax in two flavours: NaN ignored, or NaN
// propagating). A stage writes one tensor laid out row-major over its
// parallel dimensions: an op result, or an intermediate a later stage reads
// (softmax's row maxima and sums).
//
// The description is the single source of an op's loop structure: the
// generic code generator compiles it, the kernel forms (ir/KernelForms.h)
// are classified from it, and the cost model counts from it. Hand-written
// reference semantics in the op definitions are checked against it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_STRUCTURED_H
#define NNC_IR_STRUCTURED_H

#include "ir/HostTensor.h"
#include "ir/ScalarBody.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace nnc {

class Op;

/// (sum_d coeffs[d] * i_d + offset) / divisor over the stage's domain
/// dimensions. With a divisor, a point where the division is not exact
/// reads the operand's padding (a strided convolution's input gradient
/// reads the output gradient only at multiples of the stride).
struct AffineExpr {
  llvm::SmallVector<int64_t, 6> coeffs;
  int64_t offset = 0;
  int64_t divisor = 1;

  static AffineExpr dim(unsigned d, unsigned rank, int64_t scale = 1,
                        int64_t offset = 0);
  static AffineExpr constant(int64_t c, unsigned rank);
  /// The numerator; the index is it / divisor where that is exact.
  int64_t evaluate(llvm::ArrayRef<int64_t> point) const;
  /// The single dimension this reads with coefficient 1 and no offset.
  std::optional<unsigned> asDim() const;
  bool isConstant() const;
};

/// How a stage reads one operand: which tensor (an op operand, or an
/// earlier stage's intermediate), the shape it is indexed as (a reshape
/// reads its operand flat), and one affine expression per dimension of
/// that shape. With `padding`, a point outside the shape reads that value;
/// without, every point must be inside (verifyStructured checks it).
struct StageOperand {
  static constexpr int kNone = -1;
  int operand = kNone; ///< op operand number, or kNone
  int stage = kNone;   ///< earlier stage number, or kNone
  Shape view;
  llvm::SmallVector<AffineExpr, 4> map;
  std::optional<double> padding;
};

enum class Combiner : uint8_t {
  None,   ///< no reduction dimensions: the body's value is the element
  Sum,    ///< in row-major order of the reduction dimensions, from 0
  Max,    ///< from -inf; a larger value replaces, so NaN never wins
  Min,    ///< from +inf; a smaller value replaces
  ArgMax, ///< the row-major position of the first maximum, as i32
  /// As Max, but NaN propagates (PyTorch's and TensorFlow's max pooling):
  /// a larger value or a NaN replaces, and nothing replaces a NaN, so the
  /// result is NaN when any point is.
  MaxNaN,
  /// As ArgMax under MaxNaN's order: the position of the first NaN if
  /// there is one, else of the first maximum.
  ArgMaxNaN,
};

llvm::StringRef combinerName(Combiner c);

struct StructuredStage {
  Shape domain;
  unsigned parallel = 0; ///< domain[0, parallel) are parallel dimensions
  llvm::SmallVector<StageOperand, 3> operands;
  ScalarBody body; ///< inputs are the operands, indices the domain's
  Combiner combiner = Combiner::None;
  ElementType type = ElementType::F32;
  int result = -1; ///< the op result this stage writes; -1: intermediate

  llvm::ArrayRef<int64_t> parallelShape() const {
    return llvm::ArrayRef<int64_t>(domain).take_front(parallel);
  }
  llvm::ArrayRef<int64_t> reductionShape() const {
    return llvm::ArrayRef<int64_t>(domain).drop_front(parallel);
  }
  int64_t points() const;
};

/// An op as stages, each reading op operands or earlier stages.
struct StructuredOp {
  llvm::SmallVector<StructuredStage, 1> stages;
  std::string str() const;
};

/// Builds the description of an op, or nullopt for an op that does not
/// compute (param, return, kernel) or is a declared exception (allreduce).
using StructureFn = std::optional<StructuredOp> (*)(const Op &op);

/// The description of `op` from its definition, or nullopt.
std::optional<StructuredOp> describe(const Op &op);

/// Checks a description against the op's operand and result types: index
/// maps inside their shapes (or padded), each result written once with its
/// element count and type.
llvm::Error verifyStructured(const Op &op, const StructuredOp &s);

/// Runs a description on host tensors, in double, with no rounding between
/// stages: the reference the code generators are checked against.
llvm::Error evaluateStructured(const StructuredOp &s,
                               llvm::ArrayRef<const HostTensor *> operands,
                               llvm::MutableArrayRef<HostTensor> results);

/// OpDef::eval for ops whose reference semantics is their description.
llvm::Error evaluateDescribed(const Op &op,
                              llvm::ArrayRef<const HostTensor *> operands,
                              llvm::MutableArrayRef<HostTensor> results);

namespace structured {

/// An operand read NumPy-broadcast into a domain whose leading dimensions
/// are `space`.
StageOperand broadcastOperand(int operand, llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int64_t> space, unsigned rank);

/// A stage over `space` with no reductions whose operands broadcast to it.
StructuredStage elementwise(const Op &op, ScalarBody body);

/// The stage reading `stage` (or operand) of `shape` identically at the
/// leading dimensions of a domain of `rank`.
StageOperand identity(int operand, int stage, llvm::ArrayRef<int64_t> shape,
                      unsigned rank);

} // namespace structured

} // namespace nnc

#endif // NNC_IR_STRUCTURED_H
