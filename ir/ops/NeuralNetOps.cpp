//===- NeuralNetOps.cpp - softmax, log_softmax, one_hot, cross-entropy ----===//
//
// Row-wise ops over the last axis. softmax_cross_entropy takes integer labels
// and returns the per-example loss; its gradient is the classic
// softmax(logits) - one_hot(labels), which is both cheaper and more accurate
// than differentiating log_softmax and a gather.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

#include <cmath>
#include <limits>

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferRowwise(const OpSignature &sig) {
  const TensorType &x = sig.operands[0];
  if (x.rank() == 0)
    return opError("needs an operand of rank 1 or more (it works along the "
                   "last axis)");
  if (llvm::Error err = requireFloat(x, "the operand"))
    return err;
  return result(x);
}

/// Calls f(row offset, row length) for each row along the last axis.
template <typename F> static void forEachRow(const TensorType &t, F f) {
  int64_t n = t.dim(t.rank() - 1);
  for (int64_t start = 0; start < t.numElements(); start += n)
    f(start, n);
}

/// log(sum(exp(x))) over one row, computed stably.
static double logSumExp(const HostTensor &x, int64_t start, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n; ++k)
    m = std::max(m, x[start + k]);
  double s = 0;
  for (int64_t k = 0; k < n; ++k)
    s += std::exp(x[start + k] - m);
  return m + std::log(s);
}

static llvm::Error evalSoftmax(const Op &,
                               llvm::ArrayRef<const HostTensor *> in,
                               llvm::MutableArrayRef<HostTensor> out) {
  forEachRow(in[0]->type, [&](int64_t start, int64_t n) {
    double lse = logSumExp(*in[0], start, n);
    for (int64_t k = 0; k < n; ++k)
      out[0][start + k] = std::exp((*in[0])[start + k] - lse);
  });
  return llvm::Error::success();
}

static llvm::Error evalLogSoftmax(const Op &,
                                  llvm::ArrayRef<const HostTensor *> in,
                                  llvm::MutableArrayRef<HostTensor> out) {
  forEachRow(in[0]->type, [&](int64_t start, int64_t n) {
    double lse = logSumExp(*in[0], start, n);
    for (int64_t k = 0; k < n; ++k)
      out[0][start + k] = (*in[0])[start + k] - lse;
  });
  return llvm::Error::success();
}

static int64_t lastAxis(const Value *v) { return v->type().rank() - 1; }

static void gradSoftmax(GradContext &c) {
  // dx = y * (g - sum(g * y))
  Value *y = c.result(), *g = c.resultGrad();
  Value *dot = c.b.reduceSum(c.b.mul(g, y), {lastAxis(y)}, true);
  c.setGrad(0, c.b.mul(y, c.b.sub(g, dot)));
}

static void gradLogSoftmax(GradContext &c) {
  // dx = g - softmax(x) * sum(g)
  Value *g = c.resultGrad();
  Value *total = c.b.reduceSum(g, {lastAxis(g)}, true);
  c.setGrad(0, c.b.sub(g, c.b.mul(c.b.exp(c.result()), total)));
}

static llvm::Expected<ResultTypes> inferOneHot(const OpSignature &sig) {
  const TensorType &labels = sig.operands[0];
  if (labels.element() != ElementType::I32)
    return opError("labels must be i32, got " + labels.str());
  int64_t depth = sig.attrs.getInt("depth");
  if (depth <= 0)
    return opError("depth must be positive, got " + llvm::Twine(depth));
  Shape shape(labels.shape());
  shape.push_back(depth);
  return result(TensorType(ElementType::F32, shape));
}

static llvm::Expected<ResultTypes>
inferSoftmaxCrossEntropy(const OpSignature &sig) {
  const TensorType &logits = sig.operands[0], &labels = sig.operands[1];
  if (logits.rank() != 2)
    return opError("logits must be [batch, classes], got " + logits.str());
  if (llvm::Error err = requireFloat(logits, "the logits"))
    return err;
  if (labels.element() != ElementType::I32 || labels.rank() != 1)
    return opError("labels must be i32[batch], got " + labels.str());
  if (labels.dim(0) != logits.dim(0))
    return opError("logits " + logits.str() + " and labels " + labels.str() +
                   " differ in batch size");
  return result(logits.withShape({logits.dim(0)}));
}

static llvm::Error
evalSoftmaxCrossEntropy(const Op &, llvm::ArrayRef<const HostTensor *> in,
                        llvm::MutableArrayRef<HostTensor> out) {
  const HostTensor &logits = *in[0], &labels = *in[1];
  int64_t classes = logits.type.dim(1);
  for (int64_t i = 0; i < labels.size(); ++i) {
    double label = labels[i];
    if (!(label >= 0 && label < classes))
      return opError("label " + llvm::Twine(int64_t(label)) + " of example " +
                     llvm::Twine(i) + " is outside [0, " +
                     llvm::Twine(classes) + ")");
    int64_t start = i * classes;
    out[0][i] =
        logSumExp(logits, start, classes) - logits[start + int64_t(label)];
  }
  return llvm::Error::success();
}

static void gradSoftmaxCrossEntropy(GradContext &c) {
  Value *logits = c.operand(0), *labels = c.operand(1);
  int64_t batch = logits->type().dim(0), classes = logits->type().dim(1);
  Value *diff = c.b.sub(c.b.softmax(logits), c.b.oneHot(labels, classes));
  Value *perExample = c.b.reshape(c.resultGrad(), {batch, 1});
  c.setGrad(0, c.b.mul(diff, perExample));
}

//===----------------------------------------------------------------------===//
// Structure. Row statistics first: stage 0 the maximum of each row along the
// last axis, stage 1 the sum of exp(x - max); then each op's own stages.
//===----------------------------------------------------------------------===//

static StageOperand rowsOf(int stage, const TensorType &x) {
  Shape rows(x.shape().drop_back());
  return structured::identity(StageOperand::kNone, stage, rows, x.rank());
}

static StructuredOp rowStatistics(const Op &op) {
  const TensorType &x = op.operand(0)->type();
  ElementType e = x.element();
  StageOperand whole =
      structured::identity(0, StageOperand::kNone, x.shape(), x.rank());
  StructuredStage max;
  max.domain = Shape(x.shape());
  max.parallel = x.rank() - 1;
  max.operands.push_back(whole);
  max.body.input(0, e);
  max.combiner = Combiner::Max;
  max.type = e;
  StructuredStage sum = max;
  sum.operands.push_back(rowsOf(0, x));
  sum.body = ScalarBody();
  sum.body.apply(ScalarOp::Exp,
                 {sum.body.apply(ScalarOp::Sub, {sum.body.input(0, e),
                                                 sum.body.input(1, e)})});
  sum.combiner = Combiner::Sum;
  StructuredOp s;
  s.stages.push_back(std::move(max));
  s.stages.push_back(std::move(sum));
  return s;
}

/// log(sum exp(x)) of a row from the statistics read as inputs `max`, `sum`.
static unsigned logSumExp(ScalarBody &body, unsigned max, unsigned sum) {
  return body.apply(ScalarOp::Add, {max, body.apply(ScalarOp::Log, {sum})});
}

template <bool Log>
static std::optional<StructuredOp> describeSoftmax(const Op &op) {
  const TensorType &x = op.operand(0)->type();
  ElementType e = x.element();
  StructuredOp s = rowStatistics(op);
  StructuredStage out;
  out.domain = Shape(x.shape());
  out.parallel = x.rank();
  out.operands.push_back(
      structured::identity(0, StageOperand::kNone, x.shape(), x.rank()));
  out.operands.push_back(rowsOf(0, x));
  out.operands.push_back(rowsOf(1, x));
  ScalarBody &b = out.body;
  unsigned in = b.input(0, e);
  unsigned lse = logSumExp(b, b.input(1, e), b.input(2, e));
  unsigned shifted = b.apply(ScalarOp::Sub, {in, lse});
  if (!Log)
    b.apply(ScalarOp::Exp, {shifted});
  out.type = e;
  out.result = 0;
  s.stages.push_back(std::move(out));
  return s;
}

static std::optional<StructuredOp> describeOneHot(const Op &op) {
  const TensorType &labels = op.operand(0)->type();
  const TensorType &t = op.result()->type();
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  st.operands.push_back(
      structured::identity(0, StageOperand::kNone, labels.shape(), t.rank()));
  ScalarBody &b = st.body;
  unsigned hot = b.compare(Predicate::EQ, b.index(labels.rank()),
                           b.input(0, ElementType::I32));
  b.apply(ScalarOp::Select,
          {hot, b.constant(1.0, t.element()), b.constant(0.0, t.element())});
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

/// The logit at each label is picked by a sum over the row of
/// select(class == label, x, 0); a label outside [0, classes) gives NaN,
/// since a compiled step cannot report an error and must not read outside
/// the row (the runtime checks labels when it loads them).
static std::optional<StructuredOp> describeSoftmaxCrossEntropy(const Op &op) {
  const TensorType &x = op.operand(0)->type();
  ElementType e = x.element();
  int64_t batch = x.dim(0), classes = x.dim(1);
  StructuredOp s = rowStatistics(op);
  StructuredStage picked;
  picked.domain = Shape(x.shape());
  picked.parallel = 1;
  picked.operands.push_back(
      structured::identity(0, StageOperand::kNone, x.shape(), 2));
  picked.operands.push_back(
      structured::identity(1, StageOperand::kNone, {batch}, 2));
  {
    ScalarBody &b = picked.body;
    unsigned at =
        b.compare(Predicate::EQ, b.index(1), b.input(1, ElementType::I32));
    b.apply(ScalarOp::Select, {at, b.input(0, e), b.constant(0.0, e)});
  }
  picked.combiner = Combiner::Sum;
  picked.type = e;
  s.stages.push_back(std::move(picked));

  StructuredStage loss;
  loss.domain = {batch};
  loss.parallel = 1;
  for (int stage : {0, 1, 2})
    loss.operands.push_back(
        structured::identity(StageOperand::kNone, stage, {batch}, 1));
  loss.operands.push_back(
      structured::identity(1, StageOperand::kNone, {batch}, 1));
  ScalarBody &b = loss.body;
  unsigned value =
      b.apply(ScalarOp::Sub,
              {logSumExp(b, b.input(0, e), b.input(1, e)), b.input(2, e)});
  unsigned label = b.input(3, ElementType::I32);
  unsigned nan = b.constant(std::numeric_limits<double>::quiet_NaN(), e);
  unsigned below =
      b.compare(Predicate::LT, label, b.constant(0.0, ElementType::I32));
  unsigned above = b.compare(Predicate::GE, label,
                             b.constant(double(classes), ElementType::I32));
  b.apply(ScalarOp::Select,
          {below, nan, b.apply(ScalarOp::Select, {above, nan, value})});
  loss.type = e;
  loss.result = 0;
  s.stages.push_back(std::move(loss));
  return s;
}

void registerNeuralNetOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::Softmax,
            .name = "softmax",
            .summary = "exp(x) / sum(exp(x)) along the last axis",
            .minOperands = 1,
            .maxOperands = 1,
            .infer = inferRowwise,
            .eval = evalSoftmax,
            .grad = gradSoftmax,
            .structure = describeSoftmax<false>});
  add(OpDef{.kind = OpKind::LogSoftmax,
            .name = "log_softmax",
            .summary = "x - log(sum(exp(x))) along the last axis",
            .minOperands = 1,
            .maxOperands = 1,
            .infer = inferRowwise,
            .eval = evalLogSoftmax,
            .grad = gradLogSoftmax,
            .structure = describeSoftmax<true>});
  add(OpDef{.kind = OpKind::OneHot,
            .name = "one_hot",
            .summary = "f32 rows with a 1 at each label",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = {AttrSpec::required("depth", AttrKind::Int)},
            .infer = inferOneHot,
            .eval = evaluateDescribed,
            .structure = describeOneHot});
  add(OpDef{.kind = OpKind::SoftmaxCrossEntropy,
            .name = "softmax_cross_entropy",
            .summary = "per-example -log softmax(logits)[label]",
            .minOperands = 2,
            .maxOperands = 2,
            .infer = inferSoftmaxCrossEntropy,
            .eval = evalSoftmaxCrossEntropy,
            .grad = gradSoftmaxCrossEntropy,
            .structure = describeSoftmaxCrossEntropy});
}

} // namespace nnc
