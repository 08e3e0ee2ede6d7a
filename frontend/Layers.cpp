//===- Layers.cpp - Layers: calls that create their own parameters --------===//
#include "frontend/Layers.h"
#include "frontend/Functions.h"
#include "frontend/LayerBuilders.h"

namespace nnc::nn {

std::optional<Operand> LayerContext::param(llvm::StringRef suffix,
                                           llvm::ArrayRef<int64_t> shape,
                                           const Initializer &init) {
  if (!checkedNumElements(shape)) {
    error("the parameter " + name + "." + suffix + " of shape " +
          shapeStr(shape) + " would be too large " + sizeLimits());
    return std::nullopt;
  }
  return lowering().createParam(name + "." + suffix.str(),
                                TensorType(ElementType::F32, shape), init,
                                loc());
}

Value *LayerContext::state(llvm::StringRef suffix,
                           llvm::ArrayRef<int64_t> shape,
                           llvm::StringRef init) {
  return lowering().createState(name + "." + suffix.str(),
                                TensorType(ElementType::F32, shape), init,
                                loc());
}

Signature LayerDef::signature() const {
  Signature sig{kind, params};
  sig.params.push_back({"name", false});
  return sig;
}

std::string LayerNamer::next(llvm::StringRef kind) {
  return kind.str() + "_" + std::to_string(++counts[kind]);
}

namespace {

/// flatten(x): [batch, d1, d2, ...] to [batch, d1 * d2 * ...].
std::optional<Operand> buildFlatten(LayerContext &layer) {
  auto x = layer.tensor("x");
  if (!x)
    return std::nullopt;
  const TensorType &type = x->value->type();
  if (type.rank() == 0) {
    layer.error("'flatten' needs a tensor with a batch dimension, got " +
                type.str());
    return std::nullopt;
  }
  int64_t rest = type.numElements() / type.dim(0);
  return layer.emit(OpKind::Reshape, {*x}, {},
                    {type.withShape({type.dim(0), rest})});
}

/// dense(x, units, activation): x @ weight + bias, then the activation.
std::optional<Operand> buildDense(LayerContext &layer) {
  auto x = layer.tensor("x");
  if (!x)
    return std::nullopt;
  auto units = layer.integer("units");
  if (!units)
    return std::nullopt;
  auto activation = activationOf(layer);
  if (!activation)
    return std::nullopt;
  if (*units < 1 || *units > INT32_MAX) {
    layer.lowering().diag().error(
        layer.arg("units")->loc(),
        "the units of 'dense' must be between 1 and " + llvm::Twine(INT32_MAX) +
            ", got " + llvm::Twine(*units));
    return std::nullopt;
  }
  const TensorType &type = x->value->type();
  if (type.rank() != 2) {
    layer.error("'dense' needs a [batch, features] input, got " + type.str() +
                (type.rank() > 2 ? "; flatten it first" : ""));
    if (!x->origin.loc.isUnknown())
      layer.lowering().diag().note(x->origin.loc,
                                   type.str() + " is " + x->origin.description);
    return std::nullopt;
  }
  auto weight = layer.param("weight", {type.dim(1), *units},
                            initializerOf(Initializer::Kind::GlorotUniform));
  if (!weight)
    return std::nullopt;
  auto bias =
      layer.param("bias", {*units}, initializerOf(Initializer::Kind::Zeros));
  if (!bias)
    return std::nullopt;
  auto y = layer.emit(OpKind::MatMul, {*x, *weight});
  if (!y)
    return std::nullopt;
  y = layer.emit(OpKind::Add, {*y, *bias});
  if (!y)
    return std::nullopt;
  return applyActivation(layer, *y, *activation);
}

} // namespace

Initializer initializerOf(Initializer::Kind kind) {
  Initializer init;
  init.kind = kind;
  return init;
}

std::optional<std::string> activationOf(LayerContext &layer) {
  return layer.choice("activation",
                      {"relu", "sigmoid", "tanh", "softmax", "none"}, "none");
}

std::optional<Operand> applyActivation(LayerContext &layer, const Operand &y,
                                       llvm::StringRef activation) {
  if (activation == "none")
    return y;
  OpKind kind = activation == "relu"      ? OpKind::Relu
                : activation == "sigmoid" ? OpKind::Sigmoid
                : activation == "tanh"    ? OpKind::Tanh
                                          : OpKind::Softmax;
  return layer.emit(kind, {y});
}

llvm::ArrayRef<LayerDef> allLayers() {
  static const std::vector<LayerDef> layers = {
      {"flatten",
       {{"x"}},
       buildFlatten,
       "reshapes [batch, ...] to [batch, features]"},
      {"dense",
       {{"x"}, {"units"}, {"activation", false}},
       buildDense,
       "x @ weight + bias, then relu, sigmoid, tanh, softmax or none"},
      {"conv2d",
       {{"x"},
        {"filters"},
        {"kernel_size"},
        {"strides", false},
        {"padding", false},
        {"dilation", false},
        {"activation", false},
        {"use_bias", false}},
       buildConv2D,
       "2-D convolution of NHWC images, plus bias, then an activation"},
      {"max_pool2d",
       {{"x"}, {"pool_size"}, {"strides", false}, {"padding", false}},
       buildMaxPool2D,
       "the maximum of each window of NHWC images"},
      {"avg_pool2d",
       {{"x"}, {"pool_size"}, {"strides", false}, {"padding", false}},
       buildAvgPool2D,
       "the mean of each window of NHWC images"},
      {"global_avg_pool2d",
       {{"x"}},
       buildGlobalAvgPool2D,
       "the mean over height and width: [batch, channels]"},
      {"dropout",
       {{"x"}, {"rate"}},
       buildDropout,
       "zeroes a fraction `rate` of the elements while training"},
      {"batch_norm",
       {{"x"}, {"momentum", false}, {"epsilon", false}},
       buildBatchNorm,
       "normalises the last axis by batch statistics, moving averages in "
       "evaluation"},
  };
  return layers;
}

const LayerDef *lookupLayer(llvm::StringRef kind) {
  for (const LayerDef &def : allLayers())
    if (def.kind == kind)
      return &def;
  return nullptr;
}

std::optional<Operand> lowerLayerCall(const LayerDef &def,
                                      const ast::CallExpr &call,
                                      LoweringContext &lc, LayerNamer &namer) {
  auto args = bindArguments(call, def.signature(), lc.diag());
  if (!args)
    return std::nullopt;
  std::string name;
  if (const ast::Expr *e = args->get("name")) {
    auto given = lc.constants().string(*e, "'name' of '" + def.kind + "'");
    if (!given || !checkVariableName(*given, e->loc(), lc.diag()))
      return std::nullopt;
    name = *given;
  } else {
    name = namer.next(def.kind);
  }
  LayerContext layer(lc, call, std::move(*args), std::move(name));
  return def.build(layer);
}

} // namespace nnc::nn
