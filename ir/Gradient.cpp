//===- Gradient.cpp - Helpers shared by gradient rules --------------------===//
#include "ir/Gradient.h"

namespace nnc {

Value *GradContext::unbroadcast(Value *grad, unsigned operandIndex) {
  const TensorType &target = op.operand(operandIndex)->type();
  llvm::ArrayRef<int64_t> from = grad->type().shape(), to = target.shape();
  if (from == to)
    return grad;
  // Sum the leading axes the operand lacked and the axes it had as 1.
  llvm::SmallVector<int64_t, 4> axes;
  size_t offset = from.size() - to.size();
  for (size_t d = 0; d < from.size(); ++d)
    if (d < offset || (to[d - offset] == 1 && from[d] != 1))
      axes.push_back(int64_t(d));
  Value *summed = axes.empty() ? grad : b.reduceSum(grad, axes);
  if (summed->type().shape() != to)
    summed = b.reshape(summed, to);
  return summed;
}

} // namespace nnc
