//===- PoolingOps.cpp - max and average pooling and their gradients -------===//
//
// max_pool2d and avg_pool2d reduce each window of an NHWC image, channel by
// channel, over the input elements it covers: padding adds no elements, so
// the maximum is over real values and the average divides by the number of
// elements inside the image (as TensorFlow and Keras do for
// padding="same"). Every window must hold at least one element, which a
// padding smaller than the window on each side guarantees.
//
// A NaN in a window is its maximum (the first NaN, for the gradient), as in
// PyTorch and TensorFlow: a model whose activations went NaN shows it in
// its loss rather than pooling the NaN away. The structured descriptions
// say the same with the NaN-propagating combiners.
//
// Their gradients are ops of their own: max_pool2d_grad(x, dy) sends each
// dy to the first maximum of its window in row-major order (as PyTorch and
// TensorFlow do), so ties do not double the gradient; avg_pool2d_grad(dy)
// spreads dy / count evenly over the window. The second is linear, and its
// own gradient is avg_pool2d again. max_pool2d_taps and max_pool2d_scatter
// are max_pool2d_grad's two stages as ops, which passes/MaxPoolTaps.cpp
// places apart: the first maxima in the forward pass, the scatter in the
// backward.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpRegistration.h"
#include "ir/ops/Windows.h"

#include <cmath>
#include <limits>

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

static llvm::Expected<ResultTypes> inferMaxPoolTaps(const OpSignature &sig) {
  const TensorType &x = sig.operands[0];
  auto shape = pooledShape(x, sig.attrs);
  if (!shape)
    return shape.takeError();
  return result(TensorType(ElementType::I32, *shape));
}

static llvm::Expected<ResultTypes> inferMaxPoolScatter(const OpSignature &sig) {
  const TensorType &positions = sig.operands[0], &dy = sig.operands[1],
                   &dx = sig.declared[0];
  if (positions.element() != ElementType::I32 ||
      positions.shape() != dy.shape())
    return opError("the window positions " + positions.str() +
                   " must be i32 of the output gradient's shape " + dy.str());
  if (llvm::Error err = checkOutputGrad(dy, dx, sig.attrs, "max_pool2d"))
    return std::move(err);
  return result(dx);
}

static Window2D windowOf(const Op &op) {
  return cantFail(poolWindow(op.attrs()));
}

//===----------------------------------------------------------------------===//
// Structure: the domain [N, OH, OW, C | KH, KW] of windows and their taps.
//===----------------------------------------------------------------------===//

static AffineExpr dim6(unsigned k) { return AffineExpr::dim(k, 6); }

/// x read at the taps of each window, `padding` outside the image.
static StageOperand taps(int operand, const TensorType &x, const Window2D &w,
                         double padding) {
  StageOperand o;
  o.operand = operand;
  o.view = Shape(x.shape());
  o.map = {dim6(0), windowInput(w, 0, 1, 4, 6), windowInput(w, 1, 2, 5, 6),
           dim6(3)};
  o.padding = padding;
  return o;
}

/// A tensor shaped like the pooled output, read at the window that covers
/// input position (h, w) at tap (i, j): exact quotients only.
static StageOperand coveringWindow(int operand, int stage,
                                   llvm::ArrayRef<int64_t> pooled,
                                   const Window2D &w, double padding) {
  StageOperand o;
  o.operand = operand;
  o.stage = stage;
  o.view = Shape(pooled);
  o.map = {dim6(0), windowOutput(w, 0, 1, 4, 6), windowOutput(w, 1, 2, 5, 6),
           dim6(3)};
  o.padding = padding;
  return o;
}

static StructuredStage windowStage(const Shape &pooled, const Window2D &w) {
  StructuredStage st;
  st.domain = pooled;
  st.domain.append({w.size[0], w.size[1]});
  st.parallel = 4;
  return st;
}

/// How many of a window's taps along `axis` fall inside an input of
/// `length`, for output position `o` (an i32 body value).
static unsigned coveredLength(ScalarBody &b, unsigned o, const Window2D &w,
                              int axis, int64_t length) {
  auto c = [&](int64_t v) { return b.constant(double(v), ElementType::I32); };
  unsigned start =
      b.apply(ScalarOp::Sub, {b.apply(ScalarOp::Mul, {o, c(w.stride[axis])}),
                              c(w.padBefore[axis])});
  unsigned end =
      b.apply(ScalarOp::Min,
              {b.apply(ScalarOp::Add, {start, c(w.span(axis))}), c(length)});
  return b.apply(ScalarOp::Sub, {end, b.apply(ScalarOp::Max, {start, c(0)})});
}

/// A stage over the pooled shape dividing `source` (an earlier stage, or
/// operand 0 when `stage` is kNone) by each window's count of taps inside
/// the image of `image`.
static StructuredStage perWindowMean(const Shape &pooled, int operand,
                                     int stage, const Window2D &w,
                                     const TensorType &image, ElementType e) {
  StructuredStage st;
  st.domain = pooled;
  st.parallel = 4;
  st.operands.push_back(structured::identity(operand, stage, pooled, 4));
  ScalarBody &b = st.body;
  unsigned sum = b.input(0, e);
  unsigned count = b.apply(ScalarOp::Mul,
                           {coveredLength(b, b.index(1), w, 0, image.dim(1)),
                            coveredLength(b, b.index(2), w, 1, image.dim(2))});
  b.apply(ScalarOp::Div, {sum, b.cast(count, e)});
  st.type = e;
  return st;
}

static std::optional<StructuredOp> describeMaxPool(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &y = op.result()->type();
  Window2D w = windowOf(op);
  StructuredStage st = windowStage(Shape(y.shape()), w);
  st.operands.push_back(
      taps(0, x, w, -std::numeric_limits<double>::infinity()));
  st.body.input(0, x.element());
  st.combiner = Combiner::MaxNaN;
  st.type = y.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static std::optional<StructuredOp> describeAvgPool(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &y = op.result()->type();
  Window2D w = windowOf(op);
  Shape pooled(y.shape());
  StructuredStage sum = windowStage(pooled, w);
  sum.operands.push_back(taps(0, x, w, 0.0));
  sum.body.input(0, x.element());
  sum.combiner = Combiner::Sum;
  sum.type = y.element();
  StructuredStage mean =
      perWindowMean(pooled, StageOperand::kNone, 0, w, x, y.element());
  mean.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(sum));
  s.stages.push_back(std::move(mean));
  return s;
}

/// Whether the windows tile the image: side by side (stride = size), no
/// padding, and no element left over. Then each input element lies in one
/// window, and a stage over [N, OH, KH, OW, KW, C] walks the input in its
/// own row-major order (h = oh * KH + kh, w = ow * KW + kw).
static bool windowsTile(const Window2D &w, const TensorType &x,
                        llvm::ArrayRef<int64_t> pooled) {
  for (int axis : {0, 1})
    if (w.stride[axis] != w.size[axis] || w.padBefore[axis] != 0 ||
        w.padAfter[axis] != 0 ||
        x.dim(1 + axis) != pooled[1 + axis] * w.size[axis])
      return false;
  return true;
}

/// Over tiling windows, a stage with no reduction over the input's
/// elements as [N, OH, KH, OW, KW, C]...
static StructuredStage tileStage(llvm::ArrayRef<int64_t> pooled,
                                 const Window2D &w) {
  StructuredStage st;
  st.domain = {pooled[0], pooled[1], w.size[0],
               pooled[2], w.size[1], pooled[3]};
  st.parallel = 6;
  return st;
}

/// ...that reads a tensor shaped like the pooled output (an op operand or
/// an earlier stage) at each element's window.
static StageOperand tileWindow(int operand, int stage,
                               llvm::ArrayRef<int64_t> pooled) {
  StageOperand o;
  o.operand = operand;
  o.stage = stage;
  o.view = Shape(pooled);
  o.map = {dim6(0), dim6(1), dim6(3), dim6(5)};
  return o;
}

/// Each window's first maximum, as its tap's row-major position in the
/// window, over x at operand `operand`. Padding taps read -inf: any element
/// above -inf wins over them, but in a window of only -inf whose first tap
/// is padding, that tap stays the maximum.
static StructuredStage firstMaximumStage(int operand, const TensorType &x,
                                         llvm::ArrayRef<int64_t> pooled,
                                         const Window2D &w) {
  StructuredStage argmax = windowStage(Shape(pooled), w);
  argmax.operands.push_back(
      taps(operand, x, w, -std::numeric_limits<double>::infinity()));
  argmax.body.input(0, x.element());
  argmax.combiner = Combiner::ArgMaxNaN;
  argmax.type = ElementType::I32;
  return argmax;
}

/// Gives each element of an image shaped `dx` the gradients dy of the
/// windows whose first maximum it is, from those positions (`positions`: an
/// op operand or an earlier stage, as StageOperand's pair) and dy (op
/// operand `dyOperand`).
static StructuredStage scatterStage(std::pair<int, int> positions,
                                    int dyOperand, const TensorType &dx,
                                    llvm::ArrayRef<int64_t> pooled,
                                    const Window2D &w) {
  // Over tiling windows each element is in one window, and gets its
  // gradient if it is the window's first maximum, with no loop over the
  // windows that might cover it.
  bool tiles = windowsTile(w, dx, pooled);
  StructuredStage spread =
      tiles ? tileStage(pooled, w) : windowStage(Shape(dx.shape()), w);
  auto [operand, stage] = positions;
  if (tiles) {
    spread.operands.push_back(tileWindow(operand, stage, pooled));
    spread.operands.push_back(
        tileWindow(dyOperand, StageOperand::kNone, pooled));
  } else {
    spread.operands.push_back(coveringWindow(operand, stage, pooled, w, -1.0));
    spread.operands.push_back(
        coveringWindow(dyOperand, StageOperand::kNone, pooled, w, 0.0));
    spread.combiner = Combiner::Sum;
  }
  // The tap (i, j) of the window: domain dimensions 2 and 4 over tiles, 4
  // and 5 otherwise.
  ScalarBody &b = spread.body;
  unsigned i = b.index(tiles ? 2 : 4), j = b.index(tiles ? 4 : 5);
  unsigned tap =
      b.apply(ScalarOp::Add,
              {b.apply(ScalarOp::Mul,
                       {i, b.constant(double(w.size[1]), ElementType::I32)}),
               j});
  unsigned first = b.compare(Predicate::EQ, b.input(0, ElementType::I32), tap);
  b.apply(ScalarOp::Select,
          {first, b.input(1, dx.element()), b.constant(0.0, dx.element())});
  spread.type = dx.element();
  spread.result = 0;
  return spread;
}

/// Stage 0 finds each window's first maximum; stage 1 gives each input
/// element the gradients of the windows whose first maximum it is.
static std::optional<StructuredOp> describeMaxPoolGrad(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &dy = op.operand(1)->type();
  Window2D w = windowOf(op);
  StructuredOp s;
  s.stages.push_back(firstMaximumStage(0, x, dy.shape(), w));
  s.stages.push_back(
      scatterStage({StageOperand::kNone, 0}, 1, x, dy.shape(), w));
  return s;
}

/// max_pool2d_grad's two stages as ops of their own.
static std::optional<StructuredOp> describeMaxPoolTaps(const Op &op) {
  StructuredOp s;
  s.stages.push_back(firstMaximumStage(
      0, op.operand(0)->type(), op.result()->type().shape(), windowOf(op)));
  s.stages[0].result = 0;
  return s;
}
static std::optional<StructuredOp> describeMaxPoolScatter(const Op &op) {
  StructuredOp s;
  s.stages.push_back(scatterStage({0, StageOperand::kNone}, 1,
                                  op.result()->type(),
                                  op.operand(1)->type().shape(), windowOf(op)));
  return s;
}

/// Stage 0 divides each window's gradient by its count; stage 1 sums, for
/// each input element, the windows that cover it.
static std::optional<StructuredOp> describeAvgPoolGrad(const Op &op) {
  const TensorType &dy = op.operand(0)->type(), &dx = op.result()->type();
  Window2D w = windowOf(op);
  Shape pooled(dy.shape());
  StructuredStage scaled =
      perWindowMean(pooled, 0, StageOperand::kNone, w, dx, dy.element());
  StructuredStage spread = windowStage(Shape(dx.shape()), w);
  spread.operands.push_back(
      coveringWindow(StageOperand::kNone, 0, pooled, w, 0.0));
  spread.body.input(0, dy.element());
  spread.combiner = Combiner::Sum;
  spread.type = dx.element();
  spread.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(scaled));
  s.stages.push_back(std::move(spread));
  return s;
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

/// Calls f(n, c, y, tap, h, w) for each output element y (its flat index,
/// at batch n and channel c), each tap of its window (its row-major
/// position i * kw + j) and the input position (h, w) the tap reads, which
/// may be outside the image.
template <typename F>
static void forEachTap(const Window2D &window, const TensorType &output, F f) {
  NhwcIndex out(output);
  for (int64_t n = 0; n < output.dim(0); ++n)
    for (int64_t oh = 0; oh < output.dim(1); ++oh)
      for (int64_t ow = 0; ow < output.dim(2); ++ow)
        for (int64_t c = 0; c < output.dim(3); ++c)
          for (int64_t i = 0; i < window.size[0]; ++i)
            for (int64_t j = 0; j < window.size[1]; ++j)
              f(n, c, out(n, oh, ow, c), i * window.size[1] + j,
                window.inputPosition(0, oh, i), window.inputPosition(1, ow, j));
}

static llvm::Error evalMaxPoolTaps(const Op &op,
                                   llvm::ArrayRef<const HostTensor *> in,
                                   llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &x = *in[0];
  HostTensor &positions = out[0];
  NhwcIndex image(x.type);
  std::vector<double> best(positions.size(),
                           -std::numeric_limits<double>::infinity());
  std::fill(positions.data.begin(), positions.data.end(), 0.0);
  forEachTap(
      windowOf(op), positions.type,
      [&](int64_t n, int64_t c, int64_t y, int64_t tap, int64_t h, int64_t w) {
        bool inside = h >= 0 && h < image.height && w >= 0 && w < image.width;
        double v = inside ? x[image(n, h, w, c)]
                          : -std::numeric_limits<double>::infinity();
        // As max_pool2d: a NaN wins, and nothing replaces a NaN.
        if (!std::isnan(best[y]) && (v > best[y] || std::isnan(v))) {
          best[y] = v;
          positions[y] = double(tap);
        }
      });
  return llvm::Error::success();
}

static llvm::Error evalMaxPoolScatter(const Op &op,
                                      llvm::ArrayRef<const HostTensor *> in,
                                      llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &positions = *in[0], &dy = *in[1];
  HostTensor &dx = out[0];
  NhwcIndex image(dx.type);
  std::fill(dx.data.begin(), dx.data.end(), 0.0);
  forEachTap(
      windowOf(op), dy.type,
      [&](int64_t n, int64_t c, int64_t y, int64_t tap, int64_t h, int64_t w) {
        if (positions[y] == double(tap) && h >= 0 && h < image.height &&
            w >= 0 && w < image.width)
          dx[image(n, h, w, c)] += dy[y];
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
            .attrs = poolAttrs(),
            .infer = inferPool,
            .eval = evalMaxPool,
            .grad = gradMaxPool,
            .structure = describeMaxPool});
  add(OpDef{.kind = OpKind::AvgPool2D,
            .name = "avg_pool2d",
            .summary = "the mean of each window of an NHWC image",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = poolAttrs(),
            .infer = inferPool,
            .eval = evalAvgPool,
            .grad = gradAvgPool,
            .structure = describeAvgPool});
  add(OpDef{.kind = OpKind::MaxPool2DGrad,
            .name = "max_pool2d_grad",
            .summary = "max_pool2d's gradient, to each window's first maximum",
            .minOperands = 2,
            .maxOperands = 2,
            .attrs = poolAttrs(),
            .infer = inferMaxPoolGrad,
            .eval = evalMaxPoolGrad,
            .structure = describeMaxPoolGrad});
  add(OpDef{.kind = OpKind::MaxPool2DTaps,
            .name = "max_pool2d_taps",
            .summary = "each window's first maximum, as its tap's position",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = poolAttrs(),
            .infer = inferMaxPoolTaps,
            .eval = evalMaxPoolTaps,
            .structure = describeMaxPoolTaps});
  add(OpDef{.kind = OpKind::MaxPool2DScatter,
            .name = "max_pool2d_scatter",
            .summary = "each window's gradient, to the tap max_pool2d_taps "
                       "gives",
            .minOperands = 2,
            .maxOperands = 2,
            .takesResultType = true,
            .attrs = poolAttrs(),
            .infer = inferMaxPoolScatter,
            .eval = evalMaxPoolScatter,
            .structure = describeMaxPoolScatter});
  add(OpDef{.kind = OpKind::AvgPool2DGrad,
            .name = "avg_pool2d_grad",
            .summary = "avg_pool2d's gradient, spread evenly over each window",
            .minOperands = 1,
            .maxOperands = 1,
            .takesResultType = true,
            .attrs = poolAttrs(),
            .infer = inferAvgPoolGrad,
            .eval = evalAvgPoolGrad,
            .grad = gradAvgPoolGrad,
            .structure = describeAvgPoolGrad});
}

} // namespace nnc
