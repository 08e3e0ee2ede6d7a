//===- Cost.cpp - Arithmetic and memory traffic of ops --------------------===//
#include "ir/Cost.h"

namespace nnc {

namespace {

double arithmetic(const Op &op) {
  switch (op.def().fusion) {
  case FusionClass::Source:
  case FusionClass::Structural:
  case FusionClass::Injective:
    return 0;
  case FusionClass::Elementwise:
    return double(op.result()->type().numElements());
  case FusionClass::Contraction: {
    const TensorType &c = op.result()->type();
    const TensorType &a = op.operand(0)->type();
    int64_t depth = op.attrs().getBool("transpose_a") ? a.dim(0) : a.dim(1);
    return 2.0 * double(c.numElements()) * double(depth);
  }
  case FusionClass::Reduction:
  case FusionClass::Opaque:
    break;
  }
  // Softmax and cross-entropy: a max, a subtraction, an exp and a sum per
  // element; the other reductions one operation per element read.
  double n = double(op.operand(0)->type().numElements());
  switch (op.kind()) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::SoftmaxCrossEntropy:
    return 5 * n;
  default:
    return n;
  }
}

} // namespace

Cost estimateCost(const Op &op) {
  Cost cost;
  if (const Graph *body = op.body()) {
    for (const Op &inner : body->ops())
      if (!inner.is(OpKind::Yield))
        cost.flops += arithmetic(inner);
  } else {
    cost.flops = arithmetic(op);
  }
  for (const Value *v : op.operands())
    cost.bytes += double(v->type().byteSize());
  for (const Value *v : op.results())
    cost.bytes += double(v->type().byteSize());
  return cost;
}

} // namespace nnc
