//===- Windows.cpp - Windows sliding over NHWC images ---------------------===//
#include "ir/ops/Windows.h"

namespace nnc::ops {

std::string Window2D::describe() const {
  std::string s = std::to_string(size[0]) + "x" + std::to_string(size[1]);
  if (dilation[0] != 1 || dilation[1] != 1)
    s += " dilated by " + std::to_string(dilation[0]) + "x" +
         std::to_string(dilation[1]) + " (" + std::to_string(span(0)) + "x" +
         std::to_string(span(1)) + ")";
  return s;
}

static llvm::Error checkList(const AttrDict &attrs, llvm::StringRef name,
                             size_t length, int64_t least) {
  const std::vector<int64_t> &values = attrs.getIntList(name);
  if (values.size() != length)
    return opError("'" + name + "' needs " + llvm::Twine(length) +
                   " values, got " + Attribute(values).str());
  for (int64_t v : values)
    if (v < least)
      return opError("'" + name + "' must be " +
                     (least == 0 ? "non-negative" : "positive") + ", got " +
                     Attribute(values).str());
  return llvm::Error::success();
}

llvm::Expected<Window2D> readWindow(const AttrDict &attrs,
                                    std::array<int64_t, 2> size,
                                    bool withDilations) {
  if (llvm::Error err = checkList(attrs, "strides", 2, 1))
    return std::move(err);
  if (llvm::Error err = checkList(attrs, "padding", 4, 0))
    return std::move(err);
  Window2D w;
  w.size = size;
  const std::vector<int64_t> &strides = attrs.getIntList("strides");
  const std::vector<int64_t> &padding = attrs.getIntList("padding");
  w.stride = {strides[0], strides[1]};
  w.padBefore = {padding[0], padding[2]};
  w.padAfter = {padding[1], padding[3]};
  if (withDilations) {
    if (llvm::Error err = checkList(attrs, "dilations", 2, 1))
      return std::move(err);
    const std::vector<int64_t> &dilations = attrs.getIntList("dilations");
    w.dilation = {dilations[0], dilations[1]};
  }
  return w;
}

llvm::Expected<Shape> windowedShape(const TensorType &input,
                                    const Window2D &window, int64_t channels,
                                    const llvm::Twine &what) {
  int64_t padded[2];
  for (int axis : {0, 1}) {
    padded[axis] =
        input.dim(1 + axis) + window.padBefore[axis] + window.padAfter[axis];
  }
  if (padded[0] < window.span(0) || padded[1] < window.span(1))
    return opError("the " + window.describe() + " window of " + what +
                   " is larger than the input " + input.str() +
                   (padded[0] != input.dim(1) || padded[1] != input.dim(2)
                        ? " padded to " + std::to_string(padded[0]) + "x" +
                              std::to_string(padded[1])
                        : std::string()));
  return Shape{input.dim(0), window.outputLength(0, input.dim(1)),
               window.outputLength(1, input.dim(2)), channels};
}

llvm::Error requireImage(const TensorType &t, llvm::StringRef what) {
  if (t.rank() != 4)
    return opError(what +
                   " must be NHWC [batch, height, width, channels], "
                   "got " +
                   t.str() + " of rank " + llvm::Twine(t.rank()));
  return requireFloat(t, what);
}

AffineExpr windowInput(const Window2D &w, int axis, unsigned oDim,
                       unsigned jDim, unsigned rank) {
  AffineExpr e =
      AffineExpr::dim(oDim, rank, w.stride[axis], -w.padBefore[axis]);
  e.coeffs[jDim] = w.dilation[axis];
  return e;
}

AffineExpr windowOutput(const Window2D &w, int axis, unsigned hDim,
                        unsigned jDim, unsigned rank) {
  AffineExpr e = AffineExpr::dim(hDim, rank, 1, w.padBefore[axis]);
  e.coeffs[jDim] = -w.dilation[axis];
  e.divisor = w.stride[axis];
  return e;
}

} // namespace nnc::ops
