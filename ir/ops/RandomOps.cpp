//===- RandomOps.cpp - random_uniform -------------------------------------===//
//
// random_uniform(step) {seed = s} : f32[...] gives every element its own
// number in [0, 1), drawn from (seed, step, element index) by the
// counter-based generator of ir/CounterRandom.h: no state, so the
// interpreter and compiled code agree bit for bit, and the step operand
// (the training step's counter) makes each step draw afresh. Dropout's mask
// is `random_uniform(step) >= rate`.
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
  if (llvm::Error err = requireFloat(out, "the result"))
    return std::move(err);
  return result(out);
}

static llvm::Error evalRandomUniform(const Op &op,
                                     llvm::ArrayRef<const HostTensor *> in,
                                     llvm::MutableArrayRef<HostTensor> out) {
  uint32_t key =
      counter_random::key(op.attrs().getInt("seed"), int64_t((*in[0])[0]));
  for (int64_t i = 0; i < out[0].size(); ++i)
    out[0][i] = counter_random::uniform(key, uint64_t(i));
  return llvm::Error::success();
}

/// Each element's number from (seed, step, its row-major index).
static std::optional<StructuredOp> describeRandomUniform(const Op &op) {
  const TensorType &t = op.result()->type();
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  StageOperand step;
  step.operand = 0;
  ScalarBody &b = st.body;
  st.operands.push_back(std::move(step));
  unsigned index = b.constant(0.0, ElementType::I32);
  for (unsigned d = 0; d < t.rank(); ++d)
    index = b.apply(
        ScalarOp::Add,
        {b.apply(ScalarOp::Mul,
                 {index, b.constant(double(t.dim(d)), ElementType::I32)}),
         b.index(d)});
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
            .maxOperands = 1,
            .fusion = FusionClass::Opaque,
            .takesResultType = true,
            .attrs = {AttrSpec::required("seed", AttrKind::Int)},
            .infer = inferRandomUniform,
            .eval = evalRandomUniform,
            .structure = describeRandomUniform});
}

} // namespace nnc
