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
    if (lanesInnermost(st))
      return emitStageByLanes(st, sources, target);
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
      llvm::AllocaInst *best = kb.entryAlloca(b.getInt32Ty());
      b.CreateStore(kb.constant(e, initialValue(st.combiner, e)), acc);
      b.CreateStore(b.getInt32(0), best);
      Shape reductionStrides = rowMajorStrides(st.reductionShape());
      kb.forEachIndex(st.reductionShape(), [&](llvm::ArrayRef<Value *> inner) {
        llvm::SmallVector<Value *, 8> point(outer);
        point.append(inner.begin(), inner.end());
        combine(st.combiner, e, acc, best, bodyAt(st, sources, point),
                [&] { return kb.linearIndex(inner, reductionStrides); });
      });
      kb.store(target.ptr, st.type, at, result(st.combiner, e, acc, best));
    });
  }

  /// The most elements of the innermost parallel dimension that a
  /// reduction keeps accumulators for on the stack.
  static constexpr int64_t kMaxLanes = 1024;

  /// Whether a reduction runs its innermost parallel dimension innermost
  /// (emitStageByLanes).
  static bool lanesInnermost(const StructuredStage &st) {
    if (st.combiner == Combiner::None || st.parallel < 2 ||
        st.parallel == st.domain.size())
      return false;
    int64_t lanes = st.domain[st.parallel - 1];
    return lanes >= 2 && lanes <= kMaxLanes;
  }

  /// A reduction over the windows of an image (pooling and its gradients,
  /// col2im, a direct convolution) whose innermost parallel dimension is
  /// the channels: that dimension runs innermost, inside the reduction
  /// loops, with one accumulator per channel on the stack. Every element
  /// still combines its points in the same order, so the results are the
  /// same bit for bit; but the innermost loop walks consecutive elements,
  /// and the window's index arithmetic (bounds, exact quotients), which
  /// does not depend on the channel, is hoisted out of it.
  void emitStageByLanes(const StructuredStage &st,
                        llvm::ArrayRef<TensorRef> sources,
                        const TensorRef &target) {
    int64_t lanes = st.domain[st.parallel - 1];
    Shape outStrides = rowMajorStrides(st.parallelShape());
    Shape reductionStrides = rowMajorStrides(st.reductionShape());
    ElementType e = st.operands.empty() ? st.type : st.body.type();
    llvm::Type *accType = computeType(kb.context(), e);
    // Positions are kept as the i32 the result is: half the width of i64,
    // so that they vectorise as widely as the values.
    llvm::Type *i32 = b.getInt32Ty();
    llvm::AllocaInst *acc = kb.entryAlloca(accType, lanes);
    llvm::AllocaInst *best = kb.entryAlloca(i32, lanes);
    forEachOwned(
        st.parallelShape().drop_back(), [&](llvm::ArrayRef<Value *> outer) {
          kb.forRange(
              0, lanes,
              [&](Value *c) {
                b.CreateStore(kb.constant(e, initialValue(st.combiner, e)),
                              b.CreateInBoundsGEP(accType, acc, c));
                b.CreateStore(b.getInt32(0), b.CreateInBoundsGEP(i32, best, c));
              },
              "lane");
          kb.forEachIndex(
              st.reductionShape(), [&](llvm::ArrayRef<Value *> inner) {
                kb.forRange(
                    0, lanes,
                    [&](Value *c) {
                      llvm::SmallVector<Value *, 8> point(outer);
                      point.push_back(c);
                      point.append(inner.begin(), inner.end());
                      combine(st.combiner, e,
                              b.CreateInBoundsGEP(accType, acc, c),
                              b.CreateInBoundsGEP(i32, best, c),
                              bodyAt(st, sources, point), [&] {
                                return kb.linearIndex(inner, reductionStrides);
                              });
                    },
                    "lane");
              });
          kb.forRange(
              0, lanes,
              [&](Value *c) {
                llvm::SmallVector<Value *, 8> point(outer);
                point.push_back(c);
                kb.store(target.ptr, st.type, kb.linearIndex(point, outStrides),
                         result(st.combiner, e,
                                b.CreateInBoundsGEP(accType, acc, c),
                                b.CreateInBoundsGEP(i32, best, c)));
              },
              "lane");
        });
  }

  /// Combines `x` into the accumulator at `acc` (and, for argmax, the
  /// position of the best point at `best`, from `position()`).
  void combine(Combiner combiner, ElementType e, Value *acc, Value *best,
               Value *x, llvm::function_ref<Value *()> position) {
    llvm::Type *accType = computeType(kb.context(), e);
    Value *a = b.CreateLoad(accType, acc);
    bool fp = isFloat(e);
    switch (combiner) {
    case Combiner::Sum:
      b.CreateStore(fp ? b.CreateFAdd(a, x) : b.CreateAdd(a, x), acc);
      break;
    case Combiner::Max:
    case Combiner::ArgMax:
    case Combiner::MaxNaN:
    case Combiner::ArgMaxNaN: {
      // Strictly greater: the first maximum wins. NaN never does under
      // Max; under MaxNaN a NaN wins unless one already has: x ugt a
      // (greater, or either is NaN) and a ord a (a is not NaN).
      bool nanWins =
          combiner == Combiner::MaxNaN || combiner == Combiner::ArgMaxNaN;
      Value *greater =
          !fp       ? b.CreateICmpSGT(x, a)
          : nanWins ? b.CreateAnd(b.CreateFCmpUGT(x, a), b.CreateFCmpORD(a, a))
                    : b.CreateFCmpOGT(x, a);
      b.CreateStore(b.CreateSelect(greater, x, a), acc);
      if (combiner == Combiner::ArgMax || combiner == Combiner::ArgMaxNaN)
        b.CreateStore(b.CreateSelect(greater,
                                     b.CreateTrunc(position(), b.getInt32Ty()),
                                     b.CreateLoad(b.getInt32Ty(), best)),
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
  }

  /// The combined value: the accumulator, or argmax's position as i32.
  Value *result(Combiner combiner, ElementType e, Value *acc, Value *best) {
    if (combiner == Combiner::ArgMax || combiner == Combiner::ArgMaxNaN)
      return b.CreateLoad(b.getInt32Ty(), best);
    return b.CreateLoad(computeType(kb.context(), e), acc);
  }

  static double initialValue(Combiner c, ElementType e) {
    bool fp = isFloat(e);
    switch (c) {
    case Combiner::Max:
    case Combiner::ArgMax:
    case Combiner::MaxNaN:
    case Combiner::ArgMaxNaN:
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
