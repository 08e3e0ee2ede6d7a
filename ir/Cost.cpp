//===- Cost.cpp - Arithmetic and memory traffic of ops --------------------===//
//
// Counted from the ops' structured descriptions: each point of a stage's
// domain costs the primitives of its scalar body, plus one for combining it
// into a reduction. A matmul's [m, n, depth] domain with a multiply and a
// sum gives the textbook 2·m·n·depth; data movement costs nothing.
//
//===----------------------------------------------------------------------===//
#include "ir/Cost.h"

#include "ir/Structured.h"

namespace nnc {

namespace {

double arithmetic(const Op &op) {
  std::optional<StructuredOp> s = describe(op);
  if (!s)
    return 0;
  double flops = 0;
  for (const StructuredStage &st : s->stages) {
    double perPoint = st.combiner == Combiner::None ? 0 : 1;
    for (const ScalarNode &n : st.body.nodes())
      if (n.op != ScalarOp::Input && n.op != ScalarOp::Index &&
          n.op != ScalarOp::Constant)
        perPoint += 1;
    flops += perPoint * double(st.points());
  }
  return flops;
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
