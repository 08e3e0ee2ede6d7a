//===- PerExampleResults.cpp - Batch means returned row by row ------------===//
//
// The evaluation step runs a test set whose size its batch need not divide:
// the last batch is padded to the full size. For the padding not to count,
// the step returns each of its results (the loss, the metrics: means over
// the batch) as the values it would average, one per example, and the
// runtime averages the rows that hold examples. One graph then evaluates
// every batch, where a second graph for the last one had to be compiled.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "passes/Passes.h"

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
    int64_t batch = g.argument(0)->type().dim(0);
    for (unsigned i = 0; i < ret->numOperands(); ++i) {
      Value *rows = perExample(g, ret->operand(i), batch);
      if (!rows) {
        std::string which = "result " + std::to_string(i);
        if (i < g.resultNames().size() && !g.resultNames()[i].empty())
          which += " ('" + g.resultNames()[i] + "')";
        diag.error(ret->loc(), which + " of @" + g.name() +
                                   " is not a mean over the batch (axis 0, " +
                                   llvm::Twine(batch) +
                                   " rows), so it cannot be returned per "
                                   "example");
        return llvm::failure();
      }
      ret->setOperand(i, rows);
      ++numRewritten;
    }
    return llvm::success();
  }

private:
  /// The per-example values whose mean `v` is, or null when `v` is not a
  /// reduce_mean over every axis of a tensor with `batch` rows.
  static Value *perExample(Graph &g, Value *v, int64_t batch) {
    Op *mean = v->definingOp();
    if (!mean || !mean->is(OpKind::ReduceMean) ||
        mean->attrs().getBool("keepdims"))
      return nullptr;
    Value *x = mean->operand(0);
    int64_t rank = x->type().rank();
    if (rank == 0 || x->type().dim(0) != batch)
      return nullptr;
    std::vector<int64_t> axes = mean->attrs().getIntList("axes");
    llvm::sort(axes);
    std::vector<int64_t> all(rank);
    std::iota(all.begin(), all.end(), 0);
    if (axes != all)
      return nullptr;
    if (rank == 1)
      return x;
    Builder b(g);
    b.setInsertionPointAfter(mean);
    b.setLoc(mean->loc());
    return b.reduce(OpKind::ReduceMean, x,
                    llvm::ArrayRef<int64_t>(all).drop_front());
  }

  Statistic numRewritten{this, "results-rewritten",
                         "results returned per example"};
};

} // namespace

std::unique_ptr<Pass> createPerExampleResultsPass() {
  return std::make_unique<PerExampleResults>();
}

} // namespace nnc
