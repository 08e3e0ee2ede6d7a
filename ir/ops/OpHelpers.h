//===- OpHelpers.h - Shared pieces of op definitions ------------*- C++ -*-===//
//
// Internal to ir/ops/: type-rule checks and index arithmetic that several op
// families use.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_OPS_OPHELPERS_H
#define NNC_IR_OPS_OPHELPERS_H

#include "ir/Builder.h"
#include "ir/Gradient.h"
#include "ir/HostTensor.h"
#include "ir/OpDef.h"

namespace nnc::ops {

using ResultTypes = llvm::SmallVector<TensorType, 1>;

inline llvm::Expected<ResultTypes> result(TensorType t) {
  return ResultTypes{std::move(t)};
}

/// Error unless `t` has a floating-point element type.
llvm::Error requireFloat(const TensorType &t, llvm::StringRef what);

/// Maps the flat index of an output element to the flat index of the element
/// of a NumPy-broadcast operand that it reads.
class BroadcastMap {
public:
  BroadcastMap(llvm::ArrayRef<int64_t> operandShape,
               llvm::ArrayRef<int64_t> resultShape);
  int64_t operator()(int64_t resultIndex) const;

private:
  Shape resultDims;
  Shape operandStrides; ///< Aligned to the result's rank; 0 where broadcast.
};

/// Applies `f` to each result element with the broadcast operand elements.
template <typename F>
void mapElements(llvm::ArrayRef<const HostTensor *> in, HostTensor &out, F f) {
  llvm::SmallVector<BroadcastMap, 3> maps;
  for (const HostTensor *t : in)
    maps.emplace_back(t->type.shape(), out.type.shape());
  llvm::SmallVector<double, 3> args(in.size());
  for (int64_t i = 0; i < out.size(); ++i) {
    for (size_t k = 0; k < in.size(); ++k)
      args[k] = (*in[k])[maps[k](i)];
    out[i] = f(llvm::ArrayRef<double>(args));
  }
}

/// Splits a shape around `axes` for reductions: each result element is
/// reduced over the elements that differ only along `axes`.
struct ReductionShape {
  Shape keptDims;    ///< Shape of the result with keepdims.
  int64_t outer = 1; ///< Number of result elements.
  int64_t reduced = 1;
};

/// The flat input indices reduced into result element `r`, in row-major order.
llvm::SmallVector<int64_t, 0> reducedIndices(llvm::ArrayRef<int64_t> shape,
                                             llvm::ArrayRef<int64_t> axes,
                                             int64_t r);

/// Checks reduction axes against a rank: in range and without repeats.
llvm::Error checkAxes(llvm::ArrayRef<int64_t> axes, unsigned rank);

/// The shape left after reducing `axes` (kept as 1s when keepdims).
Shape reducedShape(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> axes,
                   bool keepdims);

/// Folds across op families, around max_pool2d_grad (PoolingFolds.cpp):
/// the mask of select(x > c, max_pool2d_grad(x, dy), 0) moves to dy's side,
/// and a sum of max_pool2d_grad(x, dy) over its spatial axes is dy's sum.
Value *foldMaskOfMaxPoolGrad(Op &select, Builder &b);
Value *foldSumOfMaxPoolGrad(Op &reduceSum, Builder &b);

} // namespace nnc::ops

#endif
