//===- TrainingLayers.cpp - dropout and batch_norm ------------------------===//
//
// Layers whose training step differs from evaluation and inference. The
// frontend lowers the model once for each (ModelOptions::training), so the
// difference is settled here and the graphs after it carry none:
//
// - dropout(x, rate) while training keeps each element with probability
//   1 - rate and scales it by 1 / (1 - rate) (Keras's inverted dropout):
//   keep = random_uniform(step) >= rate, with the generator keyed by the
//   run's seed mixed with the layer's name (so that two dropout layers draw
//   different masks) and the step counter "dropout.step". Elsewhere it is
//   the identity.
// - batch_norm(x) normalises each feature (the last axis) while training by
//   the batch's mean and biased variance over every other axis, and moves
//   its moving averages towards them (moving = moving * momentum + batch *
//   (1 - momentum), as Keras); elsewhere it normalises by the moving
//   averages. y = (x - mean) * gamma / sqrt(variance + epsilon) + beta.
//
//===----------------------------------------------------------------------===//
#include "frontend/LayerBuilders.h"

#include <numeric>

namespace nnc::nn {

namespace {

/// 64-bit FNV-1a: mixes a layer's name into the run's seed.
uint64_t fnv1a(llvm::StringRef s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

TensorType scalarF32() { return TensorType(ElementType::F32, {}); }

std::string number(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printFloat(os, v);
  return s;
}

} // namespace

std::optional<Operand> buildDropout(LayerContext &layer) {
  auto x = layer.tensor("x");
  if (!x)
    return std::nullopt;
  auto rate = layer.number("rate", 0);
  if (!rate)
    return std::nullopt;
  if (!(*rate >= 0 && *rate < 1)) {
    layer.lowering().diag().error(
        layer.arg("rate")->loc(),
        "the rate of 'dropout' must be in [0, 1), got " + number(*rate));
    return std::nullopt;
  }
  const TensorType &type = x->value->type();
  if (type.element() != ElementType::F32) {
    layer.errorAt("x", *x, "'dropout' takes f32 values, got " + type.str());
    return std::nullopt;
  }
  LoweringContext &lc = layer.lowering();
  if (!lc.training() || *rate == 0)
    return x;
  Operand step{lc.stepCounter(layer.loc()),
               Origin{layer.loc(), "the training step's counter"}};
  AttrDict seed;
  seed.set("seed", int64_t(lc.seed() ^ fnv1a(layer.layerName())));
  auto u = layer.emit(OpKind::RandomUniform, {step}, std::move(seed), {type});
  auto threshold = layer.constant(*rate, scalarF32());
  if (!u || !threshold)
    return std::nullopt;
  AttrDict ge;
  ge.set("predicate", "ge");
  auto keep = layer.emit(OpKind::Compare, {*u, *threshold}, std::move(ge));
  auto scale = layer.constant(1.0 / (1.0 - *rate), scalarF32());
  auto zero = layer.constant(0.0, scalarF32());
  if (!keep || !scale || !zero)
    return std::nullopt;
  auto scaled = layer.emit(OpKind::Mul, {*x, *scale});
  if (!scaled)
    return std::nullopt;
  return layer.emit(OpKind::Select, {*keep, *scaled, *zero});
}

std::optional<Operand> buildBatchNorm(LayerContext &layer) {
  auto x = layer.tensor("x");
  if (!x)
    return std::nullopt;
  const TensorType &type = x->value->type();
  if (type.rank() < 2 || type.element() != ElementType::F32) {
    layer.errorAt("x", *x,
                  "'batch_norm' needs f32 [batch, ..., features], got " +
                      type.str());
    return std::nullopt;
  }
  auto momentum = layer.number("momentum", 0.99);
  if (!momentum)
    return std::nullopt;
  DiagnosticEngine &diag = layer.lowering().diag();
  if (!(*momentum >= 0 && *momentum <= 1)) {
    diag.error(layer.arg("momentum")->loc(),
               "the momentum of 'batch_norm' must be in [0, 1], got " +
                   number(*momentum));
    return std::nullopt;
  }
  auto epsilon = layer.number("epsilon", 1e-3);
  if (!epsilon)
    return std::nullopt;
  if (!(*epsilon > 0)) {
    diag.error(layer.arg("epsilon")->loc(),
               "the epsilon of 'batch_norm' must be positive, got " +
                   number(*epsilon));
    return std::nullopt;
  }

  int64_t features = type.dim(type.rank() - 1);
  auto gamma =
      layer.param("gamma", {features}, initializerOf(Initializer::Kind::Ones));
  if (!gamma)
    return std::nullopt;
  auto beta =
      layer.param("beta", {features}, initializerOf(Initializer::Kind::Zeros));
  if (!beta)
    return std::nullopt;
  auto state = [&](llvm::StringRef suffix, llvm::StringRef init) {
    Value *v = layer.state(suffix, {features}, init);
    return Operand{v, Origin{layer.loc(), "'" + layer.layerName() + "." +
                                              suffix.str() +
                                              "', created "
                                              "here"}};
  };
  Operand movingMean = state("moving_mean", "zeros");
  Operand movingVariance = state("moving_variance", "ones");

  std::vector<int64_t> axes(type.rank() - 1);
  std::iota(axes.begin(), axes.end(), 0);
  auto mean = [&](const Operand &v) {
    AttrDict attrs;
    attrs.set("axes", axes);
    return layer.emit(OpKind::ReduceMean, {v}, std::move(attrs));
  };
  std::optional<Operand> centred, variance;
  if (layer.lowering().training()) {
    auto batchMean = mean(*x);
    if (!batchMean)
      return std::nullopt;
    centred = layer.emit(OpKind::Sub, {*x, *batchMean});
    if (!centred)
      return std::nullopt;
    auto squares = layer.emit(OpKind::Mul, {*centred, *centred});
    if (!squares)
      return std::nullopt;
    variance = mean(*squares);
    auto keep = layer.constant(*momentum, scalarF32());
    auto take = layer.constant(1.0 - *momentum, scalarF32());
    if (!variance || !keep || !take)
      return std::nullopt;
    for (auto [moving, batch] : {std::pair{movingMean, *batchMean},
                                 std::pair{movingVariance, *variance}}) {
      auto kept = layer.emit(OpKind::Mul, {moving, *keep});
      auto taken = layer.emit(OpKind::Mul, {batch, *take});
      if (!kept || !taken)
        return std::nullopt;
      auto next = layer.emit(OpKind::Add, {*kept, *taken});
      if (!next)
        return std::nullopt;
      layer.lowering().assign(moving.value, next->value, layer.loc());
    }
  } else {
    centred = layer.emit(OpKind::Sub, {*x, movingMean});
    variance = movingVariance;
  }
  auto eps = layer.constant(*epsilon, scalarF32());
  if (!centred || !eps)
    return std::nullopt;
  auto shifted = layer.emit(OpKind::Add, {*variance, *eps});
  if (!shifted)
    return std::nullopt;
  auto inverse = layer.emit(OpKind::Rsqrt, {*shifted});
  if (!inverse)
    return std::nullopt;
  auto scale = layer.emit(OpKind::Mul, {*inverse, *gamma});
  if (!scale)
    return std::nullopt;
  auto y = layer.emit(OpKind::Mul, {*centred, *scale});
  if (!y)
    return std::nullopt;
  return layer.emit(OpKind::Add, {*y, *beta});
}

} // namespace nnc::nn
