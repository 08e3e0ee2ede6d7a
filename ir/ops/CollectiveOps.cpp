//===- CollectiveOps.cpp - Operations across the ranks of a job -----------===//
//
// `allreduce` sums tensors over the processes (ranks) of a data-parallel
// job: every rank runs the same graph on its own share of the batch, and
// each result is the sum of that operand over all ranks. It is the one op
// whose code is not a generated kernel but a call into the runtime, which
// starts a non-blocking exchange where the op stands and waits for it just
// before the first op that reads a result (docs/distributed.md). The
// operands of one allreduce form one bucket, exchanged as one contiguous
// range of memory.
//
// Its value depends on the other ranks, so it has no reference semantics of
// its own (nothing may fold it): the interpreter sums through the runtime,
// and in a process that is the only rank, the sum is the operand itself.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferAllReduce(const OpSignature &sig) {
  ResultTypes types;
  for (unsigned i = 0; i < sig.operands.size(); ++i) {
    const TensorType &t = sig.operands[i];
    // The runtime exchanges a bucket as one array of floats.
    if (t.element() != ElementType::F32)
      return opError("sums f32 tensors over the ranks; operand #" +
                     llvm::Twine(i) + " is " + t.str());
    types.push_back(t);
  }
  return types;
}

void registerCollectiveOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::AllReduce,
            .name = "allreduce",
            .summary = "sums each operand over the ranks of a data-parallel "
                       "job (one bucket, exchanged in place)",
            .minOperands = 1,
            .maxOperands = kVariadic,
            .numResults = kVariadic,
            .infer = inferAllReduce});
}

} // namespace nnc
