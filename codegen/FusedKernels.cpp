//===- FusedKernels.cpp - Element-wise kernels and the scalar phase -------===//
#include "codegen/FusedKernels.h"

#include "llvm/IR/Intrinsics.h"

#include <limits>

namespace nnc::codegen {

using llvm::Value;

llvm::SmallVector<ElementType, 3> operandTypes(const Op &op) {
  llvm::SmallVector<ElementType, 3> types;
  for (const nnc::Value *v : op.operands())
    types.push_back(v->type().element());
  return types;
}

ScalarValues::ScalarValues(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs) {
  for (unsigned i = 0; i < body.numArguments(); ++i)
    if (body.argument(i)->type().isScalar())
      values[body.argument(i)] = inputs[i].load(kb, kb.index(0));
  for (const Op &op : body.ops()) {
    if (info.phase.lookup(&op) != ValuePhase::Scalar)
      continue;
    if (op.is(OpKind::Constant)) {
      values[op.result()] =
          kb.constant(op.result()->type().element(),
                      op.attrs().has("value")
                          ? op.attrs().getFloat("value")
                          : op.attrs().get("values")->getFloatList()[0]);
      continue;
    }
    llvm::SmallVector<Value *, 3> args;
    for (const nnc::Value *o : op.operands())
      args.push_back(values.lookup(o));
    values[op.result()] = kb.elementwise(op, args, operandTypes(op));
  }
}

//===----------------------------------------------------------------------===//
// Element-wise kernels: one loop over the space
//===----------------------------------------------------------------------===//

void emitElementwiseKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads) {
  ScalarValues scalars(kb, body, info, inputs);
  llvm::ArrayRef<int64_t> space = info.space;
  Shape outStrides = rowMajorStrides(space);
  llvm::DenseMap<const nnc::Value *, unsigned> argIndex;
  for (unsigned i = 0; i < body.numArguments(); ++i)
    argIndex[body.argument(i)] = i;
  const Op *yield = body.terminator();

  auto emitAt = [&](llvm::ArrayRef<Value *> idx) {
    llvm::DenseMap<const nnc::Value *, Value *> env;
    auto valueOf = [&](const nnc::Value *v) -> Value * {
      if (Value *s = scalars.lookup(v))
        return s;
      if (Value *e = env.lookup(v))
        return e;
      unsigned i = argIndex.lookup(v);
      Shape strides = broadcastStrides(v->type().shape(), space);
      Value *x = inputs[i].load(kb, kb.linearIndex(idx, strides));
      env[v] = x;
      return x;
    };
    for (const Op &op : body.ops()) {
      if (op.is(OpKind::Yield) || info.phase.lookup(&op) == ValuePhase::Scalar)
        continue;
      Value *result;
      if (op.is(OpKind::Constant)) {
        TensorRef c{op.result()->type()};
        c.ptr = kb.constantArray(op);
        Shape strides = broadcastStrides(op.result()->type().shape(), space);
        result = c.load(kb, kb.linearIndex(idx, strides));
      } else {
        llvm::SmallVector<Value *, 3> args;
        for (const nnc::Value *o : op.operands())
          args.push_back(valueOf(o));
        result = kb.elementwise(op, args, operandTypes(op));
      }
      env[op.result()] = result;
    }
    // In the yield's order: the module must not depend on where the
    // values happen to be in memory.
    Value *linear = kb.linearIndex(idx, outStrides);
    for (unsigned o = 0; o < yield->numOperands(); ++o) {
      const nnc::Value *v = yield->operand(o);
      kb.store(outputs[o].ptr, v->type().element(), linear, valueOf(v));
    }
  };

  kb.forEachOwnedIndex(space, threads.index, threads.count, emitAt);
}

} // namespace nnc::codegen
