//===- RandomOps.cpp - random_uniform -------------------------------------===//
//
// random_uniform(step[, first]) {seed = s} : f32[...] gives every element
// its own number in [0, 1), drawn from (seed, step, element index) by the
// counter-based generator of ir/CounterRandom.h: no state, so the
// interpreter and compiled code agree bit for bit, and the step operand
// (the training step's counter) makes each step draw afresh. Dropout's mask
// is `random_uniform(step) >= rate`.
//
// The optional `first` (i32[]) is the index of the first element: element
// i draws number first + i. A data-parallel rank computes a share of the
// batch, and numbers its share's elements from where they stand in the
// whole batch, so that the ranks together draw what one process draws
// (passes/DataParallel.cpp supplies it).
//
//===----------------------------------------------------------------------===//
#include "ir/CounterRandom.h"
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferRandomUniform(const OpSignature &sig) {
  const TensorType &step = sig.operands[0], &out = sig.declared[0];
  if (step.element() != ElementType::I32 || !step.isScalar())
    return opError("the step must be an i32[] counter, got " + step.str());
  if (sig.operands.size() > 1) {
    const TensorType &first = sig.operands[1];
    if (first.element() != ElementType::I32 || !first.isScalar())
      return opError("the first element's index must be an i32[], got " +
                     first.str());
  }
  if (llvm::Error err = requireFloat(out, "the result"))
    return std::move(err);
  return result(out);
}

static llvm::Error evalRandomUniform(const Op &op,
                                     llvm::ArrayRef<const HostTensor *> in,
                                     llvm::MutableArrayRef<HostTensor> out) {
  uint32_t key =
      counter_random::key(op.attrs().getInt("seed"), int64_t((*in[0])[0]));
  int64_t first = in.size() > 1 ? int64_t((*in[1])[0]) : 0;
  for (int64_t i = 0; i < out[0].size(); ++i)
    out[0][i] = counter_random::uniform(key, uint64_t(first + i));
  return llvm::Error::success();
}

/// Each element's number from (seed, step, first + its row-major index).
static std::optional<StructuredOp> describeRandomUniform(const Op &op) {
  const TensorType &t = op.result()->type();
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  StageOperand step;
  step.operand = 0;
  ScalarBody &b = st.body;
  st.operands.push_back(step);
  unsigned index = b.constant(0.0, ElementType::I32);
  for (unsigned d = 0; d < t.rank(); ++d)
    index = b.apply(
        ScalarOp::Add,
        {b.apply(ScalarOp::Mul,
                 {index, b.constant(double(t.dim(d)), ElementType::I32)}),
         b.index(d)});
  if (op.numOperands() > 1) {
    StageOperand first;
    first.operand = 1;
    st.operands.push_back(std::move(first));
    index = b.apply(ScalarOp::Add, {b.input(1, ElementType::I32), index});
  }
  unsigned u =
      b.uniform(op.attrs().getInt("seed"), b.input(0, ElementType::I32), index);
  if (t.element() != ElementType::F32)
    b.cast(u, t.element());
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

void registerRandomOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::RandomUniform,
            .name = "random_uniform",
            .summary = "numbers in [0, 1) from (seed, step, element index)",
            .minOperands = 1,
            .maxOperands = 2,
            .takesResultType = true,
            .attrs = {AttrSpec::required("seed", AttrKind::Int)},
            .infer = inferRandomUniform,
            .eval = evalRandomUniform,
            .structure = describeRandomUniform});
}

} // namespace nnc
