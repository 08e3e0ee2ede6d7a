//===- CommonSubexpressionElimination.cpp - Sharing equal computations ----===//
//
// Two ops of the same kind, with the same operands (in either order for
// commutative ops), attributes and result types compute the same value; the
// later one is replaced by the earlier. Variables, ops with side effects and
// kernels are never merged.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

#include <unordered_map>

namespace nnc {

namespace {

std::string structuralKey(const Op &op) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << unsigned(op.kind()) << '(';
  llvm::SmallVector<const Value *, 3> operands(op.operands().begin(),
                                               op.operands().end());
  if (op.def().commutative)
    llvm::sort(operands);
  for (const Value *v : operands)
    os << static_cast<const void *>(v) << ',';
  os << ')';
  for (const auto &[name, value] : op.attrs()) {
    os << name << '=';
    value.print(os);
    os << ';';
  }
  for (const Value *r : op.results())
    os << r->type().str() << ';';
  return key;
}

bool isMergeable(const Op &op) {
  return !op.def().hasSideEffects && !isVariable(op) && !op.body() &&
         op.numResults() > 0;
}

class CommonSubexpressionElimination : public GraphPass {
public:
  llvm::StringRef name() const override { return "cse"; }
  llvm::StringRef description() const override {
    return "replace an op equal to an earlier one by the earlier one";
  }
  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    mergeIn(g);
    return llvm::success();
  }

private:
  void mergeIn(Graph &g) {
    std::unordered_map<std::string, Op *> seen;
    for (Op &op : llvm::make_early_inc_range(g.ops())) {
      if (Graph *body = op.body())
        mergeIn(*body);
      if (!isMergeable(op))
        continue;
      auto [it, inserted] = seen.try_emplace(structuralKey(op), &op);
      if (inserted)
        continue;
      for (unsigned i = 0; i < op.numResults(); ++i)
        op.result(i)->replaceAllUsesWith(it->second->result(i));
      op.erase();
      ++numMerged;
    }
  }

  Statistic numMerged{this, "ops-merged",
                      "ops replaced by an equal earlier op"};
};
} // namespace

std::unique_ptr<Pass> createCommonSubexpressionEliminationPass() {
  return std::make_unique<CommonSubexpressionElimination>();
}

} // namespace nnc
