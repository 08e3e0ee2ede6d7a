// The structured descriptions of ir/Structured.h: every computing op has
// one that verifies against its types, evaluating it gives what the op's
// hand-written reference semantics give, and the text form says what a
// reader of docs/ir.md expects.
#include "ir/Structured.h"
#include "ir/Builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

using namespace nnc;

namespace {

TensorType f32(Shape s) { return TensorType(ElementType::F32, s); }
TensorType i32(Shape s) { return TensorType(ElementType::I32, s); }

struct OpCase {
  std::string name;
  std::vector<TensorType> args;
  std::function<Value *(Builder &, llvm::ArrayRef<Value *>)> build;
};

void PrintTo(const OpCase &c, std::ostream *os) { *os << c.name; }

std::vector<OpCase> cases() {
  using V = llvm::ArrayRef<Value *>;
  std::vector<OpCase> out;
  for (std::vector<int64_t> axes :
       {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {1, 2}, {}})
    for (OpKind kind :
         {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax}) {
      std::string name(getOpDef(kind).name);
      for (int64_t a : axes)
        name += "_" + std::to_string(a);
      out.push_back({name, {f32({3, 4, 5})}, [=](Builder &b, V a) {
                       return b.reduce(kind, a[0], axes, axes.size() == 1);
                     }});
    }
  for (int64_t axis : {0, 1, 2})
    out.push_back({"argmax_" + std::to_string(axis),
                   {f32({3, 4, 5})},
                   [=](Builder &b, V a) { return b.argmax(a[0], axis); }});
  out.push_back({"softmax_rank3", {f32({2, 3, 6})}, [](Builder &b, V a) {
                   return b.softmax(a[0]);
                 }});
  out.push_back({"log_softmax_rank1", {f32({7})}, [](Builder &b, V a) {
                   return b.unary(OpKind::LogSoftmax, a[0]);
                 }});
  out.push_back(
      {"softmax_cross_entropy", {f32({4, 6}), i32({4})}, [](Builder &b, V a) {
         return b.softmaxCrossEntropy(a[0], a[1]);
       }});
  out.push_back({"reshape", {f32({4, 6})}, [](Builder &b, V a) {
                   return b.reshape(a[0], {2, 12});
                 }});
  return out;
}

/// Arguments in [-2, 2]; integer ones (labels) in [0, 6).
std::vector<HostTensor> arguments(llvm::ArrayRef<TensorType> types) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-2, 2);
  std::vector<HostTensor> out;
  for (const TensorType &t : types) {
    HostTensor h(t);
    for (double &d : h.data)
      d = isFloat(t.element()) ? dist(rng) : std::floor(3 + 1.49 * dist(rng));
    out.push_back(std::move(h));
  }
  return out;
}

class Descriptions : public ::testing::TestWithParam<OpCase> {};

} // namespace

TEST_P(Descriptions, AgreeWithTheReferenceSemantics) {
  const OpCase &c = GetParam();
  Graph g("case");
  Builder b(g);
  std::vector<Value *> args;
  for (const TensorType &t : c.args)
    args.push_back(g.addArgument(t));
  Value *v = c.build(b, args);
  const Op &op = *v->definingOp();
  std::optional<StructuredOp> s = describe(op);
  ASSERT_TRUE(s.has_value());
  ASSERT_FALSE(bool(verifyStructured(op, *s)));

  std::vector<HostTensor> in = arguments(c.args);
  std::vector<const HostTensor *> inPtrs;
  for (const HostTensor &h : in)
    inPtrs.push_back(&h);
  HostTensor want(op.result()->type()), got(op.result()->type());
  ASSERT_FALSE(bool(op.def().eval(op, inPtrs, {&want, 1})));
  ASSERT_FALSE(bool(evaluateStructured(*s, inPtrs, {&got, 1})));
  for (int64_t k = 0; k < want.size(); ++k)
    EXPECT_NEAR(got[k], want[k], 1e-12 * (1 + std::abs(want[k])))
        << "element " << k << " of\n"
        << s->str();
}

INSTANTIATE_TEST_SUITE_P(Ops, Descriptions, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<OpCase> &info) {
                           return info.param.name;
                         });

TEST(Descriptions, EveryComputingOpHasOneThatVerifies) {
  // One instance of each op that computes; the exceptions are named.
  Graph g("all");
  Builder b(g);
  Value *x = g.addArgument(f32({3, 4}));
  Value *y = g.addArgument(f32({4}));
  Value *labels = g.addArgument(i32({3}));
  std::vector<Value *> made;
  for (const OpDef &def : allOpDefs()) {
    // allreduce is the declared exception: a call into the runtime.
    bool computes =
        def.role == OpRole::Compute && def.kind != OpKind::AllReduce;
    EXPECT_EQ(computes, def.structure != nullptr)
        << "'" << def.name.str() << "' "
        << (computes ? "computes but has no structured description"
                     : "has a description but is not a computing op");
  }
  made.push_back(b.add(x, y));
  made.push_back(b.matmul(x, x, false, true));
  made.push_back(b.oneHot(labels, 4));
  made.push_back(b.softmaxCrossEntropy(x, labels));
  made.push_back(b.transpose(x, {1, 0}));
  made.push_back(b.broadcast(y, {2, 3, 4}));
  made.push_back(b.cast(b.compare("gt", x, y), ElementType::F32));
  for (Value *v : made) {
    const Op &op = *v->definingOp();
    std::optional<StructuredOp> s = describe(op);
    ASSERT_TRUE(s.has_value()) << op.name().str();
    EXPECT_FALSE(bool(verifyStructured(op, *s))) << op.name().str();
  }
}

TEST(Descriptions, MatMulReadsItsOperandsThroughTransposedMaps) {
  Graph g("mm");
  Builder b(g);
  Value *a = g.addArgument(f32({5, 3})), *w = g.addArgument(f32({4, 5}));
  const Op &op = *b.matmul(a, w, true, true)->definingOp();
  std::optional<StructuredOp> s = describe(op);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->str(), "stage 0: domain [3, 4, 5] parallel 2 sum -> result 0\n"
                      "  in0 = operand 0[5, 3](d2, d0)\n"
                      "  in1 = operand 1[4, 5](d1, d2)\n"
                      "  body mul(in0, in1)\n");
}

TEST(Descriptions, AVerifierCatchesAMapOutsideItsOperand) {
  Graph g("bad");
  Builder b(g);
  Value *x = g.addArgument(f32({3, 4}));
  const Op &op = *b.transpose(x, {1, 0})->definingOp();
  std::optional<StructuredOp> s = describe(op);
  ASSERT_TRUE(s.has_value());
  s->stages[0].operands[0].map[0].offset = 1; // reads row 3 of 3
  llvm::Error err = verifyStructured(op, *s);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("reads outside [3, 4]"),
            std::string::npos);
  s->stages[0].operands[0].padding = 0.0; // now a padded read
  EXPECT_FALSE(bool(verifyStructured(op, *s)));
}

namespace {

/// The description of `op` evaluated on `in`, and its reference semantics,
/// element by element, NaN equal to NaN.
void expectSameWithNaN(const Op &op, llvm::ArrayRef<HostTensor> in) {
  std::optional<StructuredOp> s = describe(op);
  ASSERT_TRUE(s.has_value());
  ASSERT_FALSE(bool(verifyStructured(op, *s)));
  std::vector<const HostTensor *> ptrs;
  for (const HostTensor &h : in)
    ptrs.push_back(&h);
  HostTensor want(op.result()->type()), got(op.result()->type());
  ASSERT_FALSE(bool(op.def().eval(op, ptrs, {&want, 1})));
  ASSERT_FALSE(bool(evaluateStructured(*s, ptrs, {&got, 1})));
  for (int64_t k = 0; k < want.size(); ++k) {
    if (std::isnan(want[k]))
      EXPECT_TRUE(std::isnan(got[k]))
          << "element " << k << " of " << op.name().str();
    else
      EXPECT_EQ(got[k], want[k])
          << "element " << k << " of " << op.name().str();
  }
}

} // namespace

TEST(Descriptions, MaxPoolingPropagatesNaNAsItsReferenceDoes) {
  // A 4x4 image, one channel: 2x2 windows with stride 1 and a padded row
  // and column after, so windows hold a NaN first, last, twice, or none,
  // and ties (the 1s) with and without a NaN beside them.
  double nan = std::numeric_limits<double>::quiet_NaN();
  HostTensor x(f32({1, 4, 4, 1}));
  x.data = {nan, 1, 1,   0,   //
            2,   1, nan, 5,   //
            1,   1, 1,   nan, //
            3,   3, 0,   -1};
  Graph g("pool");
  Builder b(g);
  Value *image = g.addArgument(x.type);
  AttrDict attrs;
  attrs.set("window", std::vector<int64_t>{2, 2});
  attrs.set("strides", std::vector<int64_t>{1, 1});
  attrs.set("padding", std::vector<int64_t>{0, 1, 0, 1});
  Value *y = b.createValue(OpKind::MaxPool2D, {image}, attrs);
  const Op &pool = *y->definingOp();
  expectSameWithNaN(pool, {x});
  // The reference: NaN wherever a window holds one.
  HostTensor pooled(y->type());
  std::vector<const HostTensor *> xs = {&x};
  ASSERT_FALSE(bool(pool.def().eval(pool, xs, {&pooled, 1})));
  EXPECT_TRUE(std::isnan(pooled[0])); // NaN first in its window
  EXPECT_TRUE(std::isnan(pooled[1])); // NaN last
  EXPECT_EQ(pooled[8], 3.0);          // ties of 1s and a 3, no NaN
  EXPECT_EQ(pooled[15], -1.0);        // the corner, padded on two sides

  HostTensor dy(y->type());
  for (int64_t k = 0; k < dy.size(); ++k)
    dy[k] = double(k + 1);
  Value *dyArg = g.addArgument(dy.type);
  Value *dx = b.createValue(OpKind::MaxPool2DGrad, {image, dyArg}, attrs);
  expectSameWithNaN(*dx->definingOp(), {x, dy});

  // Windows that tile the image (2x2, stride 2) are described without a
  // loop over covering windows; the gradient still goes to the first NaN,
  // or the first of tied maxima.
  AttrDict tiles;
  tiles.set("window", std::vector<int64_t>{2, 2});
  tiles.set("strides", std::vector<int64_t>{2, 2});
  HostTensor dyTiles(f32({1, 2, 2, 1}));
  dyTiles.data = {1, 2, 3, 4};
  Value *dyTilesArg = g.addArgument(dyTiles.type);
  Value *dxTiles =
      b.createValue(OpKind::MaxPool2DGrad, {image, dyTilesArg}, tiles);
  std::optional<StructuredOp> s = describe(*dxTiles->definingOp());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stages[1].reductionShape().size(), 0u);
  expectSameWithNaN(*dxTiles->definingOp(), {x, dyTiles});

  // Its two stages as ops, for both kinds of windows: the positions are
  // those of the first NaN or the first of tied maxima, and the scatter
  // of dy to them is max_pool2d_grad.
  for (auto [window, grad] : {std::pair{&attrs, &dy}, {&tiles, &dyTiles}}) {
    Value *positions = b.createValue(OpKind::MaxPool2DTaps, {image}, *window);
    const Op &tapsOp = *positions->definingOp();
    expectSameWithNaN(tapsOp, {x});
    HostTensor taps(positions->type());
    std::vector<const HostTensor *> in = {&x};
    ASSERT_FALSE(bool(tapsOp.def().eval(tapsOp, in, {&taps, 1})));
    Value *positionsArg = g.addArgument(taps.type);
    Value *gradArg = g.addArgument(grad->type);
    Value *scattered = b.createValue(
        OpKind::MaxPool2DScatter, {positionsArg, gradArg}, *window, {x.type});
    const Op &scatterOp = *scattered->definingOp();
    expectSameWithNaN(scatterOp, {taps, *grad});
    HostTensor viaTaps(x.type), direct(x.type);
    std::vector<const HostTensor *> scatterIn = {&taps, grad};
    ASSERT_FALSE(
        bool(scatterOp.def().eval(scatterOp, scatterIn, {&viaTaps, 1})));
    Value *gradOfPool =
        b.createValue(OpKind::MaxPool2DGrad, {image, gradArg}, *window);
    const Op &gradOp = *gradOfPool->definingOp();
    std::vector<const HostTensor *> gradIn = {&x, grad};
    ASSERT_FALSE(bool(gradOp.def().eval(gradOp, gradIn, {&direct, 1})));
    EXPECT_EQ(viaTaps.data, direct.data);
  }
}
