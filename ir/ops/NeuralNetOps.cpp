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

static llvm::Error evalOneHot(const Op &op,
                              llvm::ArrayRef<const HostTensor *> in,
                              llvm::MutableArrayRef<HostTensor> out) {
  // A label outside [0, depth) gives a row of zeros.
  int64_t depth = op.attrs().getInt("depth");
  std::fill(out[0].data.begin(), out[0].data.end(), 0.0);
  for (int64_t i = 0; i < in[0]->size(); ++i) {
    double label = (*in[0])[i];
    if (label >= 0 && label < depth)
      out[0][i * depth + int64_t(label)] = 1.0;
  }
  return llvm::Error::success();
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

void registerNeuralNetOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::Softmax,
            .name = "softmax",
            .summary = "exp(x) / sum(exp(x)) along the last axis",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Reduction,
            .infer = inferRowwise,
            .eval = evalSoftmax,
            .grad = gradSoftmax});
  add(OpDef{.kind = OpKind::LogSoftmax,
            .name = "log_softmax",
            .summary = "x - log(sum(exp(x))) along the last axis",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Reduction,
            .infer = inferRowwise,
            .eval = evalLogSoftmax,
            .grad = gradLogSoftmax});
  add(OpDef{.kind = OpKind::OneHot,
            .name = "one_hot",
            .summary = "f32 rows with a 1 at each label",
            .minOperands = 1,
            .maxOperands = 1,
            .fusion = FusionClass::Injective,
            .attrs = {AttrSpec::required("depth", AttrKind::Int)},
            .infer = inferOneHot,
            .eval = evalOneHot});
  add(OpDef{.kind = OpKind::SoftmaxCrossEntropy,
            .name = "softmax_cross_entropy",
            .summary = "per-example -log softmax(logits)[label]",
            .minOperands = 2,
            .maxOperands = 2,
            .fusion = FusionClass::Reduction,
            .infer = inferSoftmaxCrossEntropy,
            .eval = evalSoftmaxCrossEntropy,
            .grad = gradSoftmaxCrossEntropy});
}

} // namespace nnc
