// What the kernel forms see of an op is read off its structured
// description: these pin the answers for the ops whose kernels are tuned,
// and for look-alikes that must not pass for them.
#include "ir/StructureMatch.h"
#include "ir/Builder.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

TensorType f32(Shape s) { return TensorType(ElementType::F32, s); }
TensorType i32(Shape s) { return TensorType(ElementType::I32, s); }

const Op &def(Value *v) { return *v->definingOp(); }

class StructureMatchTest : public ::testing::Test {
protected:
  Graph g{"g"};
  Builder b{g};
};

TEST_F(StructureMatchTest, ElementwiseIsOneBroadcastStageWithoutPosition) {
  Value *x = g.addArgument(f32({4, 6}));
  Value *row = g.addArgument(f32({6}));
  Value *labels = g.addArgument(i32({4}));
  EXPECT_TRUE(isElementwise(def(b.add(x, row))));
  EXPECT_TRUE(isElementwise(def(b.cast(x, ElementType::I32))));
  EXPECT_TRUE(isElementwise(def(b.compare("lt", x, row))));
  EXPECT_TRUE(isElementwise(def(b.broadcast(row, {4, 6}))));
  // Reads elements elsewhere than where it writes, or reads the position.
  EXPECT_FALSE(isElementwise(def(b.transpose(x, {1, 0}))));
  EXPECT_FALSE(isElementwise(def(b.oneHot(labels, 6))));
  EXPECT_FALSE(isElementwise(def(b.reduceSum(x, {1}))));
  EXPECT_FALSE(isElementwise(def(b.reshape(x, {24}))));
}

TEST_F(StructureMatchTest, ScalarElementwiseNeedsScalarOperands) {
  Value *s = g.addArgument(f32({}));
  Value *x = g.addArgument(f32({3}));
  EXPECT_TRUE(isScalarElementwise(def(b.add(s, s))));
  EXPECT_FALSE(isScalarElementwise(def(b.add(s, x))));
}

TEST_F(StructureMatchTest, ProductTransposesComeFromTheIndexMaps) {
  Value *a = g.addArgument(f32({4, 6})), *at = g.addArgument(f32({6, 4}));
  Value *w = g.addArgument(f32({6, 5})), *wt = g.addArgument(f32({5, 6}));
  struct Case {
    Value *lhs, *rhs;
    bool ta, tb;
  };
  for (Case c : {Case{a, w, false, false}, Case{at, w, true, false},
                 Case{a, wt, false, true}, Case{at, wt, true, true}}) {
    std::optional<Product> p =
        matchProduct(def(b.matmul(c.lhs, c.rhs, c.ta, c.tb)));
    ASSERT_TRUE(p) << c.ta << c.tb;
    EXPECT_EQ(p->lhs, 0u);
    EXPECT_EQ(p->rhs, 1u);
    EXPECT_EQ(p->transposeA, c.ta);
    EXPECT_EQ(p->transposeB, c.tb);
    EXPECT_EQ(p->m, 4);
    EXPECT_EQ(p->n, 5);
    EXPECT_EQ(p->depth, 6);
  }
}

TEST_F(StructureMatchTest, OtherSumsAreNotProducts) {
  Value *x = g.addArgument(f32({4, 6}));
  EXPECT_FALSE(matchProduct(def(b.reduceSum(x, {1}))));
  // x * x summed: a product of one operand with itself, not of A and B.
  EXPECT_FALSE(matchProduct(def(b.reduceSum(b.mul(x, x), {1}))));
}

TEST_F(StructureMatchTest, RowOpsReduceAlongTheInnermostAxis) {
  Value *x = g.addArgument(f32({4, 6}));
  Value *labels = g.addArgument(i32({4}));
  using Space = std::optional<std::pair<int64_t, int64_t>>;
  Space rows = std::make_pair(int64_t(4), int64_t(6));
  EXPECT_EQ(rowSpaceOf(def(b.softmax(x))), rows);
  EXPECT_EQ(rowSpaceOf(def(b.unary(OpKind::LogSoftmax, x))), rows);
  EXPECT_EQ(rowSpaceOf(def(b.softmaxCrossEntropy(x, labels))), rows);
  EXPECT_EQ(rowSpaceOf(def(b.argmax(x, 1))), rows);
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
    EXPECT_EQ(rowSpaceOf(def(b.reduce(k, x, {1}, false))), rows);
  // Not along the rows, not to one value per row, or not in float.
  EXPECT_EQ(rowSpaceOf(def(b.argmax(x, 0))), Space());
  EXPECT_EQ(rowSpaceOf(def(b.reduceSum(x, {0}))), Space());
  EXPECT_EQ(rowSpaceOf(def(b.reduceSum(x, {0, 1}))), Space());
  EXPECT_EQ(rowSpaceOf(def(b.reduce(OpKind::ReduceSum, x, {1}, true))),
            Space());
  EXPECT_EQ(rowSpaceOf(def(b.reduceSum(b.cast(x, ElementType::I32), {1}))),
            Space());
  EXPECT_EQ(rowSpaceOf(def(b.add(x, x))), Space());
}

TEST_F(StructureMatchTest, OneHotExpandsRowsByTheirIndex) {
  Value *labels = g.addArgument(i32({4}));
  Value *x = g.addArgument(f32({4, 4}));
  Value *v = g.addArgument(f32({4}));
  EXPECT_EQ(rowExpansionOf(def(b.oneHot(labels, 10))),
            std::make_pair(int64_t(4), int64_t(10)));
  // A [4] vector next to [4, 4] broadcasts along the columns (NumPy): the
  // maps, not the shapes, tell the two apart.
  EXPECT_FALSE(rowExpansionOf(def(b.add(x, v))));
}

TEST_F(StructureMatchTest, BatchReductionsSumOrMaxOverTheFirstAxis) {
  Value *x = g.addArgument(f32({4, 6}));
  Value *v = g.addArgument(f32({4}));
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax}) {
    EXPECT_TRUE(isBatchReduction(def(b.reduce(k, x, {0}, false))));
    EXPECT_TRUE(isBatchReduction(def(b.reduce(k, v, {0}, false))));
  }
  EXPECT_FALSE(
      isBatchReduction(def(b.reduce(OpKind::ReduceSum, x, {0}, true))));
  EXPECT_FALSE(isBatchReduction(def(b.reduceSum(x, {1}))));
  EXPECT_FALSE(isBatchReduction(def(b.argmax(x, 0))));
  Value *cube = g.addArgument(f32({2, 3, 4}));
  EXPECT_FALSE(isBatchReduction(def(b.reduceSum(cube, {0}))));
}

} // namespace
