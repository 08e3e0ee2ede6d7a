//===- Objectives.cpp - Losses and metrics --------------------------------===//
//
// Every objective composes existing IR ops: the losses are element-wise ops
// averaged by reduce_mean, so autodiff differentiates them like any other
// expression; the metrics' statistics are one_hot, compare, cast and
// broadcasting products.
//
//===----------------------------------------------------------------------===//
#include "frontend/Objectives.h"

#include <cmath>
#include <numeric>

namespace nnc::nn {

namespace {

using MaybeOperand = std::optional<Operand>;

/// reduce_mean over every axis of `x`.
MaybeOperand meanOfAll(CallContext &c, const Operand &x) {
  std::vector<int64_t> axes(x.value->type().rank());
  std::iota(axes.begin(), axes.end(), 0);
  AttrDict attrs;
  attrs.set("axes", axes);
  return c.emit(OpKind::ReduceMean, {x}, std::move(attrs));
}

/// reduce_mean over the batch axis only.
MaybeOperand meanOverBatch(CallContext &c, const Operand &x) {
  AttrDict attrs;
  attrs.set("axes", std::vector<int64_t>{0});
  return c.emit(OpKind::ReduceMean, {x}, std::move(attrs));
}

MaybeOperand binary(CallContext &c, OpKind kind, MaybeOperand a,
                    MaybeOperand b) {
  if (!a || !b)
    return std::nullopt;
  return c.emit(kind, {*a, *b});
}

MaybeOperand unary(CallContext &c, OpKind kind, MaybeOperand x) {
  if (!x)
    return std::nullopt;
  return c.emit(kind, {*x});
}

MaybeOperand scalar(CallContext &c, double v) {
  return c.constant(v, TensorType(ElementType::F32, {}));
}

MaybeOperand castTo(CallContext &c, MaybeOperand x, ElementType e) {
  if (!x)
    return std::nullopt;
  if (x->value->type().element() == e)
    return x;
  return c.emit(OpKind::Cast, {*x}, {}, {x->value->type().withElement(e)});
}

MaybeOperand reshapeTo(CallContext &c, MaybeOperand x,
                       llvm::ArrayRef<int64_t> shape) {
  if (!x)
    return std::nullopt;
  if (x->value->type().shape() == shape)
    return x;
  return c.emit(OpKind::Reshape, {*x}, {}, {x->value->type().withShape(shape)});
}

MaybeOperand compareWith(CallContext &c, llvm::StringRef predicate,
                         MaybeOperand a, MaybeOperand b) {
  if (!a || !b)
    return std::nullopt;
  AttrDict attrs;
  attrs.set("predicate", predicate.str());
  return c.emit(OpKind::Compare, {*a, *b}, std::move(attrs));
}

bool isBatched(const TensorType &t, int64_t batch) {
  return t.rank() >= 1 && t.dim(0) == batch;
}

//===----------------------------------------------------------------------===//
// Regression: predictions against targets of the same shape
//===----------------------------------------------------------------------===//

/// The `pred` and `target` arguments, which must be f32 of one shape (or
/// one of them a number): broadcasting [batch, 1] against [batch] would
/// compare every prediction with every target and average batch^2
/// differences without a word.
std::optional<std::pair<Operand, Operand>> predictionAndTarget(CallContext &c) {
  auto operands = c.lowering().lowerOperands(*c.arg("pred"), *c.arg("target"));
  if (!operands)
    return std::nullopt;
  auto &[pred, target] = *operands;
  const TensorType &p = pred.value->type(), &t = target.value->type();
  if (!isFloat(p.element()) || !isFloat(t.element())) {
    const Operand &bad = isFloat(p.element()) ? target : pred;
    c.errorAt(isFloat(p.element()) ? "target" : "pred", bad,
              "'" + c.callee() + "' compares f32 values, got " +
                  bad.value->type().str() +
                  (bad.value->type().element() == ElementType::I32
                       ? "; regression targets are f32 (declare the label "
                         "as f32[batch, 1]), or cast(..., f32) class indices"
                       : ""));
    return std::nullopt;
  }
  if (p.shape() != t.shape() && !p.isScalar() && !t.isScalar()) {
    c.error("'" + c.callee() +
            "' needs the prediction and the target in one "
            "shape, got " +
            p.str() + " and " + t.str() +
            (p.numElements() == t.numElements()
                 ? "; reshape one of them (broadcasting would pair every "
                   "prediction with every target)"
                 : ""));
    for (const Operand *o : {&pred, &target})
      if (!o->origin.loc.isUnknown())
        c.lowering().diag().note(o->origin.loc, o->value->type().str() +
                                                    " is " +
                                                    o->origin.description);
    return std::nullopt;
  }
  return *operands;
}

MaybeOperand lowerMeanSquaredError(CallContext &c) {
  auto args = predictionAndTarget(c);
  if (!args)
    return std::nullopt;
  auto diff = c.emit(OpKind::Sub, {args->first, args->second});
  auto squared = binary(c, OpKind::Mul, diff, diff);
  return squared ? meanOfAll(c, *squared) : std::nullopt;
}

MaybeOperand lowerMeanAbsoluteError(CallContext &c) {
  auto args = predictionAndTarget(c);
  if (!args)
    return std::nullopt;
  auto diff = c.emit(OpKind::Sub, {args->first, args->second});
  auto absolute = unary(c, OpKind::Abs, diff);
  return absolute ? meanOfAll(c, *absolute) : std::nullopt;
}

/// 0.5 d^2 for |d| <= delta, delta (|d| - delta / 2) beyond, as
///   0.5 m^2 + delta (|d| - m)  with  m = min(|d|, delta),
/// which needs no select and whose gradient is d, then delta sign(d).
MaybeOperand lowerHuber(CallContext &c) {
  auto delta = c.number("delta", 1.0);
  if (!delta)
    return std::nullopt;
  if (!(*delta > 0) || !std::isfinite(*delta)) {
    c.lowering().diag().error(c.arg("delta")->loc(),
                              "the delta of 'huber' must be positive and "
                              "finite");
    return std::nullopt;
  }
  auto args = predictionAndTarget(c);
  if (!args)
    return std::nullopt;
  auto absolute =
      unary(c, OpKind::Abs, c.emit(OpKind::Sub, {args->first, args->second}));
  auto d = scalar(c, *delta);
  auto m = binary(c, OpKind::Min, absolute, d);
  auto quadratic =
      binary(c, OpKind::Mul, scalar(c, 0.5), binary(c, OpKind::Mul, m, m));
  auto linear = binary(c, OpKind::Mul, d, binary(c, OpKind::Sub, absolute, m));
  auto perElement = binary(c, OpKind::Add, quadratic, linear);
  return perElement ? meanOfAll(c, *perElement) : std::nullopt;
}

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

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

/// Whether logits and labels are a multi-class pair: scores [batch, ...,
/// C] and i32 class indices [batch, ...].
bool isMultiClass(const TensorType &logits, const TensorType &labels) {
  return logits.rank() >= 2 && labels.element() == ElementType::I32 &&
         labels.shape() == logits.shape().drop_back();
}

/// Whether logits and labels are a binary pair: one score per example
/// ([batch] or [batch, 1]) and 0/1 labels of the same shape.
bool isBinary(const TensorType &logits, const TensorType &labels) {
  bool oneScore =
      logits.rank() == 1 || (logits.rank() == 2 && logits.dim(1) == 1);
  return oneScore && isFloat(logits.element()) &&
         labels.shape() == logits.shape();
}

/// Reports logits and labels that fit none of the forms a classification
/// objective takes.
void mismatchedLabels(CallContext &c, const Operand &logits,
                      const Operand &labels, bool binaryAllowed) {
  c.errorAt("labels", labels,
            "'" + c.callee() +
                "' takes logits [batch, classes] with i32 "
                "class labels [batch]" +
                (binaryAllowed ? ", or one logit per example ([batch] or "
                                 "[batch, 1]) with 0/1 labels of its shape"
                               : "") +
                "; got logits " + logits.value->type().str() + " and labels " +
                labels.value->type().str());
}

MaybeOperand lowerCrossEntropy(CallContext &c) {
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto &[logits, labels] = *args;
  const TensorType &lt = logits.value->type(), &yt = labels.value->type();
  // Probabilities per class (one-hot or soft targets): -sum(t log p).
  if (isFloat(yt.element()) && lt.rank() >= 1 && yt == lt) {
    auto logp = c.emit(OpKind::LogSoftmax, {logits});
    auto product = binary(c, OpKind::Mul, labels, logp);
    if (!product)
      return std::nullopt;
    AttrDict attrs;
    attrs.set("axes", std::vector<int64_t>{int64_t(lt.rank()) - 1});
    auto perExample =
        unary(c, OpKind::Neg,
              c.emit(OpKind::ReduceSum, {*product}, std::move(attrs)));
    return perExample ? meanOfAll(c, *perExample) : std::nullopt;
  }
  if (yt.element() != ElementType::I32 && lt.rank() == 2 && yt.rank() == 1) {
    c.errorAt("labels", labels,
              "'softmax_cross_entropy' takes i32 class labels, got " +
                  yt.str() +
                  "; declare the label as i32[batch], or pass probabilities "
                  "of the logits' shape");
    return std::nullopt;
  }
  auto perExample = c.emit(OpKind::SoftmaxCrossEntropy, {logits, labels});
  if (!perExample)
    return std::nullopt;
  return meanOfAll(c, *perExample);
}

/// max(z, 0) - z y + log(1 + exp(-|z|)): -y log(sigmoid z) - (1 - y)
/// log(1 - sigmoid z) without overflow for any z (TensorFlow's formula).
MaybeOperand lowerBinaryCrossEntropy(CallContext &c) {
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto &[logits, labels] = *args;
  if (!isFloat(logits.value->type().element()) ||
      logits.value->type().shape() != labels.value->type().shape()) {
    c.errorAt("labels", labels,
              "'binary_cross_entropy' takes logits and 0/1 labels of one "
              "shape, got logits " +
                  logits.value->type().str() + " and labels " +
                  labels.value->type().str());
    return std::nullopt;
  }
  auto y = castTo(c, labels, ElementType::F32);
  auto zero = scalar(c, 0.0), one = scalar(c, 1.0);
  auto positive = binary(c, OpKind::Max, logits, zero);
  auto zy = binary(c, OpKind::Mul, logits, y);
  auto softplus = unary(
      c, OpKind::Log,
      binary(c, OpKind::Add, one,
             unary(c, OpKind::Exp,
                   unary(c, OpKind::Neg, unary(c, OpKind::Abs, logits)))));
  auto perElement =
      binary(c, OpKind::Add, binary(c, OpKind::Sub, positive, zy), softplus);
  return perElement ? meanOfAll(c, *perElement) : std::nullopt;
}

/// The predicted and the true class of each example, both i32[batch], and
/// the number of classes: argmax of multi-class logits, or logit > 0 and
/// label > 0.5 for binary ones (two classes).
struct Classes {
  Operand predicted, actual;
  int64_t count;
};

std::optional<Classes> classesOf(CallContext &c) {
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto &[logits, labels] = *args;
  const TensorType &lt = logits.value->type(), &yt = labels.value->type();
  if (isMultiClass(lt, yt)) {
    AttrDict attrs;
    attrs.set("axis", int64_t(lt.rank() - 1));
    auto predicted = c.emit(OpKind::ArgMax, {logits}, std::move(attrs));
    if (!predicted)
      return std::nullopt;
    return Classes{*predicted, labels, lt.dim(lt.rank() - 1)};
  }
  if (isBinary(lt, yt)) {
    int64_t batch = lt.dim(0);
    auto predicted = castTo(
        c, compareWith(c, "gt", reshapeTo(c, logits, {batch}), scalar(c, 0.0)),
        ElementType::I32);
    auto actual = castTo(
        c,
        compareWith(c, "gt",
                    castTo(c, reshapeTo(c, labels, {batch}), ElementType::F32),
                    scalar(c, 0.5)),
        ElementType::I32);
    if (!predicted || !actual)
      return std::nullopt;
    return Classes{*predicted, *actual, 2};
  }
  mismatchedLabels(c, logits, labels, /*binaryAllowed=*/true);
  return std::nullopt;
}

MaybeOperand lowerAccuracy(CallContext &c) {
  auto classes = classesOf(c);
  if (!classes)
    return std::nullopt;
  auto correct = compareWith(c, "eq", classes->predicted, classes->actual);
  auto asFloat = castTo(c, correct, ElementType::F32);
  return asFloat ? meanOfAll(c, *asFloat) : std::nullopt;
}

std::optional<int64_t> topK(CallContext &c) {
  auto k = c.integer("k", 5);
  if (k && *k < 1) {
    c.lowering().diag().error(c.arg("k")->loc(),
                              "the k of 'top_k_accuracy' must be at least 1, "
                              "got " +
                                  llvm::Twine(*k));
    return std::nullopt;
  }
  return k;
}

/// top_5_accuracy, or with k=3, top_3_accuracy. Read without reporting:
/// a bad k is reported once, when the metric is lowered.
std::string topKName(CallContext &c) {
  int64_t k = 5;
  if (const ast::Expr *e = c.arg("k")) {
    auto *n = llvm::dyn_cast<ast::NumberExpr>(e);
    if (!n || !n->isInteger())
      return "top_k_accuracy";
    k = n->getInteger();
  }
  return "top_" + std::to_string(k) + "_accuracy";
}

/// Whether fewer than k classes score above the label's: ties count for
/// the label, as in TensorFlow's in_top_k.
MaybeOperand lowerTopKAccuracy(CallContext &c) {
  auto k = topK(c);
  if (!k)
    return std::nullopt;
  auto args = logitsAndLabels(c);
  if (!args)
    return std::nullopt;
  auto &[logits, labels] = *args;
  const TensorType &lt = logits.value->type();
  if (!isMultiClass(lt, labels.value->type()) || lt.rank() != 2 ||
      !isFloat(lt.element())) {
    mismatchedLabels(c, logits, labels, /*binaryAllowed=*/false);
    return std::nullopt;
  }
  AttrDict depth;
  depth.set("depth", lt.dim(1));
  auto oneHot = c.emit(OpKind::OneHot, {labels}, std::move(depth));
  auto picked = binary(c, OpKind::Mul, logits, oneHot);
  if (!picked)
    return std::nullopt;
  AttrDict sumAttrs;
  sumAttrs.set("axes", std::vector<int64_t>{1});
  sumAttrs.set("keepdims", true);
  auto labelScore = c.emit(OpKind::ReduceSum, {*picked}, std::move(sumAttrs));
  // select(logits > score, 1, 0) rather than a cast of the comparison:
  // the code generator's row-wise kernels vectorise a cast of i1 lanes
  // inside a row reduction into invalid LLVM IR.
  auto greater = compareWith(c, "gt", logits, labelScore);
  auto one = scalar(c, 1.0), zero = scalar(c, 0.0);
  if (!greater || !one || !zero)
    return std::nullopt;
  auto above = c.emit(OpKind::Select, {*greater, *one, *zero});
  if (!above)
    return std::nullopt;
  AttrDict countAttrs;
  countAttrs.set("axes", std::vector<int64_t>{1});
  auto rank = c.emit(OpKind::ReduceSum, {*above}, std::move(countAttrs));
  auto hit = castTo(c, compareWith(c, "lt", rank, scalar(c, double(*k))),
                    ElementType::F32);
  return hit ? meanOfAll(c, *hit) : std::nullopt;
}

/// The confusion matrix of the batch divided by the batch size, f32[C, C]:
/// row = true class, column = predicted class (scikit-learn's layout).
MaybeOperand lowerConfusion(CallContext &c) {
  auto classes = classesOf(c);
  if (!classes)
    return std::nullopt;
  int64_t n = classes->count;
  if (classes->actual.value->type().rank() != 1) {
    c.error("'" + c.callee() +
            "' needs one class per example: logits [batch, "
            "classes] and labels [batch], got labels " +
            classes->actual.value->type().str());
    return std::nullopt;
  }
  if (n > kMaxConfusionClasses) {
    c.error("'" + c.callee() +
            "' needs a confusion matrix, which nnc builds "
            "per example in the graph: at most " +
            llvm::Twine(kMaxConfusionClasses) + " classes, got " +
            llvm::Twine(n));
    return std::nullopt;
  }
  int64_t batch = classes->actual.value->type().dim(0);
  auto oneHot = [&](const Operand &v) -> MaybeOperand {
    AttrDict attrs;
    attrs.set("depth", n);
    return c.emit(OpKind::OneHot, {v}, std::move(attrs));
  };
  auto rows = reshapeTo(c, oneHot(classes->actual), {batch, n, 1});
  auto columns = reshapeTo(c, oneHot(classes->predicted), {batch, 1, n});
  auto outer = binary(c, OpKind::Mul, rows, columns);
  return outer ? meanOverBatch(c, *outer) : std::nullopt;
}

/// f32[3, D]: the batch means of (pred - target)^2, target and target^2
/// for each of the D outputs, from which the runtime computes R^2 over a
/// whole data set.
MaybeOperand lowerR2(CallContext &c) {
  auto args = predictionAndTarget(c);
  if (!args)
    return std::nullopt;
  auto &[pred, target] = *args;
  const TensorType &t = target.value->type();
  if (!isBatched(t, c.lowering().batchSize())) {
    c.errorAt("target", target,
              "'r2' needs targets with the batch as their first axis, got " +
                  t.str());
    return std::nullopt;
  }
  int64_t batch = t.dim(0), outputs = t.numElements() / batch;
  auto diff = c.emit(OpKind::Sub, {pred, target});
  auto squared = binary(c, OpKind::Mul, diff, diff);
  auto t3 = reshapeTo(c, target, {batch, 1, outputs});
  auto statistics = {reshapeTo(c, squared, {batch, 1, outputs}), t3,
                     binary(c, OpKind::Mul, t3, t3)};
  MaybeOperand sum;
  int row = 0;
  for (MaybeOperand s : statistics) {
    std::vector<double> selector(3, 0.0);
    selector[row++] = 1.0;
    auto placed =
        binary(c, OpKind::Mul, s,
               c.constant(selector, TensorType(ElementType::F32, {3, 1})));
    sum = sum ? binary(c, OpKind::Add, sum, placed) : placed;
    if (!sum)
      return std::nullopt;
  }
  return meanOverBatch(c, *sum);
}

} // namespace

llvm::ArrayRef<ObjectiveDef> allObjectives() {
  using P = ParamSpec;
  const P logits{"logits"}, labels{"labels"}, pred{"pred"}, target{"target"};
  static const std::vector<ObjectiveDef> objectives = {
      {{"softmax_cross_entropy", {logits, labels}},
       lowerCrossEntropy,
       true,
       "mean of -log softmax(logits)[label]: i32 labels, or probabilities of "
       "the logits' shape"},
      {{"binary_cross_entropy", {logits, labels}},
       lowerBinaryCrossEntropy,
       true,
       "mean of the cross-entropy of sigmoid(logits) and 0/1 labels of their "
       "shape"},
      {{"mean_squared_error", {pred, target}},
       lowerMeanSquaredError,
       true,
       "mean over all elements of (pred - target)^2"},
      {{"mean_absolute_error", {pred, target}},
       lowerMeanAbsoluteError,
       true,
       "mean over all elements of |pred - target|"},
      {{"huber", {pred, target, {"delta", false}}},
       lowerHuber,
       true,
       "mean of 0.5 d^2 where |d| <= delta (1 by default), delta (|d| - "
       "delta/2) beyond"},
      {{"accuracy", {logits, labels}},
       lowerAccuracy,
       false,
       "fraction of examples whose largest logit is at the label (binary: "
       "logit > 0 where the label is 1)"},
      {{"top_k_accuracy", {logits, labels, {"k", false}}},
       lowerTopKAccuracy,
       false,
       "fraction of examples whose label is among the k (5) largest logits",
       topKName},
      {{"precision", {logits, labels}},
       lowerConfusion,
       false,
       "of the examples predicted as a class, the fraction in it; macro "
       "average and per class"},
      {{"recall", {logits, labels}},
       lowerConfusion,
       false,
       "of the examples in a class, the fraction predicted as it; macro "
       "average and per class"},
      {{"f1", {logits, labels}},
       lowerConfusion,
       false,
       "harmonic mean of precision and recall; macro average and per class"},
      {{"confusion_matrix", {logits, labels}},
       lowerConfusion,
       false,
       "counts of (true class, predicted class), printed after evaluation"},
      {{"r2", {pred, target}},
       lowerR2,
       false,
       "coefficient of determination, 1 - SS_res / SS_tot over the data set "
       "(averaged over outputs)"},
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
