//===- ScalarCodegen.cpp - LLVM IR for structured scalar bodies -----------===//
#include "codegen/ScalarCodegen.h"

#include "ir/CounterRandom.h"
#include "ir/Structured.h"

#include "llvm/IR/Intrinsics.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

class BodyEmitter {
public:
  BodyEmitter(KernelBuilder &kb, llvm::ArrayRef<Value *> inputs)
      : kb(kb), b(kb.builder()) {
    for (Value *v : inputs)
      if (auto *vec = llvm::dyn_cast<llvm::VectorType>(v->getType()))
        width = vec->getElementCount();
  }

  /// A value shaped like the body's operands: splat when they are vectors.
  Value *shaped(Value *scalar) {
    if (width.isScalar() || scalar->getType()->isVectorTy())
      return scalar;
    return b.CreateVectorSplat(width, scalar);
  }

  Value *emit(const ScalarNode &n, llvm::ArrayRef<Value *> a,
              ElementType operandType) {
    bool fp = isFloat(operandType);
    auto like = [&](double v) { return shaped(kb.constant(operandType, v)); };
    switch (n.op) {
    case ScalarOp::Neg:
      return fp ? b.CreateFNeg(a[0]) : b.CreateNeg(a[0]);
    case ScalarOp::Abs:
      return fp ? b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a[0])
                : b.CreateSelect(b.CreateICmpSLT(a[0], like(0.0)),
                                 b.CreateNeg(a[0]), a[0]);
    case ScalarOp::Exp:
      return kb.exp(a[0]);
    case ScalarOp::Expm1:
      return kb.expm1(a[0]);
    case ScalarOp::Log:
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, a[0]);
    case ScalarOp::Sqrt:
      if (Value *v = kb.approximateSqrt(a[0]))
        return v;
      return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a[0]);
    case ScalarOp::Rsqrt:
      return b.CreateFDiv(like(1.0),
                          b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, a[0]));
    case ScalarOp::Relu:
      // NaN is not > 0, so relu(NaN) = 0, as in the reference.
      return b.CreateSelect(b.CreateFCmpOGT(a[0], like(0.0)), a[0], like(0.0));
    case ScalarOp::Sigmoid:
      return b.CreateFDiv(like(1.0),
                          b.CreateFAdd(like(1.0), kb.exp(b.CreateFNeg(a[0]))));
    case ScalarOp::Tanh:
      return kb.tanh(a[0]);
    case ScalarOp::Add:
      return fp ? b.CreateFAdd(a[0], a[1]) : b.CreateAdd(a[0], a[1]);
    case ScalarOp::Sub:
      return fp ? b.CreateFSub(a[0], a[1]) : b.CreateSub(a[0], a[1]);
    case ScalarOp::Mul:
      return fp ? b.CreateFMul(a[0], a[1]) : b.CreateMul(a[0], a[1]);
    case ScalarOp::Div:
      if (!fp)
        return b.CreateSDiv(a[0], a[1]);
      if (Value *v = kb.approximateDiv(a[0], a[1]))
        return v;
      return b.CreateFDiv(a[0], a[1]);
    case ScalarOp::Max:
      // Ties and NaN in b pick a; NaN in a picks b: a >= b ? a : b.
      return b.CreateSelect(fp ? b.CreateFCmpOGE(a[0], a[1])
                               : b.CreateICmpSGE(a[0], a[1]),
                            a[0], a[1]);
    case ScalarOp::Min:
      return b.CreateSelect(fp ? b.CreateFCmpOLE(a[0], a[1])
                               : b.CreateICmpSLE(a[0], a[1]),
                            a[0], a[1]);
    case ScalarOp::Pow:
      return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, a[0], a[1]);
    case ScalarOp::Select:
      return b.CreateSelect(a[0], a[1], a[2]);
    case ScalarOp::Compare:
      return compare(n.predicate, operandType, a[0], a[1]);
    case ScalarOp::Cast:
      return kb.cast(a[0], operandType, n.type);
    case ScalarOp::Constant:
      return shaped(kb.constant(n.type, n.value));
    case ScalarOp::Uniform:
      return uniform(n.slot, a[0], a[1]);
    case ScalarOp::Input:
    case ScalarOp::Index:
      break;
    }
    llvm_unreachable("leaf nodes are bound by emitScalarBody");
  }

private:
  /// ir/CounterRandom.h in i32 arithmetic: the same bits as the reference.
  Value *mix(Value *x) {
    auto c = [&](uint32_t v) { return shaped(b.getInt32(v)); };
    x = b.CreateXor(x, b.CreateLShr(x, c(16)));
    x = b.CreateMul(x, c(0x7feb352du));
    x = b.CreateXor(x, b.CreateLShr(x, c(15)));
    x = b.CreateMul(x, c(0x846ca68bu));
    return b.CreateXor(x, b.CreateLShr(x, c(16)));
  }
  Value *uniform(int64_t seed, Value *step, Value *index) {
    uint64_t s = uint64_t(seed);
    uint32_t seedKey = counter_random::mix(
        uint32_t(s) ^ counter_random::mix(uint32_t(s >> 32)));
    Value *key = mix(b.CreateAdd(b.CreateAdd(shaped(b.getInt32(seedKey)), step),
                                 shaped(b.getInt32(0x9e3779b9u))));
    Value *bits = mix(b.CreateAdd(mix(b.CreateXor(index, key)), key));
    Value *top = b.CreateLShr(bits, shaped(b.getInt32(8)));
    llvm::Type *f = top->getType()->getWithNewType(b.getFloatTy());
    return b.CreateFMul(b.CreateUIToFP(top, f),
                        llvm::ConstantFP::get(f, 0x1.0p-24));
  }

  Value *compare(Predicate p, ElementType e, Value *x, Value *y) {
    using P = llvm::CmpInst::Predicate;
    if (isFloat(e)) {
      // Ordered, but for ne: NaN is unequal to everything.
      static const P fp[] = {P::FCMP_OEQ, P::FCMP_UNE, P::FCMP_OLT,
                             P::FCMP_OLE, P::FCMP_OGT, P::FCMP_OGE};
      return b.CreateFCmp(fp[unsigned(p)], x, y);
    }
    static const P sgn[] = {P::ICMP_EQ,  P::ICMP_NE,  P::ICMP_SLT,
                            P::ICMP_SLE, P::ICMP_SGT, P::ICMP_SGE};
    static const P uns[] = {P::ICMP_EQ,  P::ICMP_NE,  P::ICMP_ULT,
                            P::ICMP_ULE, P::ICMP_UGT, P::ICMP_UGE};
    return b.CreateICmp((e == ElementType::I32 ? sgn : uns)[unsigned(p)], x, y);
  }

  KernelBuilder &kb;
  llvm::IRBuilder<> &b;
  llvm::ElementCount width = llvm::ElementCount::getFixed(1);
};

} // namespace

Value *emitScalarBody(KernelBuilder &kb, const ScalarBody &body,
                      llvm::ArrayRef<Value *> inputs,
                      llvm::ArrayRef<Value *> indices) {
  BodyEmitter emitter(kb, inputs);
  llvm::IRBuilder<> &b = kb.builder();
  llvm::SmallVector<Value *, 16> values(body.nodes().size());
  for (unsigned i = 0; i < body.nodes().size(); ++i) {
    const ScalarNode &n = body.node(i);
    if (n.op == ScalarOp::Input) {
      values[i] = inputs[n.slot];
      continue;
    }
    if (n.op == ScalarOp::Index) {
      values[i] =
          emitter.shaped(b.CreateTrunc(indices[n.slot], b.getInt32Ty()));
      continue;
    }
    llvm::SmallVector<Value *, 3> args;
    for (unsigned a : n.args)
      args.push_back(values[a]);
    ElementType operandType =
        n.args.empty() ? n.type : body.node(n.args[0]).type;
    if (n.op == ScalarOp::Select)
      operandType = body.node(n.args[1]).type;
    values[i] = emitter.emit(n, args, operandType);
  }
  return values.back();
}

Value *KernelBuilder::elementwise(const Op &op, llvm::ArrayRef<Value *> args,
                                  llvm::ArrayRef<ElementType>) {
  std::optional<StructuredOp> s = describe(op);
  assert(s && s->stages.size() == 1 && "not an element-wise op");
  return emitScalarBody(*this, s->stages[0].body, args);
}

} // namespace nnc::codegen
