//===- PatchOps.cpp - extract_patches and patches_to_image ----------------===//
//
// extract_patches copies every window of an NHWC image into a row of its
// own (TensorFlow's tf.image.extract_patches, with dilations and explicit
// padding):
//
//   p[n, oh, ow, (i * kw + j) * C + c] =
//       x[n, oh*sh + i*dh - top, ow*sw + j*dw - left, c]
//
// with zeros read outside the image. Viewed as [N*OH*OW, KH*KW*C] it is the
// im2col matrix whose product with a filter [KH, KW, C, F] viewed as
// [KH*KW*C, F] is conv2d, so convolutions run on the matrix kernels
// (passes/ConvolutionToGemm.cpp). patches_to_image is its adjoint: every
// patch element is added back to the pixel it was copied from (col2im), so
// overlapping windows sum and the padding receives nothing:
//
//   x[n, h, w, c] = sum over i, j of
//       p[n, (h + top - i*dh) / sh, (w + left - j*dw) / sw, (i*kw + j)*C + c]
//
// where a quotient that is not exact, or out of range, contributes nothing.
// Each is the other's gradient. Both are linear and their reference
// semantics is their description.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpRegistration.h"
#include "ir/ops/Windows.h"

namespace nnc {
using namespace ops;

namespace {

llvm::Expected<Window2D> patchWindow(const AttrDict &attrs) {
  const std::vector<int64_t> &size = attrs.getIntList("window");
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    return opError("'window' needs 2 positive values, got " +
                   Attribute(size).str());
  return readWindow(attrs, {size[0], size[1]}, /*withDilations=*/true);
}

/// The patches' shape [N, OH, OW, KH*KW*C] for the image `image`.
llvm::Expected<Shape> patchesShape(const TensorType &image,
                                   const AttrDict &attrs) {
  if (llvm::Error err = requireImage(image, "the image"))
    return std::move(err);
  auto window = patchWindow(attrs);
  if (!window)
    return window.takeError();
  return windowedShape(image, *window,
                       window->size[0] * window->size[1] * image.dim(3),
                       "the patches");
}

Window2D windowOf(const Op &op) { return cantFail(patchWindow(op.attrs())); }

} // namespace

static llvm::Expected<ResultTypes> inferExtract(const OpSignature &sig) {
  const TensorType &x = sig.operands[0];
  auto shape = patchesShape(x, sig.attrs);
  if (!shape)
    return shape.takeError();
  return result(x.withShape(*shape));
}

static llvm::Expected<ResultTypes> inferToImage(const OpSignature &sig) {
  const TensorType &p = sig.operands[0], &x = sig.declared[0];
  auto shape = patchesShape(x, sig.attrs);
  if (!shape)
    return shape.takeError();
  if (p.element() != x.element() ||
      p.shape() != llvm::ArrayRef<int64_t>(*shape))
    return opError("the patches " + p.str() + " do not match the " +
                   x.withShape(*shape).str() +
                   " that extract_patches gives for the image " + x.str());
  return result(x);
}

/// The domain [N, OH, OW, KH, KW, C], all parallel: one point per patch
/// element, in the order of the result's elements.
static std::optional<StructuredOp> describeExtract(const Op &op) {
  const TensorType &x = op.operand(0)->type(), &p = op.result()->type();
  Window2D win = windowOf(op);
  StructuredStage st;
  st.domain = {p.dim(0),    p.dim(1),    p.dim(2),
               win.size[0], win.size[1], x.dim(3)};
  st.parallel = 6;
  auto d = [](unsigned k) { return AffineExpr::dim(k, 6); };
  StageOperand in;
  in.operand = 0;
  in.view = Shape(x.shape());
  in.map = {d(0), windowInput(win, 0, 1, 3, 6), windowInput(win, 1, 2, 4, 6),
            d(5)};
  in.padding = 0.0;
  st.operands.push_back(std::move(in));
  st.body.input(0, x.element());
  st.type = x.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

/// The domain [N, H, W, C | KH, KW]: each pixel sums the patch elements
/// copied from it, reading the patches as [N, OH, OW, KH, KW, C].
static std::optional<StructuredOp> describeToImage(const Op &op) {
  const TensorType &p = op.operand(0)->type(), &x = op.result()->type();
  Window2D win = windowOf(op);
  StructuredStage st;
  st.domain = {x.dim(0), x.dim(1),    x.dim(2),
               x.dim(3), win.size[0], win.size[1]};
  st.parallel = 4;
  auto d = [](unsigned k) { return AffineExpr::dim(k, 6); };
  StageOperand in;
  in.operand = 0;
  in.view = {p.dim(0), p.dim(1), p.dim(2), win.size[0], win.size[1], x.dim(3)};
  in.map = {d(0),
            windowOutput(win, 0, 1, 4, 6),
            windowOutput(win, 1, 2, 5, 6),
            d(4),
            d(5),
            d(3)};
  in.padding = 0.0;
  st.operands.push_back(std::move(in));
  st.body.input(0, x.element());
  st.combiner = Combiner::Sum;
  st.type = x.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static void gradExtract(GradContext &c) {
  c.setGrad(0, c.b.createValue(OpKind::PatchesToImage, {c.resultGrad()},
                               c.op.attrs(), {c.operand(0)->type()}));
}

static void gradToImage(GradContext &c) {
  c.setGrad(0, c.b.createValue(OpKind::ExtractPatches, {c.resultGrad()},
                               c.op.attrs()));
}

static std::vector<AttrSpec> patchAttrs() {
  return {AttrSpec::required("window", AttrKind::IntList),
          AttrSpec::defaulted("strides", std::vector<int64_t>{1, 1}),
          AttrSpec::defaulted("dilations", std::vector<int64_t>{1, 1}),
          AttrSpec::defaulted("padding", std::vector<int64_t>{0, 0, 0, 0})};
}

void registerPatchOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::ExtractPatches,
            .name = "extract_patches",
            .summary = "every window of an NHWC image as a row (im2col)",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = patchAttrs(),
            .infer = inferExtract,
            .eval = evaluateDescribed,
            .grad = gradExtract,
            .structure = describeExtract});
  add(OpDef{.kind = OpKind::PatchesToImage,
            .name = "patches_to_image",
            .summary = "the sum of image patches back at their pixels (col2im)",
            .minOperands = 1,
            .maxOperands = 1,
            .takesResultType = true,
            .attrs = patchAttrs(),
            .infer = inferToImage,
            .eval = evaluateDescribed,
            .grad = gradToImage,
            .structure = describeToImage});
}

} // namespace nnc
