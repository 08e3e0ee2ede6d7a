//===- RowwiseKernel.cpp - One pass over the rows, then the reductions ----===//
//
// Row-wise kernels: per-row values (softmax, cross-entropy, arg max, a
// row's reductions) and the element-wise ops around them, one row at a
// time, accumulating the batch reductions; then the element-wise ops on
// the reductions' results.
//
// Row ops and batch reductions are compiled from their structured
// descriptions: a row's reduction stages become loops along the row with
// the stage's combiner, its finishing stages per-row scalars. The
// log-sum-exp family (softmax, log_softmax, softmax_cross_entropy) and
// one_hot have tuned heads instead: rows of up to kRowLanes as vector
// lanes, and one log-sum-exp per row shared by a softmax and its loss.
//
//===----------------------------------------------------------------------===//
#include "codegen/FusedKernels.h"
#include "codegen/RowLanes.h"
#include "codegen/ScalarCodegen.h"

#include "llvm/IR/Intrinsics.h"

#include <limits>
#include <map>

namespace nnc::codegen {

using llvm::Value;

namespace {

class RowwiseEmitter : KernelSite {
public:
  RowwiseEmitter(KernelBuilder &kb, const Graph &body,
                 const KernelFormInfo &info, llvm::ArrayRef<TensorRef> inputs,
                 llvm::ArrayRef<TensorRef> outputs, ThreadInfo threads)
      : KernelSite{kb, kb.builder(), body, info, inputs, outputs, threads},
        rows(info.space[0]), cols(info.space[1]), lanes(kb, cols) {
    for (unsigned i = 0; i < body.numArguments(); ++i)
      argIndex[body.argument(i)] = i;
  }

  void emit() {
    ScalarValues scalars(kb, body, info, inputs);
    scalarValues = &scalars;
    bool hasPost = false;
    for (const auto &[op, phase] : info.phase)
      hasPost |= phase == ValuePhase::Post;

    // With batch reductions one thread does all rows, in order, so the sums
    // are the same whatever the thread count; the kernels that have them
    // are the small heads of classifiers. Where the batch reductions sum
    // columns (a bias's gradient and update), threads split the columns
    // instead, each doing all rows of its own in the same order.
    Value *begin, *end;
    colBegin = kb.index(0);
    colEnd = kb.index(cols);
    llvm::BasicBlock *done = nullptr;
    if (hasPost && columnsIndependent()) {
      // Whole cache lines of each output row and reduction.
      std::tie(colBegin, colEnd) =
          kb.blockRange(cols, kColumnBlock, threads.index, threads.count);
      begin = kb.index(0);
      end = kb.index(rows);
    } else if (hasPost) {
      llvm::Function *f = b.GetInsertBlock()->getParent();
      auto *work = llvm::BasicBlock::Create(b.getContext(), "rows", f);
      done = llvm::BasicBlock::Create(b.getContext(), "rows.done", f);
      b.CreateCondBr(b.CreateICmpEQ(threads.index, b.getInt32(0)), work, done);
      b.SetInsertPoint(work);
      begin = kb.index(0);
      end = kb.index(rows);
    } else {
      std::tie(begin, end) = kb.threadRange(rows, threads.index, threads.count);
    }
    initReductions();
    kb.forRange(
        begin, end, [&](Value *r) { emitRow(r); }, "row");
    if (hasPost)
      emitPost();
    if (done) {
      b.CreateBr(done);
      b.SetInsertPoint(done);
    }
  }

private:
  using NValue = nnc::Value;

  /// Whether threads can split the columns: every batch reduction sums
  /// columns, and the kernel yields only values with a column index
  /// ([rows, cols], or [cols] after the batch reductions), so that each
  /// output element is computed and stored by one thread. Per-row values
  /// (a softmax's log-sum-exp) are then computed by every thread, each for
  /// its own columns. Rows of up to kRowLanes are lanes of one vector and
  /// stay whole. A [rows] result is per row even when rows == cols: its
  /// phase, not its shape, says so.
  bool columnsIndependent() const {
    if (cols <= kRowLanes || cols < kMinColumnsToSplit)
      return false;
    for (const Op &op : body.ops())
      if (isBatchReduction(op) && op.operand(0)->type().rank() != 2)
        return false;
    for (const NValue *v : body.terminator()->operands()) {
      llvm::ArrayRef<int64_t> s = v->type().shape();
      const Op *def = v->definingOp();
      bool afterBatchReductions =
          def && info.phase.lookup(def) == ValuePhase::Post;
      bool perColumn =
          (s.size() == 1 && s[0] == cols && afterBatchReductions) ||
          (s.size() == 2 && s[0] == rows && s[1] == cols);
      if (!perColumn)
        return false;
    }
    return true;
  }

  bool isRowVector(const NValue *v) const {
    return v->type().rank() == 2 && v->type().dim(1) == cols &&
           v->type().dim(1) != 1;
  }

  llvm::Type *typeOf(const NValue *v) const {
    return computeType(kb.context(), v->type().element());
  }

  /// The value of `v` at row `r`, column `j` (j ignored for per-row values).
  Value *at(const NValue *v, Value *r, Value *j) {
    if (Value *s = scalarValues->lookup(v))
      return s;
    if (auto it = rowScalars.find(v); it != rowScalars.end())
      return it->second;
    // Rows of one column: a row's only element is also its per-row value.
    if (!j && cols == 1 && (rowLanes.count(v) || rowArrays.count(v)))
      j = kb.index(0);
    if (auto it = rowLanes.find(v); it != rowLanes.end())
      return b.CreateExtractElement(it->second, j);
    if (auto it = rowArrays.find(v); it != rowArrays.end())
      return b.CreateLoad(typeOf(v),
                          b.CreateInBoundsGEP(typeOf(v), it->second, j));
    if (auto it = postScalars.find(v); it != postScalars.end())
      return it->second;
    if (auto it = postColumn.find(v); it != postColumn.end())
      return it->second;
    // A kernel input, read as its shape says: [rows, cols] at (r, j);
    // [rows, 1] per row; a vector per column when a column is asked for
    // (NumPy aligns it with the last axis), else per row.
    const TensorRef &in = inputs[argIndex.lookup(v)];
    llvm::ArrayRef<int64_t> s = v->type().shape();
    Value *index;
    if (s.empty())
      index = kb.index(0);
    else if (s.size() == 2 && s[1] != 1)
      index = b.CreateAdd(b.CreateMul(r, kb.index(cols)), j);
    else if (s.size() == 2)
      index = r;
    else
      index = j ? j : r;
    return in.load(kb, index);
  }

  void initReductions() {
    for (const Op &op : body.ops()) {
      if (!isBatchReduction(op))
        continue;
      const NValue *in = op.operand(0);
      ElementType e = in->type().element();
      double init = initialValue(combinerOf(op), e);
      llvm::Type *t = typeOf(in);
      if (in->type().rank() == 2) {
        int64_t slots = std::max<int64_t>(cols, kRowLanes);
        llvm::AllocaInst *acc = kb.entryAlloca(t, slots);
        kb.forRange(
            0, slots,
            [&](Value *j) {
              b.CreateStore(kb.constant(e, init),
                            b.CreateInBoundsGEP(t, acc, j));
            },
            "j");
        accumulators[&op] = acc;
      } else {
        llvm::AllocaInst *acc = kb.entryAlloca(t);
        b.CreateStore(kb.constant(e, init), acc);
        accumulators[&op] = acc;
      }
    }
  }

  /// The description of `op`, built once per kernel.
  const StructuredOp &descriptionOf(const Op &op) {
    auto it = descriptions.find(&op);
    if (it == descriptions.end())
      it = descriptions.try_emplace(&op, *describe(op)).first;
    return it->second;
  }

  /// How a batch reduction combines its rows.
  Combiner combinerOf(const Op &reduce) {
    return descriptionOf(reduce).stages.front().combiner;
  }

  static double initialValue(Combiner c, ElementType e) {
    double inf = std::numeric_limits<double>::infinity();
    switch (c) {
    case Combiner::Max:
    case Combiner::ArgMax:
      return isFloat(e) ? -inf : double(std::numeric_limits<int32_t>::min());
    case Combiner::Min:
      return isFloat(e) ? inf : double(std::numeric_limits<int32_t>::max());
    default:
      return 0.0;
    }
  }

  /// Whether `x` replaces `acc` under a max or min combiner (NaN never
  /// does, as the reference semantics say).
  Value *replaces(Combiner c, Value *acc, Value *x, ElementType e) {
    if (c == Combiner::Min)
      return isFloat(e) ? b.CreateFCmpOLT(x, acc) : b.CreateICmpSLT(x, acc);
    return isFloat(e) ? b.CreateFCmpOGT(x, acc) : b.CreateICmpSGT(x, acc);
  }

  Value *combine(Combiner c, Value *acc, Value *x, ElementType e) {
    if (c == Combiner::Sum)
      return isFloat(e) ? b.CreateFAdd(acc, x) : b.CreateAdd(acc, x);
    return b.CreateSelect(replaces(c, acc, x, e), x, acc);
  }

  Value *combine(const Op &reduce, Value *acc, Value *x, ElementType e) {
    return combine(combinerOf(reduce), acc, x, e);
  }

  /// A batch reduction's result from its accumulated value: the finishing
  /// stages of its description (a mean's division).
  Value *finishReduction(const Op &reduce, Value *v) {
    for (const StructuredStage &st :
         llvm::drop_begin(descriptionOf(reduce).stages))
      v = emitScalarBody(kb, st.body, {v});
    return v;
  }

  void emitRow(Value *r) {
    rowScalars.clear();
    rowLanes.clear();
    rowLogSumExps.clear();
    for (const Op &op : body.ops()) {
      ValuePhase phase = info.phase.lookup(&op);
      if (op.is(OpKind::Yield) || phase == ValuePhase::Scalar)
        continue;
      if (isBatchReduction(op)) {
        accumulate(op, r);
        continue;
      }
      if (phase != ValuePhase::Row)
        continue;
      emitRowOp(op, r);
    }
    // Row values the kernel yields.
    const Op *yield = body.terminator();
    for (unsigned o = 0; o < yield->numOperands(); ++o) {
      const NValue *v = yield->operand(o);
      if (!v->definingOp() ||
          info.phase.lookup(v->definingOp()) != ValuePhase::Row)
        continue;
      ElementType e = v->type().element();
      if (isRowVector(v) && rowLanes.count(v)) {
        Value *rowStart = b.CreateMul(r, kb.index(cols));
        lanes.store(outputs[o].ptr, e, rowStart, rowLanes.lookup(v));
      } else if (isRowVector(v)) {
        Value *rowStart = b.CreateMul(r, kb.index(cols));
        kb.forRange(
            colBegin, colEnd,
            [&](Value *j) {
              kb.store(outputs[o].ptr, e, b.CreateAdd(rowStart, j),
                       at(v, r, j));
            },
            "j");
      } else {
        kb.store(outputs[o].ptr, e, r, at(v, r, nullptr));
      }
    }
  }

  void accumulate(const Op &op, Value *r) {
    const NValue *in = op.operand(0);
    ElementType e = in->type().element();
    llvm::Type *t = typeOf(in);
    Value *acc = accumulators.lookup(&op);
    if (in->type().rank() == 2 && vectorRows()) {
      // Lane j is column j's sum, over the rows in order, as below.
      auto *vt = llvm::FixedVectorType::get(t, kRowLanes);
      b.CreateStore(combine(op, b.CreateLoad(vt, acc), lanesOf(in, r), e), acc);
      return;
    }
    if (in->type().rank() == 2) {
      kb.forRange(
          colBegin, colEnd,
          [&](Value *j) {
            Value *slot = b.CreateInBoundsGEP(t, acc, j);
            b.CreateStore(combine(op, b.CreateLoad(t, slot), at(in, r, j), e),
                          slot);
          },
          "j");
    } else {
      b.CreateStore(combine(op, b.CreateLoad(t, acc), at(in, r, nullptr), e),
                    acc);
    }
  }

  /// Row `r` of `x` as a vector of kRowLanes, lanes past the row set to
  /// `pad`; null when rows are longer than that.
  Value *rowVector(const NValue *x, Value *r, double pad) {
    if (cols > kRowLanes || !isFloat(x->type().element()))
      return nullptr;
    Value *v =
        b.CreateVectorSplat(kRowLanes, kb.constant(x->type().element(), pad));
    for (int64_t j = 0; j < cols; ++j)
      v = b.CreateInsertElement(v, at(x, r, kb.index(j)), j);
    return v;
  }

  /// The log-sum-exp of row `r` of `x`, computed once per row
  /// (a softmax and its cross-entropy share it); rows of up to kRowLanes
  /// as one vector (RowLanes::logSumExp), with the scalar loop's sums.
  Value *rowLogSumExp(const NValue *x, Value *r) {
    if (auto it = rowLogSumExps.find(x); it != rowLogSumExps.end())
      return it->second;
    ElementType e = x->type().element();
    Value *result;
    if (Value *row = rowVector(x, r, -std::numeric_limits<double>::infinity()))
      result = lanes.logSumExp(row);
    else
      result = kb.logSumExp(cols, e, [&](Value *j) { return at(x, r, j); });
    rowLogSumExps[x] = result;
    return result;
  }

  /// Rows of at most kRowLanes are computed a vector of lanes at a time,
  /// lane j for column j: every op does to each lane what the loop over
  /// the columns does to each element, so the results are the same.
  bool vectorRows() const { return RowLanes::fits(cols); }

  /// Row `r` of `v` as lanes: a value per column, or one value for the row
  /// (or the kernel) in every lane; kernel inputs read as `at` reads them.
  Value *lanesOf(const NValue *v, Value *r) {
    if (auto it = rowLanes.find(v); it != rowLanes.end())
      return it->second;
    if (scalarValues->lookup(v) || rowScalars.count(v))
      return b.CreateVectorSplat(kRowLanes, at(v, r, nullptr));
    auto input = argIndex.find(v);
    if (input == argIndex.end()) {
      Value *lanes = llvm::PoisonValue::get(
          llvm::FixedVectorType::get(typeOf(v), kRowLanes));
      for (int64_t j = 0; j < cols; ++j)
        lanes = b.CreateInsertElement(lanes, at(v, r, kb.index(j)), j);
      return lanes;
    }
    const TensorRef &in = inputs[input->second];
    llvm::ArrayRef<int64_t> s = v->type().shape();
    if (in.splat || s.empty() || (s.size() == 2 && s[1] == 1))
      return b.CreateVectorSplat(kRowLanes, at(v, r, nullptr));
    // Row r of a [rows, cols] input; a vector is one per column.
    Value *start = s.size() == 2 ? b.CreateMul(r, kb.index(cols)) : kb.index(0);
    return lanes.load(in.ptr, v->type().element(), start);
  }

  /// A row vector to be filled by `element(j)`.
  void fillRow(const Op &op, llvm::function_ref<Value *(Value *)> element) {
    llvm::Type *t = typeOf(op.result());
    llvm::AllocaInst *row = rowArrays.lookup(op.result());
    if (!row) {
      row = kb.entryAlloca(t, cols);
      rowArrays[op.result()] = row;
    }
    kb.forRange(
        colBegin, colEnd,
        [&](Value *j) {
          b.CreateStore(element(j), b.CreateInBoundsGEP(t, row, j));
        },
        "j");
  }

  void emitRowOp(const Op &op, Value *r) {
    const NValue *result = op.result();
    ElementType e = result->type().element();
    switch (op.kind()) {
    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      Value *lse = rowLogSumExp(op.operand(0), r);
      if (op.is(OpKind::Softmax)) {
        if (Value *row = rowVector(op.operand(0), r, 0.0)) {
          rowLanes[result] =
              kb.exp(b.CreateFSub(row, b.CreateVectorSplat(kRowLanes, lse)));
          return;
        }
      }
      fillRow(op, [&](Value *j) {
        Value *shifted = b.CreateFSub(at(op.operand(0), r, j), lse);
        return op.is(OpKind::LogSoftmax) ? shifted : kb.exp(shifted);
      });
      return;
    }
    case OpKind::SoftmaxCrossEntropy: {
      Value *lse = rowLogSumExp(op.operand(0), r);
      // As the unfused kernel: a label outside the row gives NaN.
      Value *label =
          b.CreateSExt(at(op.operand(1), r, nullptr), b.getInt64Ty());
      Value *valid = b.CreateAnd(b.CreateICmpSGE(label, kb.index(0)),
                                 b.CreateICmpSLT(label, kb.index(cols)));
      Value *safe = b.CreateSelect(valid, label, kb.index(0));
      Value *loss = b.CreateFSub(lse, at(op.operand(0), r, safe));
      rowScalars[result] = b.CreateSelect(
          valid, loss,
          kb.constant(e, std::numeric_limits<double>::quiet_NaN()));
      return;
    }
    case OpKind::OneHot: {
      Value *label =
          b.CreateSExt(at(op.operand(0), r, nullptr), b.getInt64Ty());
      if (vectorRows()) {
        Value *hit = b.CreateICmpEQ(lanes.steps(),
                                    b.CreateVectorSplat(kRowLanes, label));
        rowLanes[result] = b.CreateSelect(
            hit, b.CreateVectorSplat(kRowLanes, kb.constant(e, 1.0)),
            b.CreateVectorSplat(kRowLanes, kb.constant(e, 0.0)));
        return;
      }
      fillRow(op, [&](Value *j) {
        return b.CreateSelect(b.CreateICmpEQ(j, label), kb.constant(e, 1.0),
                              kb.constant(e, 0.0));
      });
      return;
    }
    default:
      break;
    }
    if (!isElementwise(op) && !op.is(OpKind::Constant)) {
      emitRowStages(op, r);
      return;
    }
    // Element-wise: a row vector, or one value per row.
    auto element = [&](Value *j) {
      llvm::SmallVector<Value *, 3> args;
      for (const NValue *o : op.operands())
        args.push_back(at(o, r, j));
      if (op.is(OpKind::Constant))
        return kb.constant(e, op.attrs().getFloat("value"));
      return kb.elementwise(op, args, operandTypes(op));
    };
    if (isRowVector(result) && vectorRows()) {
      if (op.is(OpKind::Constant)) {
        rowLanes[result] = b.CreateVectorSplat(
            kRowLanes, kb.constant(e, op.attrs().getFloat("value")));
        return;
      }
      llvm::SmallVector<Value *, 3> args;
      for (const NValue *o : op.operands())
        args.push_back(lanesOf(o, r));
      rowLanes[result] = kb.elementwise(op, args, operandTypes(op));
    } else if (isRowVector(result))
      fillRow(op, element);
    else
      rowScalars[result] = element(nullptr);
  }

  /// A row op from its description, stage by stage, for row `r`: each
  /// reduction along the row a loop with the stage's combiner, each
  /// per-row stage a scalar, a stage over the whole row the op's row.
  void emitRowStages(const Op &op, Value *r) {
    const StructuredOp &s = descriptionOf(op);
    llvm::SmallVector<Value *, 4> stageValues(s.stages.size(), nullptr);
    for (size_t si = 0; si < s.stages.size(); ++si) {
      const StructuredStage &st = s.stages[si];
      // The stage's operands at column j (null: per-row values only).
      auto inputsAt = [&](Value *j) {
        llvm::SmallVector<Value *, 4> in;
        for (const StageOperand &o : st.operands) {
          if (o.stage != StageOperand::kNone)
            in.push_back(stageValues[o.stage]);
          else
            in.push_back(
                at(op.operand(o.operand), r, o.view.size() == 2 ? j : nullptr));
        }
        return in;
      };
      if (st.combiner == Combiner::None && st.parallel == 2) {
        // rowSpaceOf admits only the op's result here.
        fillRow(op, [&](Value *j) {
          return emitScalarBody(kb, st.body, inputsAt(j), {r, j});
        });
        continue;
      }
      Value *value =
          st.combiner == Combiner::None
              ? emitScalarBody(kb, st.body, inputsAt(nullptr), {r})
              : rowReduction(st, [&](Value *j) {
                  return emitScalarBody(kb, st.body, inputsAt(j), {r, j});
                });
      if (st.result == 0)
        rowScalars[op.result()] = value;
      else
        stageValues[si] = value;
    }
  }

  /// A reduction stage along the row: its body at every column, combined
  /// in column order.
  Value *rowReduction(const StructuredStage &st,
                      llvm::function_ref<Value *(Value *)> element) {
    ElementType e = st.body.type();
    llvm::Type *t = computeType(kb.context(), e);
    llvm::AllocaInst *acc = kb.entryAlloca(t);
    llvm::AllocaInst *best = kb.entryAlloca(b.getInt64Ty());
    b.CreateStore(kb.constant(e, initialValue(st.combiner, e)), acc);
    b.CreateStore(kb.index(0), best);
    kb.forRange(
        0, cols,
        [&](Value *j) {
          Value *v = element(j), *a = b.CreateLoad(t, acc);
          if (st.combiner == Combiner::Sum) {
            b.CreateStore(combine(Combiner::Sum, a, v, e), acc);
            return;
          }
          Value *replace = replaces(st.combiner, a, v, e);
          b.CreateStore(b.CreateSelect(replace, v, a), acc);
          if (st.combiner == Combiner::ArgMax)
            b.CreateStore(
                b.CreateSelect(replace, j, b.CreateLoad(b.getInt64Ty(), best)),
                best);
        },
        "j");
    if (st.combiner == Combiner::ArgMax)
      return b.CreateTrunc(b.CreateLoad(b.getInt64Ty(), best), b.getInt32Ty());
    return b.CreateLoad(t, acc);
  }

  void emitPost() {
    // The batch reductions' results: a scalar now, a vector column by
    // column in the loop below.
    llvm::SmallVector<const Op *, 4> vectorReductions;
    auto finish = [&](const Op &op, Value *v) {
      return finishReduction(op, v);
    };
    for (const Op &op : body.ops()) {
      if (!isBatchReduction(op))
        continue;
      if (op.operand(0)->type().rank() == 2)
        vectorReductions.push_back(&op);
      else
        postScalars[op.result()] = finish(
            op, b.CreateLoad(typeOf(op.operand(0)), accumulators.lookup(&op)));
    }
    llvm::SmallVector<const Op *, 16> vectorOps;
    for (const Op &op : body.ops()) {
      if (info.phase.lookup(&op) != ValuePhase::Post || isBatchReduction(op) ||
          op.is(OpKind::Yield))
        continue;
      if (op.result()->type().isScalar())
        postScalars[op.result()] = postElement(op, nullptr); // reads scalars
      else
        vectorOps.push_back(&op);
    }
    // The rest in one loop over the columns, each value in registers: the
    // update of a bias and its optimizer state is one pass over them.
    const Op *yield = body.terminator();
    auto isPost = [&](const NValue *v) {
      return v->definingOp() &&
             info.phase.lookup(v->definingOp()) == ValuePhase::Post;
    };
    kb.forRange(
        colBegin, colEnd,
        [&](Value *j) {
          for (const Op *op : vectorReductions) {
            llvm::Type *t = typeOf(op->operand(0));
            postColumn[op->result()] = finish(
                *op, b.CreateLoad(t, b.CreateInBoundsGEP(
                                         t, accumulators.lookup(op), j)));
          }
          for (const Op *op : vectorOps)
            postColumn[op->result()] = postElement(*op, j);
          for (unsigned o = 0; o < yield->numOperands(); ++o) {
            const NValue *v = yield->operand(o);
            if (isPost(v) && !v->type().isScalar())
              kb.store(outputs[o].ptr, v->type().element(), j,
                       at(v, nullptr, j));
          }
        },
        "j");
    postColumn.clear();
    for (unsigned o = 0; o < yield->numOperands(); ++o) {
      const NValue *v = yield->operand(o);
      if (isPost(v) && v->type().isScalar())
        kb.store(outputs[o].ptr, v->type().element(), kb.index(0),
                 at(v, nullptr, nullptr));
    }
  }

  /// Element j of a post-phase element-wise op (j null for a scalar).
  Value *postElement(const Op &op, Value *j) {
    ElementType e = op.result()->type().element();
    if (op.is(OpKind::Constant))
      return kb.constant(e, op.attrs().getFloat("value"));
    llvm::SmallVector<Value *, 3> args;
    for (const NValue *o : op.operands())
      args.push_back(at(o, nullptr, j));
    return kb.elementwise(op, args, operandTypes(op));
  }

  int64_t rows, cols;
  /// The columns this thread computes.
  Value *colBegin = nullptr, *colEnd = nullptr;
  /// Threads split the columns in blocks of a cache line of floats.
  static constexpr int64_t kColumnBlock = 16;
  /// Below this many columns one thread does them all: each thread's share
  /// of a row would be less than the two cache lines a core's prefetcher
  /// fetches together, so both threads would read every line. A conv
  /// layer's bias gradient over [86528, 32] took 325 us on one thread and
  /// 657 us split between two.
  static constexpr int64_t kMinColumnsToSplit = 64;
  const ScalarValues *scalarValues = nullptr;
  llvm::DenseMap<const NValue *, unsigned> argIndex;
  llvm::DenseMap<const Op *, Value *> accumulators;
  /// std::map: references stay valid as descriptions are added.
  std::map<const Op *, StructuredOp> descriptions;
  llvm::DenseMap<const NValue *, Value *> rowScalars;
  llvm::DenseMap<const NValue *, Value *> rowLogSumExps;
  RowLanes lanes;
  static constexpr unsigned kRowLanes = RowLanes::kLanes;
  llvm::DenseMap<const NValue *, llvm::AllocaInst *> rowArrays;
  /// Row values computed as lanes (vectorRows), for the row being emitted.
  llvm::DenseMap<const NValue *, Value *> rowLanes;
  llvm::DenseMap<const NValue *, Value *> postScalars;
  /// Post-phase vectors at the column of the loop being generated.
  llvm::DenseMap<const NValue *, Value *> postColumn;
};

} // namespace

void emitRowwiseKernel(KernelBuilder &kb, const Graph &body,
                       const KernelFormInfo &info,
                       llvm::ArrayRef<TensorRef> inputs,
                       llvm::ArrayRef<TensorRef> outputs, ThreadInfo threads) {
  RowwiseEmitter(kb, body, info, inputs, outputs, threads).emit();
}

} // namespace nnc::codegen
