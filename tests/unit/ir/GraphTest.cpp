// Use lists, replacement, erasure and movement of ops.
#include "ir/Builder.h"

#include <gtest/gtest.h>

using namespace nnc;

TEST(Graph, UseListsFollowOperands) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *y = b.add(x, x);
  ASSERT_EQ(x->uses().size(), 2u);
  EXPECT_EQ(x->uses()[0].user, y->definingOp());
  Value *z = b.neg(y);
  y->definingOp()->setOperand(1, z); // not valid IR, but use lists must follow
  EXPECT_EQ(x->uses().size(), 1u);
  EXPECT_EQ(z->uses().size(), 1u);
  EXPECT_EQ(z->uses()[0].operandIndex, 1u);
}

TEST(Graph, ReplaceAllUsesAndErase) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *a = b.exp(x);
  Value *c = b.add(a, a);
  Value *replacement = b.neg(x);
  b.ret({c}, {"out"});
  a->replaceAllUsesWith(replacement);
  EXPECT_FALSE(a->hasUses());
  EXPECT_EQ(replacement->uses().size(), 2u);
  a->definingOp()->erase();
  EXPECT_EQ(g.numOps(), 3u);
  EXPECT_EQ(g.lookupResult("out"), c);
  EXPECT_EQ(g.lookupResult("loss"), nullptr);
}

TEST(Graph, InsertionPointsAndMoves) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {}), "x");
  Value *last = b.neg(x);
  b.setInsertionPoint(last->definingOp());
  Value *first = b.exp(x);
  std::vector<Op *> order;
  for (Op &op : g.ops())
    order.push_back(&op);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], first->definingOp());
  g.moveOp(first->definingOp(), g.end());
  EXPECT_EQ(&g.back(), first->definingOp());
  EXPECT_EQ(last->definingOp()->nextOp(), first->definingOp());
}

TEST(Graph, DestroyingAGraphWithCrossUsesIsSafe) {
  auto g = std::make_unique<Graph>("g");
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, {3}), "x");
  Value *y = b.exp(x);
  b.add(y, b.neg(y));
  g.reset(); // ops are destroyed front to back while later ones use them
  SUCCEED();
}
