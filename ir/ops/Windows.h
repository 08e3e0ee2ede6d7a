//===- Windows.h - Windows sliding over NHWC images -------------*- C++ -*-===//
//
// Internal to ir/ops/: the geometry that convolution and pooling share. A
// window of size k (dilated by d, so it spans (k - 1) * d + 1 elements)
// slides with stride s over an axis padded by `before` and `after` virtual
// elements; output position o at window offset j reads input position
//
//   o * s + j * d - before,
//
// and reads nothing (a zero for convolution, no element for pooling) when
// that falls outside the input. Images are NHWC: axis 1 is the height and
// axis 2 the width.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_OPS_WINDOWS_H
#define NNC_IR_OPS_WINDOWS_H

#include "ir/Structured.h"
#include "ir/ops/OpHelpers.h"

#include <array>

namespace nnc::ops {

struct Window2D {
  std::array<int64_t, 2> size = {1, 1};
  std::array<int64_t, 2> stride = {1, 1};
  std::array<int64_t, 2> dilation = {1, 1};
  std::array<int64_t, 2> padBefore = {0, 0}; ///< top, left
  std::array<int64_t, 2> padAfter = {0, 0};  ///< bottom, right

  /// How many input positions the dilated window spans along `axis` (0 for
  /// the height, 1 for the width).
  int64_t span(int axis) const { return (size[axis] - 1) * dilation[axis] + 1; }
  /// The output length along `axis` for an input of length `in`; the input
  /// must be at least as long as the span once padded.
  int64_t outputLength(int axis, int64_t in) const {
    return (in + padBefore[axis] + padAfter[axis] - span(axis)) / stride[axis] +
           1;
  }
  /// The input position that output `o` reads at window offset `j`; may be
  /// outside [0, length) where the window overlaps the padding.
  int64_t inputPosition(int axis, int64_t o, int64_t j) const {
    return o * stride[axis] + j * dilation[axis] - padBefore[axis];
  }
  /// "3x3" or "3x3 dilated by 2x2 (5x5)".
  std::string describe() const;
};

/// Reads `strides`, `padding` and (when `withDilations`) `dilations` from
/// checked attributes into a window of `size`, and checks them: two
/// positive strides and dilations, four non-negative paddings.
llvm::Expected<Window2D> readWindow(const AttrDict &attrs,
                                    std::array<int64_t, 2> size,
                                    bool withDilations);

/// The shape [N, OH, OW, channels] a window over the NHWC `input` gives.
/// Errors name the input and `what` has the window ("the kernel f32[...]")
/// when the padded input is smaller than the window. `input` must be rank
/// 4 (checked by the caller, who can say what it expected).
llvm::Expected<Shape> windowedShape(const TensorType &input,
                                    const Window2D &window, int64_t channels,
                                    const llvm::Twine &what);

/// Error unless `t` is a rank-4 NHWC image; `what` names it in the message.
llvm::Error requireImage(const TensorType &t, llvm::StringRef what);

/// Structured index maps (ir/Structured.h) over a window: the input
/// position o * s + j * d - before that output `o` (domain dimension
/// `oDim`) reads at window offset `j` (dimension `jDim`)...
AffineExpr windowInput(const Window2D &w, int axis, unsigned oDim,
                       unsigned jDim, unsigned rank);
/// ...and, the other way round, the output position (h + before - j * d)
/// / s whose window reads input position `h` at offset `j`: exact
/// quotients only (AffineExpr::divisor).
AffineExpr windowOutput(const Window2D &w, int axis, unsigned hDim,
                        unsigned jDim, unsigned rank);

/// Row-major index of element (n, h, w, c) of an NHWC tensor.
struct NhwcIndex {
  int64_t height, width, channels;
  explicit NhwcIndex(const TensorType &t)
      : height(t.dim(1)), width(t.dim(2)), channels(t.dim(3)) {}
  int64_t operator()(int64_t n, int64_t h, int64_t w, int64_t c) const {
    return ((n * height + h) * width + w) * channels + c;
  }
};

} // namespace nnc::ops

#endif // NNC_IR_OPS_WINDOWS_H
