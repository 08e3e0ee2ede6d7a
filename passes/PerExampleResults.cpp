//===- PerExampleResults.cpp - Batch means returned row by row ------------===//
//
// The evaluation step runs a test set whose size its batch need not divide:
// the last batch is padded to the full size. For the padding not to count,
// the step returns each of its results (the loss, the metrics: means over
// the batch) as the values it would average, one per example, and the
// runtime sums the rows that hold examples. One graph then evaluates every
// batch, where a second graph for the last one had to be compiled.
//
// A result of shape S becomes rows of shape [batch] + S whose mean over axis
// 0 is the result. The results this works for are those linear in means
// over the batch:
//
//   reduce_mean(x, axes) with 0 in axes   rows: x reduced over the other axes
//   a + b, a - b                          rows of a + rows of b
//   a * c, c * a, a / c, -a               with c not depending on the batch
//   c                                     c itself, on every row
//
// where "not depending on the batch" means no path from a graph argument: a
// penalty such as 1e-4 * l2(w) in `loss mean(...) + 1e-4 * l2(w)` adds the
// same value to every example, so the examples' mean is still the loss.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "passes/Passes.h"

#include "llvm/ADT/DenseMap.h"

#include <numeric>

namespace nnc {

namespace {

class PerExampleResults : public GraphPass {
public:
  llvm::StringRef name() const override { return "per-example-results"; }
  llvm::StringRef description() const override {
    return "return each mean over the batch as one value per example";
  }

  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &diag) override {
    Op *ret = g.terminator();
    if (!ret)
      return llvm::success();
    if (g.numArguments() == 0 || g.argument(0)->type().rank() == 0) {
      diag.error(ret->loc(), "@" + g.name() +
                                 " has no batch: its first argument must "
                                 "have the batch as axis 0");
      return llvm::failure();
    }
    RowBuilder rows(g, g.argument(0)->type().dim(0));
    for (unsigned i = 0; i < ret->numOperands(); ++i) {
      Value *result = ret->operand(i);
      Value *perExample = rows.of(result);
      if (!perExample) {
        std::string which = "result " + std::to_string(i);
        if (i < g.resultNames().size() && !g.resultNames()[i].empty())
          which += " ('" + g.resultNames()[i] + "')";
        // At the construct that computed it when it has a location (the
        // loss statement of a model file), else at the return.
        const Op *def = result->definingOp();
        const Location &at =
            def && !def->loc().isUnknown() ? def->loc() : ret->loc();
        diag.error(at, which + " of @" + g.name() +
                           " is not a mean over the batch (axis 0, " +
                           llvm::Twine(rows.batch()) +
                           " rows), so it cannot be returned per example; "
                           "means over the batch can be added, subtracted "
                           "and scaled by values that do not depend on it");
        return llvm::failure();
      }
      ret->setOperand(i, perExample);
      ++numRewritten;
    }
    return llvm::success();
  }

private:
  /// Builds the per-example rows of values, each after the value it
  /// replaces.
  class RowBuilder {
  public:
    RowBuilder(Graph &g, int64_t batch) : g(g), rows(batch) {
      // Ops are in order of definition: one walk settles every value.
      for (unsigned i = 0; i < g.numArguments(); ++i)
        varies[g.argument(i)] = true;
      for (Op &op : g.ops()) {
        bool any = llvm::any_of(op.operands(),
                                [&](Value *v) { return varies.lookup(v); });
        for (unsigned r = 0; r < op.numResults(); ++r)
          varies[op.result(r)] = any;
      }
    }
    int64_t batch() const { return rows; }

    /// Rows [batch] + shape(v) whose mean over axis 0 is v, or null when v
    /// is not linear in means over the batch.
    Value *of(Value *v) {
      if (!dependsOnBatch(v))
        return after(v, [&](Builder &b) {
          return b.broadcast(v, rowShape(v->type().shape()));
        });
      Op *op = v->definingOp();
      if (!op)
        return nullptr;
      switch (op->kind()) {
      case OpKind::ReduceMean:
        return ofMean(*op);
      case OpKind::Add:
      case OpKind::Sub:
        return ofSum(*op);
      case OpKind::Mul:
      case OpKind::Div:
        return ofScaled(*op);
      case OpKind::Neg: {
        Value *x = of(op->operand(0));
        if (!x)
          return nullptr;
        return after(v, [&](Builder &b) { return b.neg(x); });
      }
      default:
        return nullptr;
      }
    }

  private:
    std::vector<int64_t> rowShape(llvm::ArrayRef<int64_t> shape) const {
      std::vector<int64_t> s = {rows};
      s.insert(s.end(), shape.begin(), shape.end());
      return s;
    }

    /// Creates what `build` makes just after v's definition (or at the
    /// start, for an argument), at v's location.
    Value *after(Value *v, llvm::function_ref<Value *(Builder &)> build) {
      Builder b(g);
      if (Op *def = v->definingOp()) {
        b.setInsertionPointAfter(def);
        b.setLoc(def->loc());
      } else {
        b.setInsertionPoint(g.terminator());
      }
      return build(b);
    }

    /// Rows of `x` of shape [batch] + S reshaped to rank 1 + `rank`, with
    /// ones after the batch axis, so that they broadcast against values of
    /// the result's shape as the result did.
    Value *expand(Value *x, unsigned rank, Builder &b) {
      const TensorType &type = x->type();
      if (type.rank() == rank + 1)
        return x;
      std::vector<int64_t> shape = {rows};
      shape.insert(shape.end(), rank + 1 - type.rank(), 1);
      auto rest = type.shape().drop_front();
      shape.insert(shape.end(), rest.begin(), rest.end());
      return b.reshape(x, shape);
    }

    Value *ofMean(Op &mean) {
      if (mean.attrs().getBool("keepdims"))
        return nullptr;
      Value *x = mean.operand(0);
      if (x->type().rank() == 0 || x->type().dim(0) != rows)
        return nullptr;
      std::vector<int64_t> axes = mean.attrs().getIntList("axes");
      if (!llvm::is_contained(axes, 0))
        return nullptr;
      llvm::erase(axes, 0);
      if (axes.empty())
        return x;
      llvm::sort(axes);
      return after(mean.result(), [&](Builder &b) {
        return b.reduce(OpKind::ReduceMean, x, axes);
      });
    }

    Value *ofSum(Op &op) {
      Value *a = of(op.operand(0)), *b = of(op.operand(1));
      if (!a || !b)
        return nullptr;
      unsigned rank = op.result()->type().rank();
      return after(op.result(), [&](Builder &builder) {
        return builder.binary(op.kind(), expand(a, rank, builder),
                              expand(b, rank, builder));
      });
    }

    /// x * c, c * x and x / c, with c independent of the batch.
    Value *ofScaled(Op &op) {
      Value *lhs = op.operand(0), *rhs = op.operand(1);
      bool lhsVaries = dependsOnBatch(lhs), rhsVaries = dependsOnBatch(rhs);
      if (lhsVaries == rhsVaries || (op.is(OpKind::Div) && rhsVaries))
        return nullptr;
      Value *varying = lhsVaries ? lhs : rhs;
      Value *x = of(varying);
      if (!x)
        return nullptr;
      unsigned rank = op.result()->type().rank();
      return after(op.result(), [&](Builder &b) {
        Value *rowsOfX = expand(x, rank, b);
        return lhsVaries ? b.binary(op.kind(), rowsOfX, rhs)
                         : b.binary(op.kind(), lhs, rowsOfX);
      });
    }

    /// Whether a graph argument reaches `v`. Values created by this
    /// builder are not asked about.
    bool dependsOnBatch(Value *v) const { return varies.lookup(v); }

    Graph &g;
    int64_t rows;
    llvm::DenseMap<Value *, bool> varies;
  };

  Statistic numRewritten{this, "results-rewritten",
                         "results returned per example"};
};

} // namespace

std::unique_ptr<Pass> createPerExampleResultsPass() {
  return std::make_unique<PerExampleResults>();
}

} // namespace nnc
