// Shape inference through the builder: each op family's type rule, and the
// errors it gives for impossible shapes.
#include "ir/Builder.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

class BuilderTest : public ::testing::Test {
protected:
  Graph g{"test"};
  Builder b{g};
  Value *arg(ElementType e, llvm::ArrayRef<int64_t> shape) {
    return g.addArgument(TensorType(e, shape));
  }
  Value *f32(llvm::ArrayRef<int64_t> shape) {
    return arg(ElementType::F32, shape);
  }

  /// The error message tryCreate gives, or "" if it succeeds.
  std::string errorOf(OpKind kind, llvm::ArrayRef<Value *> operands,
                      AttrDict attrs = {},
                      llvm::ArrayRef<TensorType> declared = {}) {
    auto op = b.tryCreate(kind, operands, std::move(attrs), declared);
    if (op)
      return "";
    return llvm::toString(op.takeError());
  }
};

AttrDict attrs(std::initializer_list<std::pair<const char *, Attribute>> kv) {
  AttrDict d;
  for (auto &[k, v] : kv)
    d.set(k, v);
  return d;
}

} // namespace

TEST_F(BuilderTest, ElementwiseBroadcasts) {
  Value *x = f32({32, 128}), *bias = f32({128}), *col = f32({32, 1});
  EXPECT_EQ(b.add(x, bias)->type().str(), "f32[32,128]");
  EXPECT_EQ(b.mul(col, bias)->type().str(), "f32[32,128]");
  EXPECT_EQ(b.sub(b.scalar(1.0), x)->type().str(), "f32[32,128]");
  EXPECT_EQ(b.compare("gt", x, b.scalar(0.0))->type().str(), "i1[32,128]");
  EXPECT_EQ(b.select(b.compare("gt", x, col), x, b.scalar(0.0))->type().str(),
            "f32[32,128]");
}

TEST_F(BuilderTest, ElementwiseErrorsNameBothShapes) {
  Value *x = f32({32, 128}), *y = f32({10});
  EXPECT_EQ(errorOf(OpKind::Add, {x, y}),
            "cannot broadcast f32[32,128] and f32[10]: dimensions must be "
            "equal or 1 when aligned from the right");
  Value *i = arg(ElementType::I32, {32, 128});
  EXPECT_EQ(errorOf(OpKind::Add, {x, i}),
            "operand element types differ: f32[32,128] and i32[32,128]");
  EXPECT_EQ(errorOf(OpKind::Exp, {i}),
            "the operand must have a floating-point type, got i32[32,128]");
  EXPECT_EQ(errorOf(OpKind::Add, {x}), "expects 2 operands, got 1");
}

TEST_F(BuilderTest, MatMulShapes) {
  Value *x = f32({32, 784}), *w = f32({784, 128}), *dy = f32({32, 128});
  EXPECT_EQ(b.matmul(x, w)->type().str(), "f32[32,128]");
  EXPECT_EQ(b.matmul(dy, w, false, true)->type().str(), "f32[32,784]");
  EXPECT_EQ(b.matmul(x, dy, true, false)->type().str(), "f32[784,128]");
  EXPECT_EQ(errorOf(OpKind::MatMul, {x, dy}),
            "contracting dimensions differ: f32[32,784] contributes 784 and "
            "f32[32,128] contributes 32");
  EXPECT_EQ(errorOf(OpKind::MatMul, {x, f32({784})}),
            "needs two matrices, got f32[32,784] and f32[784]");
}

TEST_F(BuilderTest, ReductionsAndArgMax) {
  Value *x = f32({32, 10});
  EXPECT_EQ(b.reduceSum(x, {1})->type().str(), "f32[32]");
  EXPECT_EQ(b.reduceSum(x, {1}, true)->type().str(), "f32[32,1]");
  EXPECT_EQ(b.reduceSum(x, {0, 1})->type().str(), "f32[]");
  EXPECT_EQ(b.argmax(x, 1)->type().str(), "i32[32]");
  EXPECT_EQ(errorOf(OpKind::ReduceSum, {x},
                    attrs({{"axes", std::vector<int64_t>{2}}})),
            "axis 2 is out of range for rank 2");
  EXPECT_EQ(errorOf(OpKind::ReduceSum, {x},
                    attrs({{"axes", std::vector<int64_t>{1, 1}}})),
            "axis 1 is listed twice");
}

TEST_F(BuilderTest, DataMovement) {
  Value *x = f32({32, 28, 28});
  EXPECT_EQ(b.reshape(x, {32, 784})->type().str(), "f32[32,784]");
  EXPECT_EQ(b.transpose(x, {2, 0, 1})->type().str(), "f32[28,32,28]");
  EXPECT_EQ(b.broadcast(f32({28}), {32, 28, 28})->type().str(),
            "f32[32,28,28]");
  EXPECT_EQ(errorOf(OpKind::Reshape, {x}, {},
                    {TensorType(ElementType::F32, {32, 785})}),
            "cannot reshape f32[32,28,28] (25088 elements) to f32[32,785] "
            "(25120 elements)");
  EXPECT_EQ(errorOf(OpKind::Transpose, {x},
                    attrs({{"perm", std::vector<int64_t>{0, 0, 1}}})),
            "perm [0, 0, 1] is not a permutation of 0..2");
  EXPECT_EQ(errorOf(OpKind::Broadcast, {f32({3})}, {},
                    {TensorType(ElementType::F32, {2, 4})}),
            "cannot broadcast f32[3] to f32[2,4]: dimensions must be equal or "
            "1 when aligned from the right");
  EXPECT_EQ(errorOf(OpKind::Reshape, {x}), "needs its result type written out");
}

TEST_F(BuilderTest, NeuralNetOps) {
  Value *logits = f32({32, 10});
  Value *labels = arg(ElementType::I32, {32});
  EXPECT_EQ(b.softmaxCrossEntropy(logits, labels)->type().str(), "f32[32]");
  EXPECT_EQ(b.oneHot(labels, 10)->type().str(), "f32[32,10]");
  EXPECT_EQ(b.logSoftmax(logits)->type().str(), "f32[32,10]");
  EXPECT_EQ(errorOf(OpKind::SoftmaxCrossEntropy,
                    {logits, arg(ElementType::I32, {16})}),
            "logits f32[32,10] and labels i32[16] differ in batch size");
  EXPECT_EQ(errorOf(OpKind::SoftmaxCrossEntropy, {logits, f32({32})}),
            "labels must be i32[batch], got f32[32]");
}

TEST_F(BuilderTest, VariablesAndConstants) {
  Value *w = b.param("dense_1.weight", TensorType(ElementType::F32, {784, 128}),
                     "glorot_uniform");
  EXPECT_EQ(w->name(), "dense_1.weight");
  EXPECT_EQ(variableName(*w->definingOp()), "dense_1.weight");
  EXPECT_EQ(getSplatConstant(b.scalar(2.5)), 2.5);
  EXPECT_FALSE(getSplatConstant(w).has_value());
  EXPECT_EQ(errorOf(OpKind::Param, {},
                    attrs({{"name", "w"}, {"init", "xavier"}}),
                    {TensorType(ElementType::F32, {2})})
                .substr(0, 30),
            "bad initializer 'xavier': expe");
  EXPECT_EQ(
      errorOf(OpKind::Param, {}, attrs({{"name", "w"}}),
              {TensorType(ElementType::I32, {2})}),
      "a trainable parameter must have a floating-point type, got i32[2]");
  EXPECT_EQ(errorOf(OpKind::Constant, {},
                    attrs({{"values", std::vector<double>{1, 2}}}),
                    {TensorType(ElementType::F32, {3})}),
            "has 2 values for type f32[3] of 3 elements");
}

TEST_F(BuilderTest, DefaultsAreFilledAndOmittedWhenPrinted) {
  Value *x = f32({2, 2});
  Op *op = b.create(OpKind::MatMul, {x, x});
  EXPECT_FALSE(op->attrs().getBool("transpose_a"));
  b.ret({op->result()}, {"out"});
  EXPECT_EQ(toString(g), "graph @test(%0: f32[2,2]) -> (out: f32[2,2]) {\n"
                         "  %1 = matmul %0, %0 : f32[2,2]\n"
                         "  return %1\n"
                         "}\n");
}
