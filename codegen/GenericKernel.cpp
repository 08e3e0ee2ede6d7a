//===- GenericKernel.cpp - Loop nests from structured descriptions --------===//
#include "codegen/GenericKernel.h"

#include "codegen/ScalarCodegen.h"

#include "ir/Builder.h"
#include "ir/Structured.h"

#include "llvm/ADT/DenseMap.h"

#include <limits>

namespace nnc::codegen {

using llvm::Value;

namespace {

class GenericEmitter {
public:
  GenericEmitter(KernelBuilder &kb, ThreadInfo threads)
      : kb(kb), b(kb.builder()), threads(threads) {}

  /// Where a value lives: bound up front (arguments, results) or, for a
  /// value computed here, in scratch memory.
  void bind(const nnc::Value *v, TensorRef ref) { refs[v] = ref; }
  bool isBound(const nnc::Value *v) const { return refs.count(v); }

  llvm::Error emitOp(const Op &op) {
    if (op.is(OpKind::Constant)) {
      // A constant in a body is read where it is; one materialised in
      // memory of its own is a copy of its value.
      TensorRef value = constantRef(op);
      if (isBound(op.result()))
        copy(value, refs[op.result()]);
      else
        refs[op.result()] = value;
      return llvm::Error::success();
    }
    std::optional<StructuredOp> s = describe(op);
    if (!s)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          op.loc().str() + ": code generation does not support the '" +
              op.name() + "' op here: it has no structured description");
    llvm::SmallVector<TensorRef, 3> operands;
    for (const nnc::Value *v : op.operands())
      operands.push_back(refs.lookup(v));
    llvm::SmallVector<TensorRef, 3> stageRefs;
    for (const StructuredStage &st : s->stages) {
      TensorRef target;
      if (st.result >= 0) {
        const nnc::Value *r = op.result(st.result);
        if (!isBound(r))
          refs[r] = scratchRef(r->type());
        target = refs[r];
      } else {
        target = scratchRef(TensorType(st.type, st.parallelShape()));
      }
      llvm::SmallVector<TensorRef, 3> sources;
      for (const StageOperand &o : st.operands)
        sources.push_back(o.operand >= 0 ? operands[o.operand]
                                         : stageRefs[o.stage]);
      emitStage(st, sources, target);
      stageRefs.push_back(target);
    }
    return llvm::Error::success();
  }

  /// `to` = `from`, element by element, split between threads.
  void copy(const TensorRef &from, const TensorRef &to) {
    if (from.ptr == to.ptr && !from.splat)
      return;
    Shape flat{to.type.numElements()};
    beforeStage();
    forEachOwned(flat, [&](llvm::ArrayRef<Value *> i) {
      kb.store(to.ptr, to.type.element(), i[0], from.load(kb, i[0]));
    });
  }

  TensorRef constantRef(const Op &constant) {
    TensorRef t{constant.result()->type()};
    if (auto splat = getSplatConstant(constant.result()))
      t.splat = kb.constant(t.type.element(), *splat);
    else
      t.ptr = kb.constantArray(constant);
    return t;
  }

private:
  TensorRef scratchRef(const TensorType &type) {
    // Shared by every thread: the first thread's part of the scratch
    // memory, made large enough for all of this kernel's temporaries.
    scratchBytes = (scratchBytes + 63) / 64 * 64;
    TensorRef t{type};
    t.ptr = b.CreateInBoundsGEP(b.getInt8Ty(), threads.scratch,
                                b.getInt64(scratchBytes));
    scratchBytes += std::max<int64_t>(type.byteSize(), 1);
    kb.requireThreadScratch(scratchBytes);
    return t;
  }

  /// Calls body(index) for the points of `shape` this thread computes: a
  /// share of the outermost dimension, or all of a scalar on thread 0.
  void forEachOwned(llvm::ArrayRef<int64_t> shape,
                    llvm::function_ref<void(llvm::ArrayRef<Value *>)> body) {
    kb.forEachOwnedIndex(shape, threads.index, threads.count, body);
  }

  /// A stage may read what the ones before it wrote on other threads: every
  /// thread runs every kernel, so all of them reach this barrier.
  void beforeStage() {
    if (stagesEmitted++ > 0 && threads.barrier) {
      llvm::Type *ptr = b.getPtrTy();
      auto *type = llvm::FunctionType::get(b.getVoidTy(), {ptr}, false);
      b.CreateCall(type, threads.barrier, {threads.barrierState});
    }
  }

  /// The element of `ref`, viewed as `o.view`, at the domain point `point`;
  /// the padding value outside it.
  Value *read(const StageOperand &o, const TensorRef &ref,
              llvm::ArrayRef<int64_t> domain, llvm::ArrayRef<Value *> point) {
    if (ref.splat)
      return ref.splat;
    Shape strides = rowMajorStrides(o.view);
    Value *linear = kb.index(0), *inside = nullptr;
    for (size_t d = 0; d < o.map.size(); ++d) {
      const AffineExpr &e = o.map[d];
      Value *x = kb.index(e.offset);
      int64_t lo = e.offset, hi = e.offset;
      for (size_t k = 0; k < e.coeffs.size(); ++k) {
        if (e.coeffs[k] == 0)
          continue;
        x = b.CreateAdd(x, b.CreateMul(point[k], kb.index(e.coeffs[k])));
        int64_t span = e.coeffs[k] * (domain[k] - 1);
        (span < 0 ? lo : hi) += span;
      }
      if (e.divisor != 1) {
        // Exact quotients only; the others read the padding.
        Value *exact =
            b.CreateICmpEQ(b.CreateSRem(x, kb.index(e.divisor)), kb.index(0));
        inside = inside ? b.CreateAnd(inside, exact) : exact;
        x = b.CreateSDiv(x, kb.index(e.divisor));
        lo = lo >= 0 ? lo / e.divisor : -((-lo + e.divisor - 1) / e.divisor);
        hi = hi >= 0 ? hi / e.divisor : -((-hi + e.divisor - 1) / e.divisor);
      }
      if (o.padding && (lo < 0 || hi >= o.view[d])) {
        Value *in = b.CreateICmpULT(x, kb.index(o.view[d]));
        inside = inside ? b.CreateAnd(inside, in) : in;
      }
      linear = b.CreateAdd(linear, b.CreateMul(x, kb.index(strides[d])));
    }
    if (!inside)
      return ref.load(kb, linear);
    Value *safe = b.CreateSelect(inside, linear, kb.index(0));
    Value *v = ref.load(kb, safe);
    return b.CreateSelect(inside, v,
                          kb.constant(ref.type.element(), *o.padding));
  }

  Value *bodyAt(const StructuredStage &st, llvm::ArrayRef<TensorRef> sources,
                llvm::ArrayRef<Value *> point) {
    llvm::SmallVector<Value *, 3> inputs;
    for (size_t i = 0; i < st.operands.size(); ++i)
      inputs.push_back(read(st.operands[i], sources[i], st.domain, point));
    return emitScalarBody(kb, st.body, inputs, point);
  }

  void emitStage(const StructuredStage &st, llvm::ArrayRef<TensorRef> sources,
                 const TensorRef &target) {
    beforeStage();
    Shape outStrides = rowMajorStrides(st.parallelShape());
    forEachOwned(st.parallelShape(), [&](llvm::ArrayRef<Value *> outer) {
      Value *at = kb.linearIndex(outer, outStrides);
      if (st.combiner == Combiner::None) {
        kb.store(target.ptr, st.type, at, bodyAt(st, sources, outer));
        return;
      }
      ElementType e = st.operands.empty() ? st.type : st.body.type();
      llvm::Type *accType = computeType(kb.context(), e);
      llvm::AllocaInst *acc = kb.entryAlloca(accType);
      llvm::AllocaInst *best = kb.entryAlloca(b.getInt64Ty());
      b.CreateStore(kb.constant(e, initialValue(st.combiner, e)), acc);
      b.CreateStore(kb.index(0), best);
      Shape reductionStrides = rowMajorStrides(st.reductionShape());
      kb.forEachIndex(st.reductionShape(), [&](llvm::ArrayRef<Value *> inner) {
        llvm::SmallVector<Value *, 8> point(outer);
        point.append(inner.begin(), inner.end());
        Value *x = bodyAt(st, sources, point);
        Value *a = b.CreateLoad(accType, acc);
        bool fp = isFloat(e);
        switch (st.combiner) {
        case Combiner::Sum:
          b.CreateStore(fp ? b.CreateFAdd(a, x) : b.CreateAdd(a, x), acc);
          break;
        case Combiner::Max:
        case Combiner::ArgMax: {
          // Strictly greater: the first maximum wins and NaN never does.
          Value *greater = fp ? b.CreateFCmpOGT(x, a) : b.CreateICmpSGT(x, a);
          b.CreateStore(b.CreateSelect(greater, x, a), acc);
          if (st.combiner == Combiner::ArgMax)
            b.CreateStore(
                b.CreateSelect(greater, kb.linearIndex(inner, reductionStrides),
                               b.CreateLoad(b.getInt64Ty(), best)),
                best);
          break;
        }
        case Combiner::Min: {
          Value *less = fp ? b.CreateFCmpOLT(x, a) : b.CreateICmpSLT(x, a);
          b.CreateStore(b.CreateSelect(less, x, a), acc);
          break;
        }
        case Combiner::None:
          break;
        }
      });
      Value *result = st.combiner == Combiner::ArgMax
                          ? b.CreateTrunc(b.CreateLoad(b.getInt64Ty(), best),
                                          b.getInt32Ty())
                          : b.CreateLoad(accType, acc);
      kb.store(target.ptr, st.type, at, result);
    });
  }

  static double initialValue(Combiner c, ElementType e) {
    bool fp = isFloat(e);
    switch (c) {
    case Combiner::Max:
    case Combiner::ArgMax:
      return fp ? -std::numeric_limits<double>::infinity()
                : double(std::numeric_limits<int32_t>::min());
    case Combiner::Min:
      return fp ? std::numeric_limits<double>::infinity()
                : double(std::numeric_limits<int32_t>::max());
    default:
      return 0.0;
    }
  }

  KernelBuilder &kb;
  llvm::IRBuilder<> &b;
  ThreadInfo threads;
  llvm::DenseMap<const nnc::Value *, TensorRef> refs;
  int64_t scratchBytes = 0;
  unsigned stagesEmitted = 0;
};

} // namespace

llvm::Error emitGenericOp(KernelBuilder &kb, const Op &op,
                          llvm::ArrayRef<TensorRef> operands,
                          llvm::ArrayRef<TensorRef> results,
                          ThreadInfo threads) {
  GenericEmitter emitter(kb, threads);
  for (unsigned i = 0; i < op.numOperands(); ++i)
    emitter.bind(op.operand(i), operands[i]);
  for (unsigned i = 0; i < op.numResults(); ++i)
    emitter.bind(op.result(i), results[i]);
  return emitter.emitOp(op);
}

llvm::Error emitGenericKernel(KernelBuilder &kb, const Graph &body,
                              llvm::ArrayRef<TensorRef> inputs,
                              llvm::ArrayRef<TensorRef> outputs,
                              ThreadInfo threads) {
  GenericEmitter emitter(kb, threads);
  for (unsigned i = 0; i < body.numArguments(); ++i)
    emitter.bind(body.argument(i), inputs[i]);
  const Op *yield = body.terminator();
  // A computed value is written straight to the first output that returns
  // it; anything else a yield returns is copied there at the end.
  llvm::SmallVector<unsigned, 2> copies;
  for (unsigned o = 0; o < yield->numOperands(); ++o) {
    const nnc::Value *v = yield->operand(o);
    if (v->definingOp() && !emitter.isBound(v))
      emitter.bind(v, outputs[o]);
    else
      copies.push_back(o);
  }
  for (const Op &op : body.ops()) {
    if (&op == yield)
      continue;
    if (llvm::Error err = emitter.emitOp(op))
      return err;
  }
  for (unsigned o : copies) {
    const nnc::Value *v = yield->operand(o);
    TensorRef from =
        inputs.size() && !v->definingOp() ? inputs[v->index()] : TensorRef{};
    if (v->definingOp()) {
      // Returned twice: copy from the first output that holds it.
      for (unsigned p = 0; p < o; ++p)
        if (yield->operand(p) == v)
          from = outputs[p];
    }
    emitter.copy(from, outputs[o]);
  }
  return llvm::Error::success();
}

} // namespace nnc::codegen
