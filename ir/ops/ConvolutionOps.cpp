//===- ConvolutionOps.cpp - conv2d and its two gradients ------------------===//
//
// conv2d slides a filter [kh, kw, in, out] (HWIO, as Keras and TensorFlow
// store it) over an NHWC image:
//
//   y[n, oh, ow, f] = sum over i, j, c of
//                     x[n, oh*sh + i*dh - top, ow*sw + j*dw - left, c]
//                     * w[i, j, c, f]
//
// with zeros read outside the image (ir/ops/Windows.h). Its gradients are
// convolutions too, and each is one op rather than a composition of flips,
// transposes and zero-insertions, so that each is one loop nest:
//
//   conv2d_backprop_input(dy, w)  = dx: every tap of the forward product
//     sends dy[n, oh, ow, f] * w[i, j, c, f] back to the input element it
//     read (the convolution of dy with the flipped filter, its channels
//     swapped, with holes between dy's elements when the stride is over 1);
//   conv2d_backprop_filter(x, dy) = dw: x correlated with dy.
//
// Both take their result type, since strides that do not divide the padded
// input leave the input's (or the filter's) size undetermined by dy. The
// three are linear in each operand and close under differentiation: the
// gradients of each gradient op are the other two ops and conv2d.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpRegistration.h"
#include "ir/ops/Windows.h"

namespace nnc {
using namespace ops;

namespace {

/// The window a conv2d with `attrs` slides over its input, and the shape of
/// its result for `input` and `filter`.
struct ConvGeometry {
  Window2D window;
  Shape output;
};

llvm::Expected<ConvGeometry> convGeometry(const TensorType &input,
                                          const TensorType &filter,
                                          const AttrDict &attrs) {
  if (llvm::Error err = requireImage(input, "the input"))
    return std::move(err);
  if (filter.rank() != 4)
    return opError("the filter must be [height, width, in channels, out "
                   "channels], got " +
                   filter.str() + " of rank " + llvm::Twine(filter.rank()));
  if (input.element() != filter.element())
    return opError("the input " + input.str() + " and the filter " +
                   filter.str() + " differ in element type");
  if (input.dim(3) != filter.dim(2))
    return opError("the input " + input.str() + " has " +
                   llvm::Twine(input.dim(3)) + " channels but the filter " +
                   filter.str() + " expects " + llvm::Twine(filter.dim(2)));
  auto window = readWindow(attrs, {filter.dim(0), filter.dim(1)},
                           /*withDilations=*/true);
  if (!window)
    return window.takeError();
  auto shape = windowedShape(input, *window, filter.dim(3),
                             "the filter " + filter.str());
  if (!shape)
    return shape.takeError();
  return ConvGeometry{*window, *shape};
}

/// Checks that `outputGrad` has the shape conv2d gives for `input` and
/// `filter`: what the two gradient ops require of their operands.
llvm::Error checkOutputGrad(const TensorType &outputGrad,
                            const TensorType &input, const TensorType &filter,
                            const AttrDict &attrs) {
  auto geometry = convGeometry(input, filter, attrs);
  if (!geometry)
    return geometry.takeError();
  if (outputGrad.element() != input.element() ||
      outputGrad.shape() != llvm::ArrayRef<int64_t>(geometry->output))
    return opError("the output gradient " + outputGrad.str() +
                   " does not match the " +
                   input.withShape(geometry->output).str() +
                   " that conv2d gives for the input " + input.str() +
                   " and the filter " + filter.str());
  return llvm::Error::success();
}

/// Calls f(n, oh, ow, i, j, ih, iw) for every tap of the window that reads
/// an element of the input (none of the padding), in row-major order of
/// (n, oh, ow, i, j).
template <typename F>
void forEachTap(const Window2D &window, const TensorType &input,
                const TensorType &output, F f) {
  int64_t batch = output.dim(0), oh = output.dim(1), ow = output.dim(2);
  int64_t height = input.dim(1), width = input.dim(2);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t i = 0; i < window.size[0]; ++i) {
          int64_t ih = window.inputPosition(0, y, i);
          if (ih < 0 || ih >= height)
            continue;
          for (int64_t j = 0; j < window.size[1]; ++j) {
            int64_t iw = window.inputPosition(1, x, j);
            if (iw >= 0 && iw < width)
              f(n, y, x, i, j, ih, iw);
          }
        }
}

/// Row-major index of filter element (i, j, c, f).
struct FilterIndex {
  int64_t width, in, out;
  explicit FilterIndex(const TensorType &t)
      : width(t.dim(1)), in(t.dim(2)), out(t.dim(3)) {}
  int64_t operator()(int64_t i, int64_t j, int64_t c, int64_t f) const {
    return ((i * width + j) * in + c) * out + f;
  }
};

} // namespace

static llvm::Expected<ResultTypes> inferConv2D(const OpSignature &sig) {
  const TensorType &x = sig.operands[0], &w = sig.operands[1];
  auto geometry = convGeometry(x, w, sig.attrs);
  if (!geometry)
    return geometry.takeError();
  return result(x.withShape(geometry->output));
}

static llvm::Expected<ResultTypes> inferBackpropInput(const OpSignature &sig) {
  const TensorType &dy = sig.operands[0], &w = sig.operands[1];
  const TensorType &dx = sig.declared[0];
  if (llvm::Error err = checkOutputGrad(dy, dx, w, sig.attrs))
    return std::move(err);
  return result(dx);
}

static llvm::Expected<ResultTypes> inferBackpropFilter(const OpSignature &sig) {
  const TensorType &x = sig.operands[0], &dy = sig.operands[1];
  const TensorType &dw = sig.declared[0];
  if (llvm::Error err = checkOutputGrad(dy, x, dw, sig.attrs))
    return std::move(err);
  return result(dw);
}

/// The window of a checked op whose filter has type `filter`.
static Window2D windowOf(const Op &op, const TensorType &filter) {
  return cantFail(readWindow(op.attrs(), {filter.dim(0), filter.dim(1)},
                             /*withDilations=*/true));
}

//===----------------------------------------------------------------------===//
// Structure: each a sum of products over the taps of the window, the form
// a contraction kernel takes (implicit GEMM).
//===----------------------------------------------------------------------===//

static StageOperand read4(int operand, const TensorType &t,
                          std::array<AffineExpr, 4> map) {
  StageOperand o;
  o.operand = operand;
  o.view = Shape(t.shape());
  o.map.assign(map.begin(), map.end());
  return o;
}

static StructuredOp productOf(StructuredStage st, ElementType e) {
  st.body.apply(ScalarOp::Mul, {st.body.input(0, e), st.body.input(1, e)});
  st.combiner = Combiner::Sum;
  st.type = e;
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

/// y[n,oh,ow,f] = sum over i, j, c of x[n, oh·sh + i·dh - top, ...] w[i,j,c,f]
/// on the domain [N, OH, OW, F | KH, KW, C].
static std::optional<StructuredOp> describeConv2D(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &w = op.operand(1)->type();
  const TensorType &y = op.result()->type();
  Window2D win = windowOf(op, w);
  StructuredStage st;
  st.domain = {y.dim(0), y.dim(1), y.dim(2), y.dim(3),
               w.dim(0), w.dim(1), w.dim(2)};
  st.parallel = 4;
  auto d = [](unsigned k) { return AffineExpr::dim(k, 7); };
  StageOperand in = read4(
      0, x,
      {d(0), windowInput(win, 0, 1, 4, 7), windowInput(win, 1, 2, 5, 7), d(6)});
  in.padding = 0.0;
  st.operands.push_back(std::move(in));
  st.operands.push_back(read4(1, w, {d(4), d(5), d(6), d(3)}));
  return productOf(std::move(st), y.element());
}

/// dx[n,h,w,c] = sum over i, j, f of dy[n, (h + top - i·dh) / sh, ...]
/// w[i,j,c,f], where the quotient is exact: the domain [N, H, W, C | KH, KW,
/// F].
static std::optional<StructuredOp> describeBackpropInput(const Op &op) {
  const TensorType &dy = op.operand(0)->type(), &w = op.operand(1)->type();
  const TensorType &dx = op.result()->type();
  Window2D win = windowOf(op, w);
  StructuredStage st;
  st.domain = {dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3),
               w.dim(0),  w.dim(1),  w.dim(3)};
  st.parallel = 4;
  auto d = [](unsigned k) { return AffineExpr::dim(k, 7); };
  StageOperand g = read4(0, dy,
                         {d(0), windowOutput(win, 0, 1, 4, 7),
                          windowOutput(win, 1, 2, 5, 7), d(6)});
  g.padding = 0.0;
  st.operands.push_back(std::move(g));
  st.operands.push_back(read4(1, w, {d(4), d(5), d(3), d(6)}));
  return productOf(std::move(st), dx.element());
}

/// dw[i,j,c,f] = sum over n, oh, ow of x[n, oh·sh + i·dh - top, ...]
/// dy[n,oh,ow,f]: the domain [KH, KW, C, F | N, OH, OW].
static std::optional<StructuredOp> describeBackpropFilter(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &dy = op.operand(1)->type();
  const TensorType &dw = op.result()->type();
  Window2D win = windowOf(op, dw);
  StructuredStage st;
  st.domain = {dw.dim(0), dw.dim(1), dw.dim(2), dw.dim(3),
               dy.dim(0), dy.dim(1), dy.dim(2)};
  st.parallel = 4;
  auto d = [](unsigned k) { return AffineExpr::dim(k, 7); };
  StageOperand in = read4(
      0, x,
      {d(4), windowInput(win, 0, 5, 0, 7), windowInput(win, 1, 6, 1, 7), d(2)});
  in.padding = 0.0;
  st.operands.push_back(std::move(in));
  st.operands.push_back(read4(1, dy, {d(4), d(5), d(6), d(3)}));
  return productOf(std::move(st), dw.element());
}

static llvm::Error evalConv2D(const Op &op,
                              llvm::ArrayRef<const HostTensor *> in,
                              llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0], &w = *in[1];
  HostTensor &y = out[0];
  NhwcIndex xi(x.type), yi(y.type);
  FilterIndex wi(w.type);
  std::fill(y.data.begin(), y.data.end(), 0.0);
  forEachTap(windowOf(op, w.type), x.type, y.type,
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j,
                 int64_t ih, int64_t iw) {
               for (int64_t c = 0; c < wi.in; ++c) {
                 double v = x[xi(n, ih, iw, c)];
                 for (int64_t f = 0; f < wi.out; ++f)
                   y[yi(n, oh, ow, f)] += v * w[wi(i, j, c, f)];
               }
             });
  return llvm::Error::success();
}

static llvm::Error evalBackpropInput(const Op &op,
                                     llvm::ArrayRef<const HostTensor *> in,
                                     llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &dy = *in[0], &w = *in[1];
  HostTensor &dx = out[0];
  NhwcIndex xi(dx.type), yi(dy.type);
  FilterIndex wi(w.type);
  std::fill(dx.data.begin(), dx.data.end(), 0.0);
  forEachTap(windowOf(op, w.type), dx.type, dy.type,
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j,
                 int64_t ih, int64_t iw) {
               for (int64_t c = 0; c < wi.in; ++c) {
                 double s = 0;
                 for (int64_t f = 0; f < wi.out; ++f)
                   s += dy[yi(n, oh, ow, f)] * w[wi(i, j, c, f)];
                 dx[xi(n, ih, iw, c)] += s;
               }
             });
  return llvm::Error::success();
}

static llvm::Error evalBackpropFilter(const Op &op,
                                      llvm::ArrayRef<const HostTensor *> in,
                                      llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0], &dy = *in[1];
  HostTensor &dw = out[0];
  NhwcIndex xi(x.type), yi(dy.type);
  FilterIndex wi(dw.type);
  std::fill(dw.data.begin(), dw.data.end(), 0.0);
  forEachTap(windowOf(op, dw.type), x.type, dy.type,
             [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j,
                 int64_t ih, int64_t iw) {
               for (int64_t c = 0; c < wi.in; ++c) {
                 double v = x[xi(n, ih, iw, c)];
                 for (int64_t f = 0; f < wi.out; ++f)
                   dw[wi(i, j, c, f)] += v * dy[yi(n, oh, ow, f)];
               }
             });
  return llvm::Error::success();
}

static Value *conv2D(GradContext &c, Value *x, Value *w) {
  return c.b.createValue(OpKind::Conv2D, {x, w}, c.op.attrs());
}
static Value *backpropInput(GradContext &c, Value *dy, Value *w,
                            const TensorType &inputType) {
  return c.b.createValue(OpKind::Conv2DBackpropInput, {dy, w}, c.op.attrs(),
                         {inputType});
}
static Value *backpropFilter(GradContext &c, Value *x, Value *dy,
                             const TensorType &filterType) {
  return c.b.createValue(OpKind::Conv2DBackpropFilter, {x, dy}, c.op.attrs(),
                         {filterType});
}

static void gradConv2D(GradContext &c) {
  Value *x = c.operand(0), *w = c.operand(1), *g = c.resultGrad();
  if (c.needsGrad(0))
    c.setGrad(0, backpropInput(c, g, w, x->type()));
  if (c.needsGrad(1))
    c.setGrad(1, backpropFilter(c, x, g, w->type()));
}

static void gradBackpropInput(GradContext &c) {
  // dx = conv2d^T(dy, w) is bilinear: <g, dx> = <conv2d(g, w), dy>, and as a
  // function of w it is the filter gradient of g against dy.
  Value *dy = c.operand(0), *w = c.operand(1), *g = c.resultGrad();
  if (c.needsGrad(0))
    c.setGrad(0, conv2D(c, g, w));
  if (c.needsGrad(1))
    c.setGrad(1, backpropFilter(c, g, dy, w->type()));
}

static void gradBackpropFilter(GradContext &c) {
  Value *x = c.operand(0), *dy = c.operand(1), *g = c.resultGrad();
  if (c.needsGrad(0))
    c.setGrad(0, backpropInput(c, dy, g, x->type()));
  if (c.needsGrad(1))
    c.setGrad(1, conv2D(c, x, g));
}

static std::vector<AttrSpec> convAttrs() {
  return {AttrSpec::defaulted("strides", std::vector<int64_t>{1, 1}),
          AttrSpec::defaulted("dilations", std::vector<int64_t>{1, 1}),
          AttrSpec::defaulted("padding", std::vector<int64_t>{0, 0, 0, 0})};
}

void registerConvolutionOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::Conv2D,
            .name = "conv2d",
            .summary = "2-D convolution of an NHWC image with an HWIO filter",
            .minOperands = 2,
            .maxOperands = 2,
            .attrs = convAttrs(),
            .infer = inferConv2D,
            .eval = evalConv2D,
            .grad = gradConv2D,
            .structure = describeConv2D});
  add(OpDef{.kind = OpKind::Conv2DBackpropInput,
            .name = "conv2d_backprop_input",
            .summary = "the gradient of conv2d with respect to its input",
            .minOperands = 2,
            .maxOperands = 2,
            .takesResultType = true,
            .attrs = convAttrs(),
            .infer = inferBackpropInput,
            .eval = evalBackpropInput,
            .grad = gradBackpropInput,
            .structure = describeBackpropInput});
  add(OpDef{.kind = OpKind::Conv2DBackpropFilter,
            .name = "conv2d_backprop_filter",
            .summary = "the gradient of conv2d with respect to its filter",
            .minOperands = 2,
            .maxOperands = 2,
            .takesResultType = true,
            .attrs = convAttrs(),
            .infer = inferBackpropFilter,
            .eval = evalBackpropFilter,
            .grad = gradBackpropFilter,
            .structure = describeBackpropFilter});
}

} // namespace nnc
