//===- ImageLayers.cpp - conv2d and the pooling layers --------------------===//
//
// Layers over NHWC images, with Keras's arguments: sizes and strides are an
// integer or [height, width]; padding is `valid` (windows inside the image)
// or `same` (the image padded so that the output has ceil(in / stride)
// positions, the odd pixel of padding going below and to the right, as in
// TensorFlow). The frontend computes `same` into the explicit padding the
// IR ops take.
//
//===----------------------------------------------------------------------===//
#include "frontend/LayerBuilders.h"

#include <array>

namespace nnc::nn {

namespace {

using Pair = std::array<int64_t, 2>;

/// The argument `param`: an integer for both axes or [height, width], each
/// at least 1; `fallback` when it was not passed.
std::optional<Pair> readPair(LayerContext &layer, llvm::StringRef param,
                             std::optional<Pair> fallback) {
  const ast::Expr *e = layer.arg(param);
  if (!e)
    return fallback;
  auto values = layer.lowering().constants().integerList(
      *e, layer.describeArg(param), /*allowScalar=*/true);
  if (!values)
    return std::nullopt;
  DiagnosticEngine &diag = layer.lowering().diag();
  if (values->size() != 1 && values->size() != 2) {
    diag.error(e->loc(), layer.describeArg(param) +
                             " takes one integer or two ([height, width]), "
                             "got " +
                             llvm::Twine(values->size()));
    return std::nullopt;
  }
  for (int64_t v : *values)
    if (v < 1 || v > INT32_MAX) {
      diag.error(e->loc(),
                 layer.describeArg(param) + " must be between 1 and " +
                     llvm::Twine(INT32_MAX) + ", got " + llvm::Twine(v));
      return std::nullopt;
    }
  return Pair{values->front(), values->back()};
}

/// The argument `x`, which must be f32 NHWC images.
std::optional<Operand> readImages(LayerContext &layer) {
  auto x = layer.tensor("x");
  if (!x)
    return std::nullopt;
  const TensorType &type = x->value->type();
  if (type.rank() == 4 && type.element() == ElementType::F32)
    return x;
  std::string hint;
  if (type.rank() == 3)
    hint = "; give it a channel axis, as in reshape(x, [batch, " +
           std::to_string(type.dim(1)) + ", " + std::to_string(type.dim(2)) +
           ", 1])";
  layer.errorAt("x", *x,
                "'" + layer.callee() +
                    "' needs f32 images [batch, height, width, channels], "
                    "got " +
                    type.str() + hint);
  return std::nullopt;
}

/// [top, bottom, left, right] for windows spanning `span` pixels with
/// `strides` over `image`, under the `padding` argument; nullopt after
/// reporting a window that does not fit a `valid` image.
std::optional<std::vector<int64_t>>
paddingFor(LayerContext &layer, const Operand &image, Pair span, Pair strides,
           llvm::StringRef sizeParam, llvm::StringRef windowName) {
  auto padding = layer.choice("padding", {"valid", "same"}, "valid");
  if (!padding)
    return std::nullopt;
  const TensorType &type = image.value->type();
  std::vector<int64_t> pads(4, 0);
  for (int axis : {0, 1}) {
    int64_t in = type.dim(1 + axis);
    if (*padding == "same") {
      int64_t out = (in + strides[axis] - 1) / strides[axis];
      int64_t total =
          std::max<int64_t>((out - 1) * strides[axis] + span[axis] - in, 0);
      pads[2 * axis] = total / 2;
      pads[2 * axis + 1] = total - total / 2;
    } else if (span[axis] > in) {
      const ast::Expr *at = layer.arg(sizeParam);
      layer.lowering().diag().error(
          at->loc(),
          "the " + std::to_string(span[0]) + "x" + std::to_string(span[1]) +
              " " + windowName + " of '" + layer.callee() +
              "' is larger than its input " + type.str() + " (" +
              std::to_string(type.dim(1)) + "x" + std::to_string(type.dim(2)) +
              " pixels); use padding=same or a smaller " + windowName);
      if (!image.origin.loc.isUnknown())
        layer.lowering().diag().note(
            image.origin.loc, type.str() + " is " + image.origin.description);
      return std::nullopt;
    }
  }
  return pads;
}

std::optional<Operand> buildPool(LayerContext &layer, OpKind kind) {
  auto x = readImages(layer);
  if (!x)
    return std::nullopt;
  auto size = readPair(layer, "pool_size", std::nullopt);
  if (!size)
    return std::nullopt;
  auto strides = readPair(layer, "strides", *size);
  if (!strides)
    return std::nullopt;
  auto padding = paddingFor(layer, *x, *size, *strides, "pool_size", "window");
  if (!padding)
    return std::nullopt;
  AttrDict attrs;
  attrs.set("window", std::vector<int64_t>(size->begin(), size->end()));
  attrs.set("strides", std::vector<int64_t>(strides->begin(), strides->end()));
  attrs.set("padding", *padding);
  return layer.emit(kind, {*x}, std::move(attrs));
}

} // namespace

std::optional<Operand> buildConv2D(LayerContext &layer) {
  auto x = readImages(layer);
  if (!x)
    return std::nullopt;
  auto filters = layer.integer("filters");
  if (!filters)
    return std::nullopt;
  if (*filters < 1 || *filters > INT32_MAX) {
    layer.lowering().diag().error(
        layer.arg("filters")->loc(),
        "the filters of 'conv2d' must be between 1 and " +
            llvm::Twine(INT32_MAX) + ", got " + llvm::Twine(*filters));
    return std::nullopt;
  }
  auto size = readPair(layer, "kernel_size", std::nullopt);
  if (!size)
    return std::nullopt;
  auto strides = readPair(layer, "strides", Pair{1, 1});
  if (!strides)
    return std::nullopt;
  auto dilation = readPair(layer, "dilation", Pair{1, 1});
  if (!dilation)
    return std::nullopt;
  auto activation = activationOf(layer);
  if (!activation)
    return std::nullopt;
  auto useBias = layer.boolean("use_bias", true);
  if (!useBias)
    return std::nullopt;
  Pair span = {((*size)[0] - 1) * (*dilation)[0] + 1,
               ((*size)[1] - 1) * (*dilation)[1] + 1};
  auto padding = paddingFor(layer, *x, span, *strides, "kernel_size",
                            span == *size ? "kernel" : "dilated kernel");
  if (!padding)
    return std::nullopt;

  int64_t channels = x->value->type().dim(3);
  auto weight =
      layer.param("weight", {(*size)[0], (*size)[1], channels, *filters},
                  initializerOf(Initializer::Kind::GlorotUniform));
  if (!weight)
    return std::nullopt;
  std::optional<Operand> bias;
  if (*useBias) {
    bias = layer.param("bias", {*filters},
                       initializerOf(Initializer::Kind::Zeros));
    if (!bias)
      return std::nullopt;
  }
  AttrDict attrs;
  attrs.set("strides", std::vector<int64_t>(strides->begin(), strides->end()));
  attrs.set("dilations",
            std::vector<int64_t>(dilation->begin(), dilation->end()));
  attrs.set("padding", *padding);
  auto y = layer.emit(OpKind::Conv2D, {*x, *weight}, std::move(attrs));
  if (y && bias)
    y = layer.emit(OpKind::Add, {*y, *bias});
  if (!y)
    return std::nullopt;
  return applyActivation(layer, *y, *activation);
}

std::optional<Operand> buildMaxPool2D(LayerContext &layer) {
  return buildPool(layer, OpKind::MaxPool2D);
}

std::optional<Operand> buildAvgPool2D(LayerContext &layer) {
  return buildPool(layer, OpKind::AvgPool2D);
}

std::optional<Operand> buildGlobalAvgPool2D(LayerContext &layer) {
  auto x = readImages(layer);
  if (!x)
    return std::nullopt;
  AttrDict attrs;
  attrs.set("axes", std::vector<int64_t>{1, 2});
  return layer.emit(OpKind::ReduceMean, {*x}, std::move(attrs));
}

} // namespace nnc::nn
