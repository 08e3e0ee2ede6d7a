//===- PoolingOps.cpp - max and average pooling and their gradients -------===//
//
// max_pool2d and avg_pool2d reduce each window of an NHWC image, channel by
// channel, over the input elements it covers: padding adds no elements, so
// the maximum is over real values and the average divides by the number of
// elements inside the image (as TensorFlow and Keras do for
// padding="same"). Every window must hold at least one element, which a
// padding smaller than the window on each side guarantees.
//
// Their gradients are ops of their own: max_pool2d_grad(x, dy) sends each
// dy to the first maximum of its window in row-major order (as PyTorch and
// TensorFlow do), so ties do not double the gradient; avg_pool2d_grad(dy)
// spreads dy / count evenly over the window. The second is linear, and its
// own gradient is avg_pool2d again.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpRegistration.h"
#include "ir/ops/Windows.h"

#include <cmath>

namespace nnc {
using namespace ops;

namespace {

llvm::Expected<Window2D> poolWindow(const AttrDict &attrs) {
  const std::vector<int64_t> &size = attrs.getIntList("window");
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    return opError("'window' needs 2 positive values, got " +
                   Attribute(size).str());
  auto window = readWindow(attrs, {size[0], size[1]}, /*withDilations=*/false);
  if (!window)
    return window.takeError();
  for (int axis : {0, 1})
    if (window->padBefore[axis] >= size[axis] ||
        window->padAfter[axis] >= size[axis])
      return opError("padding " + Attribute(attrs.getIntList("padding")).str() +
                     " must be smaller than the " + window->describe() +
                     " window on each side, so that every window covers an "
                     "element of the input");
  return window;
}

/// The shape pooling `input` gives.
llvm::Expected<Shape> pooledShape(const TensorType &input,
                                  const AttrDict &attrs) {
  if (llvm::Error err = requireImage(input, "the input"))
    return std::move(err);
  auto window = poolWindow(attrs);
  if (!window)
    return window.takeError();
  return windowedShape(input, *window, input.dim(3), "the pooling");
}

/// Checks that `outputGrad` has the shape pooling `input` gives.
llvm::Error checkOutputGrad(const TensorType &outputGrad,
                            const TensorType &input, const AttrDict &attrs,
                            llvm::StringRef pool) {
  auto shape = pooledShape(input, attrs);
  if (!shape)
    return shape.takeError();
  if (outputGrad.element() != input.element() ||
      outputGrad.shape() != llvm::ArrayRef<int64_t>(*shape))
    return opError("the output gradient " + outputGrad.str() +
                   " does not match the " + input.withShape(*shape).str() +
                   " that " + pool + " gives for the input " + input.str());
  return llvm::Error::success();
}

/// Calls f(y, x) for each output element (its flat index) with the flat
/// indices of the input elements its window covers, in row-major order.
template <typename F>
void forEachWindow(const Window2D &window, const TensorType &input,
                   const TensorType &output, F f) {
  NhwcIndex in(input), out(output);
  llvm::SmallVector<int64_t, 16> covered;
  for (int64_t n = 0; n < output.dim(0); ++n)
    for (int64_t oh = 0; oh < output.dim(1); ++oh)
      for (int64_t ow = 0; ow < output.dim(2); ++ow)
        for (int64_t c = 0; c < output.dim(3); ++c) {
          covered.clear();
          for (int64_t i = 0; i < window.size[0]; ++i) {
            int64_t ih = window.inputPosition(0, oh, i);
            if (ih < 0 || ih >= in.height)
              continue;
            for (int64_t j = 0; j < window.size[1]; ++j) {
              int64_t iw = window.inputPosition(1, ow, j);
              if (iw >= 0 && iw < in.width)
                covered.push_back(in(n, ih, iw, c));
            }
          }
          f(out(n, oh, ow, c), llvm::ArrayRef<int64_t>(covered));
        }
}

/// The first maximum among `x[covered]`; a NaN is larger than any number,
/// so the maximum of a window that holds one is NaN, as in PyTorch.
int64_t firstMaximum(const HostTensor &x, llvm::ArrayRef<int64_t> covered) {
  int64_t best = covered[0];
  for (int64_t k : covered.drop_front())
    if (x[k] > x[best] || (std::isnan(x[k]) && !std::isnan(x[best])))
      best = k;
  return best;
}

} // namespace

static llvm::Expected<ResultTypes> inferPool(const OpSignature &sig) {
  const TensorType &x = sig.operands[0];
  auto shape = pooledShape(x, sig.attrs);
  if (!shape)
    return shape.takeError();
  return result(x.withShape(*shape));
}

static llvm::Expected<ResultTypes> inferMaxPoolGrad(const OpSignature &sig) {
  const TensorType &x = sig.operands[0], &dy = sig.operands[1];
  if (llvm::Error err = checkOutputGrad(dy, x, sig.attrs, "max_pool2d"))
    return std::move(err);
  return result(x);
}

static llvm::Expected<ResultTypes> inferAvgPoolGrad(const OpSignature &sig) {
  const TensorType &dy = sig.operands[0], &dx = sig.declared[0];
  if (llvm::Error err = checkOutputGrad(dy, dx, sig.attrs, "avg_pool2d"))
    return std::move(err);
  return result(dx);
}

static Window2D windowOf(const Op &op) {
  return cantFail(poolWindow(op.attrs()));
}

static llvm::Error evalMaxPool(const Op &op,
                               llvm::ArrayRef<const HostTensor *> in,
                               llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0];
  forEachWindow(windowOf(op), x.type, out[0].type,
                [&](int64_t y, llvm::ArrayRef<int64_t> covered) {
                  out[0][y] = x[firstMaximum(x, covered)];
                });
  return llvm::Error::success();
}

static llvm::Error evalAvgPool(const Op &op,
                               llvm::ArrayRef<const HostTensor *> in,
                               llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0];
  forEachWindow(windowOf(op), x.type, out[0].type,
                [&](int64_t y, llvm::ArrayRef<int64_t> covered) {
                  double s = 0;
                  for (int64_t k : covered)
                    s += x[k];
                  out[0][y] = s / double(covered.size());
                });
  return llvm::Error::success();
}

static llvm::Error evalMaxPoolGrad(const Op &op,
                                   llvm::ArrayRef<const HostTensor *> in,
                                   llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0], &dy = *in[1];
  HostTensor &dx = out[0];
  std::fill(dx.data.begin(), dx.data.end(), 0.0);
  forEachWindow(windowOf(op), x.type, dy.type,
                [&](int64_t y, llvm::ArrayRef<int64_t> covered) {
                  dx[firstMaximum(x, covered)] += dy[y];
                });
  return llvm::Error::success();
}

static llvm::Error evalAvgPoolGrad(const Op &op,
                                   llvm::ArrayRef<const HostTensor *> in,
                                   llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &dy = *in[0];
  HostTensor &dx = out[0];
  std::fill(dx.data.begin(), dx.data.end(), 0.0);
  forEachWindow(windowOf(op), dx.type, dy.type,
                [&](int64_t y, llvm::ArrayRef<int64_t> covered) {
                  double share = dy[y] / double(covered.size());
                  for (int64_t k : covered)
                    dx[k] += share;
                });
  return llvm::Error::success();
}

static void gradMaxPool(GradContext &c) {
  c.setGrad(0, c.b.createValue(OpKind::MaxPool2DGrad,
                               {c.operand(0), c.resultGrad()}, c.op.attrs()));
}

static void gradAvgPool(GradContext &c) {
  c.setGrad(0, c.b.createValue(OpKind::AvgPool2DGrad, {c.resultGrad()},
                               c.op.attrs(), {c.operand(0)->type()}));
}

static void gradAvgPoolGrad(GradContext &c) {
  c.setGrad(0,
            c.b.createValue(OpKind::AvgPool2D, {c.resultGrad()}, c.op.attrs()));
}

static std::vector<AttrSpec> poolAttrs() {
  return {AttrSpec::required("window", AttrKind::IntList),
          AttrSpec::defaulted("strides", std::vector<int64_t>{1, 1}),
          AttrSpec::defaulted("padding", std::vector<int64_t>{0, 0, 0, 0})};
}

void registerPoolingOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::MaxPool2D,
            .name = "max_pool2d",
            .summary = "the maximum of each window of an NHWC image",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Opaque,
            .attrs = poolAttrs(),
            .infer = inferPool,
            .eval = evalMaxPool,
            .grad = gradMaxPool});
  add(OpDef{.kind = OpKind::AvgPool2D,
            .name = "avg_pool2d",
            .summary = "the mean of each window of an NHWC image",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Opaque,
            .attrs = poolAttrs(),
            .infer = inferPool,
            .eval = evalAvgPool,
            .grad = gradAvgPool});
  add(OpDef{.kind = OpKind::MaxPool2DGrad,
            .name = "max_pool2d_grad",
            .summary = "max_pool2d's gradient, to each window's first maximum",
            .minOperands = 2,
            .maxOperands = 2,
            .fusion = FusionClass::Opaque,
            .attrs = poolAttrs(),
            .infer = inferMaxPoolGrad,
            .eval = evalMaxPoolGrad});
  add(OpDef{.kind = OpKind::AvgPool2DGrad,
            .name = "avg_pool2d_grad",
            .summary = "avg_pool2d's gradient, spread evenly over each window",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Opaque,
            .takesResultType = true,
            .attrs = poolAttrs(),
            .infer = inferAvgPoolGrad,
            .eval = evalAvgPoolGrad,
            .grad = gradAvgPoolGrad});
}

} // namespace nnc
