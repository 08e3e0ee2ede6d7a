//===- PoolingFolds.cpp - Simplifications around max_pool2d_grad ---------===//
//
// The folds of select and reduce_sum that involve max_pool2d_grad. Both
// rest on max_pool2d_grad sending each dy to one element of x, the first
// maximum m of its window, where x equals max_pool2d(x) of that window.
//
// A relu's gradient after max pooling is select(x > 0, max_pool2d_grad(x,
// dy), 0): it masks the full-size gradient, which only the maxima can make
// non-zero. The mask at m is max_pool2d(x) > 0 at the window, so it can mask
// dy instead, at the pooled size (a quarter for 2x2 windows), and the
// full-size mask need not be kept for the backward pass at all. The
// result is exactly the same: every element gets the same sum of the same
// dy, masked alike.
//
// The bias gradient of the convolution before the pooling sums that
// gradient over the batch and the image. Over the image, each dy is counted
// once wherever it went, so the sum is dy's own over the same axes: a
// quarter of the reads, in another order of the same terms.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"

#include "llvm/ADT/STLExtras.h"

namespace nnc {

Value *ops::foldMaskOfMaxPoolGrad(Op &select, Builder &b) {
  Value *grad = select.operand(1);
  Op *scatter = grad->definingOp();
  Op *mask = select.operand(0)->definingOp();
  if (!scatter || !scatter->is(OpKind::MaxPool2DGrad) || !mask ||
      !mask->is(OpKind::Compare) || grad->uses().size() != 1 ||
      grad->type() != select.result()->type())
    return nullptr;
  auto otherwise = getSplatConstant(select.operand(2));
  if (!otherwise || *otherwise != 0.0)
    return nullptr;
  // The mask compares x itself, on either side, with one value.
  Value *x = scatter->operand(0);
  unsigned side = mask->operand(0) == x ? 0 : 1;
  if (mask->operand(side) != x ||
      mask->result()->type().shape() != x->type().shape())
    return nullptr;
  auto bound = getSplatConstant(mask->operand(1 - side));
  if (!bound)
    return nullptr;
  Value *pooled = b.createValue(OpKind::MaxPool2D, {x}, scatter->attrs());
  Value *c = b.scalar(*bound, x->type().element());
  const std::string &predicate = mask->attrs().getString("predicate");
  Value *pooledMask = side == 0 ? b.compare(predicate, pooled, c)
                                : b.compare(predicate, c, pooled);
  Value *dy = scatter->operand(1);
  Value *maskedDy = b.select(pooledMask, dy,
                             b.scalar(0.0, select.result()->type().element()));
  return b.createValue(OpKind::MaxPool2DGrad, {x, maskedDy}, scatter->attrs());
}

Value *ops::foldSumOfMaxPoolGrad(Op &reduceSum, Builder &b) {
  Op *scatter = reduceSum.operand(0)->definingOp();
  if (!scatter || !scatter->is(OpKind::MaxPool2DGrad))
    return nullptr;
  const std::vector<int64_t> &axes = reduceSum.attrs().getIntList("axes");
  if (!llvm::is_contained(axes, 1) || !llvm::is_contained(axes, 2))
    return nullptr;
  Value *sum = b.reduceSum(scatter->operand(1), axes,
                           reduceSum.attrs().getBool("keepdims"));
  return sum->type() == reduceSum.result()->type() ? sum : nullptr;
}

} // namespace nnc
