//===- DeadCodeElimination.cpp - Removing unused computation --------------===//
#include "passes/Passes.h"

namespace nnc {

unsigned eraseDeadOps(Graph &g) {
  std::vector<Op *> order;
  for (Op &op : g.ops())
    order.push_back(&op);
  unsigned erased = 0;
  // Users come after producers, so one backward sweep frees whole chains.
  for (Op *op : llvm::reverse(order)) {
    if (Graph *body = op->body())
      erased += eraseDeadOps(*body);
    // A variable is the model's whether or not this graph reads it: it is
    // initialized, saved and loaded with the others.
    if (op->def().hasSideEffects || op->hasUses() || isVariable(*op))
      continue;
    op->erase();
    ++erased;
  }
  return erased;
}

namespace {
class DeadCodeElimination : public GraphPass {
public:
  llvm::StringRef name() const override { return "dce"; }
  llvm::StringRef description() const override {
    return "erase ops whose results are never used";
  }
  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    numErased += eraseDeadOps(g);
    return llvm::success();
  }

private:
  Statistic numErased{this, "ops-erased", "ops erased"};
};
} // namespace

std::unique_ptr<Pass> createDeadCodeEliminationPass() {
  return std::make_unique<DeadCodeElimination>();
}

} // namespace nnc
