//===- Objectives.cpp - Losses and metrics --------------------------------===//
#include "frontend/Objectives.h"

#include <numeric>

namespace nnc::nn {

namespace {

/// reduce_mean over every axis of `x`.
std::optional<Operand> meanOfAll(CallContext &c, const Operand &x) {
  std::vector<int64_t> axes(x.value->type().rank());
  std::iota(axes.begin(), axes.end(), 0);
  AttrDict attrs;
  attrs.set("axes", axes);
  return c.emit(OpKind::ReduceMean, {x}, std::move(attrs));
}

/// The `logits` and `labels` arguments of a classification objective.
std::optional<std::pair<Operand, Operand>> logitsAndLabels(CallContext &c) {
  auto logits = c.tensor("logits");
  if (!logits)
    return std::nullopt;
  auto labels = c.tensor("labels");
  if (!labels)
    return std::nullopt;
  return std::make_pair(*logits, *labels);
}

std::optional<Operand> lowerCrossEntropy(CallContext &c) {
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto perExample =
      c.emit(OpKind::SoftmaxCrossEntropy, {args->first, args->second});
  if (!perExample)
    return std::nullopt;
  return meanOfAll(c, *perExample);
}

std::optional<Operand> lowerMeanSquaredError(CallContext &c) {
  auto operands = c.lowering().lowerOperands(*c.arg("pred"), *c.arg("target"));
  if (!operands)
    return std::nullopt;
  auto diff = c.emit(OpKind::Sub, {operands->first, operands->second});
  if (!diff)
    return std::nullopt;
  auto squared = c.emit(OpKind::Mul, {*diff, *diff});
  if (!squared)
    return std::nullopt;
  return meanOfAll(c, *squared);
}

std::optional<Operand> lowerAccuracy(CallContext &c) {
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto [logits, labels] = *args;
  unsigned rank = logits.value->type().rank();
  if (rank == 0) {
    c.error("'accuracy' needs logits with a class axis, got " +
            logits.value->type().str());
    return std::nullopt;
  }
  AttrDict argmaxAttrs;
  argmaxAttrs.set("axis", int64_t(rank - 1));
  auto predicted = c.emit(OpKind::ArgMax, {logits}, std::move(argmaxAttrs));
  if (!predicted)
    return std::nullopt;
  AttrDict compareAttrs;
  compareAttrs.set("predicate", "eq");
  auto correct =
      c.emit(OpKind::Compare, {*predicted, labels}, std::move(compareAttrs));
  if (!correct)
    return std::nullopt;
  auto asFloat = c.emit(OpKind::Cast, {*correct}, {},
                        {correct->value->type().withElement(ElementType::F32)});
  if (!asFloat)
    return std::nullopt;
  return meanOfAll(c, *asFloat);
}

} // namespace

llvm::ArrayRef<ObjectiveDef> allObjectives() {
  static const std::vector<ObjectiveDef> objectives = {
      {{"softmax_cross_entropy", {{"logits"}, {"labels"}}},
       lowerCrossEntropy,
       true,
       "mean over the batch of -log softmax(logits)[label]; i32 labels"},
      {{"mean_squared_error", {{"pred"}, {"target"}}},
       lowerMeanSquaredError,
       true,
       "mean over all elements of (pred - target)^2"},
      {{"accuracy", {{"logits"}, {"labels"}}},
       lowerAccuracy,
       false,
       "fraction of rows whose largest logit is at the label"},
  };
  return objectives;
}

const ObjectiveDef *lookupObjective(llvm::StringRef name) {
  for (const ObjectiveDef &def : allObjectives())
    if (def.name() == name)
      return &def;
  return nullptr;
}

} // namespace nnc::nn
