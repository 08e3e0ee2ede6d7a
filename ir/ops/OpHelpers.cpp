//===- OpHelpers.cpp - Shared pieces of op definitions --------------------===//
#include "ir/ops/OpHelpers.h"

#include "llvm/ADT/STLExtras.h"

namespace nnc::ops {

llvm::Error requireFloat(const TensorType &t, llvm::StringRef what) {
  if (isFloat(t.element()))
    return llvm::Error::success();
  return opError(what + " must have a floating-point type, got " + t.str());
}

BroadcastMap::BroadcastMap(llvm::ArrayRef<int64_t> operandShape,
                           llvm::ArrayRef<int64_t> resultShape)
    : resultDims(resultShape.begin(), resultShape.end()),
      operandStrides(resultShape.size(), 0) {
  Shape strides = rowMajorStrides(operandShape);
  size_t offset = resultShape.size() - operandShape.size();
  for (size_t i = 0; i < operandShape.size(); ++i)
    operandStrides[offset + i] = operandShape[i] == 1 ? 0 : strides[i];
}

int64_t BroadcastMap::operator()(int64_t resultIndex) const {
  int64_t index = 0;
  for (int d = int(resultDims.size()) - 1; d >= 0; --d) {
    index += (resultIndex % resultDims[d]) * operandStrides[d];
    resultIndex /= resultDims[d];
  }
  return index;
}

llvm::SmallVector<int64_t, 0> reducedIndices(llvm::ArrayRef<int64_t> shape,
                                             llvm::ArrayRef<int64_t> axes,
                                             int64_t r) {
  unsigned rank = shape.size();
  Shape strides = rowMajorStrides(shape);
  llvm::SmallVector<bool, 4> isReduced(rank, false);
  for (int64_t a : axes)
    isReduced[a] = true;
  // Position of result element r along the kept axes.
  int64_t base = 0;
  for (int d = int(rank) - 1; d >= 0; --d) {
    if (isReduced[d])
      continue;
    base += (r % shape[d]) * strides[d];
    r /= shape[d];
  }
  llvm::SmallVector<int64_t, 0> out{base};
  for (unsigned d = 0; d < rank; ++d) {
    if (!isReduced[d])
      continue;
    llvm::SmallVector<int64_t, 0> next;
    for (int64_t start : out)
      for (int64_t k = 0; k < shape[d]; ++k)
        next.push_back(start + k * strides[d]);
    out = std::move(next);
  }
  llvm::sort(out);
  return out;
}

llvm::Error checkAxes(llvm::ArrayRef<int64_t> axes, unsigned rank) {
  llvm::SmallVector<bool, 4> seen(rank, false);
  for (int64_t a : axes) {
    if (a < 0 || a >= int64_t(rank))
      return opError("axis " + llvm::Twine(a) + " is out of range for rank " +
                     llvm::Twine(rank));
    if (seen[a])
      return opError("axis " + llvm::Twine(a) + " is listed twice");
    seen[a] = true;
  }
  return llvm::Error::success();
}

Shape reducedShape(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> axes,
                   bool keepdims) {
  Shape out;
  for (unsigned d = 0; d < shape.size(); ++d) {
    bool reduced = llvm::is_contained(axes, int64_t(d));
    if (!reduced)
      out.push_back(shape[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

} // namespace nnc::ops
