// outlineKernel moves ops into a kernel body, copies what the body
// recomputes, and leaves the graph alone when no kernel form fits.
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "llvm/ADT/DenseMap.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

struct Outliner {
  Graph &g;
  llvm::DenseMap<const Op *, size_t> position;

  explicit Outliner(Graph &g) : g(g) {
    for (const Op &op : g.ops())
      position[&op] = position.size();
  }

  Op *outline(llvm::ArrayRef<Op *> members) {
    return outlineKernel(
        g, members, "fused_test",
        [](const Op &op) { return op.is(OpKind::Constant); },
        [&](const Op *op) { return position.lookup(op); });
  }
};

std::vector<std::string> opNames(const Graph &g) {
  std::vector<std::string> names;
  for (const Op &op : g.ops())
    names.push_back(op.name().str());
  return names;
}

} // namespace

TEST(KernelOutlining, MovesOpsAndCopiesTheConstantsTheyRead) {
  Module m;
  Graph *g = m.addGraph(std::make_unique<Graph>("g"));
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *two = b.scalar(2.0);
  Value *e = b.exp(x);
  Value *scaled = b.mul(e, two);
  Value *other = b.add(x, two); // keeps the constant alive outside
  b.ret({scaled, other}, {"scaled", "other"});

  Outliner o(*g);
  Op *kernel = o.outline({e->definingOp(), scaled->definingOp()});
  ASSERT_NE(kernel, nullptr);
  // The constant is recomputed in the body, so x is the only input.
  ASSERT_EQ(kernel->numOperands(), 1u);
  EXPECT_EQ(kernel->operand(0), x);
  EXPECT_EQ(opNames(*kernel->body()),
            (std::vector<std::string>{"constant", "exp", "mul", "yield"}));
  EXPECT_EQ(opNames(*g),
            (std::vector<std::string>{"constant", "kernel", "add", "return"}));
  EXPECT_EQ(g->back().operand(0), kernel->result(0));
  DiagnosticEngine diag;
  EXPECT_TRUE(llvm::succeeded(verify(m, diag))) << toString(*g);
}

TEST(KernelOutlining, LeavesTheGraphAloneWithoutAKernelForm) {
  Module m;
  Graph *g = m.addGraph(std::make_unique<Graph>("g"));
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, {4, 8}), "x");
  Value *w = g->addArgument(TensorType(ElementType::F32, {8, 8}), "w");
  Value *h = b.matmul(x, w);
  Value *y = b.matmul(h, w); // two products: no form holds both
  b.ret({y}, {"y"});
  std::string before = toString(*g);

  Outliner o(*g);
  EXPECT_EQ(o.outline({h->definingOp(), y->definingOp()}), nullptr);
  EXPECT_EQ(toString(*g), before);
}
