// The reference semantics of the image ops on inputs small enough to check
// by hand, the conventions they follow (TensorFlow's padding, pooling that
// ignores the padding, the first maximum receiving the gradient), and the
// counter-based generator's numbers against ir/CounterRandom.h's formula.
#include "ir/Builder.h"
#include "ir/CounterRandom.h"
#include "ir/HostTensor.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace nnc;

namespace {

HostTensor tensor(Shape shape, std::vector<double> values) {
  return HostTensor(TensorType(ElementType::F32, shape), std::move(values));
}

/// 1, 2, 3, ... in a tensor of `shape`.
HostTensor iota(Shape shape) {
  HostTensor t(TensorType(ElementType::F32, shape));
  std::iota(t.data.begin(), t.data.end(), 1.0);
  return t;
}

AttrDict windowAttrs(std::vector<int64_t> strides,
                     std::vector<int64_t> padding) {
  AttrDict attrs;
  attrs.set("strides", strides);
  attrs.set("padding", padding);
  return attrs;
}

/// Runs the reference semantics of one op on `inputs`.
HostTensor evalOp(OpKind kind, std::vector<HostTensor> inputs, AttrDict attrs,
                  std::vector<TensorType> declared = {}) {
  Module m;
  Graph *g = m.addGraph(std::make_unique<Graph>("g"));
  Builder b(*g);
  std::vector<Value *> operands;
  std::vector<const HostTensor *> in;
  for (const HostTensor &t : inputs) {
    operands.push_back(g->addArgument(t.type));
    in.push_back(&t);
  }
  auto op = b.tryCreate(kind, operands, std::move(attrs), declared);
  if (!op) {
    ADD_FAILURE() << llvm::toString(op.takeError());
    return {};
  }
  std::vector<HostTensor> out{HostTensor((*op)->result()->type())};
  llvm::Error err = getOpDef(kind).eval(**op, in, out);
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  return out[0];
}

std::string typeError(OpKind kind, std::vector<TensorType> operandTypes,
                      AttrDict attrs, std::vector<TensorType> declared = {}) {
  auto types = checkSignature(getOpDef(kind), operandTypes, attrs, declared);
  if (types)
    return "no error";
  return llvm::toString(types.takeError());
}

TEST(ImageOps, ConvolutionOfAKnownImage) {
  // [1 2 3; 4 5 6; 7 8 9] with the filter [1 2; 3 4].
  HostTensor x = iota({1, 3, 3, 1}), w = iota({2, 2, 1, 1});
  HostTensor valid = evalOp(OpKind::Conv2D, {x, w}, {});
  EXPECT_EQ(valid.type.str(), "f32[1,2,2,1]");
  EXPECT_EQ(valid.data, (std::vector<double>{37, 47, 67, 77}));
  // padding="same" for a 2x2 filter pads one row below and one column to
  // the right, as TensorFlow does.
  HostTensor same =
      evalOp(OpKind::Conv2D, {x, w}, windowAttrs({1, 1}, {0, 1, 0, 1}));
  EXPECT_EQ(same.data,
            (std::vector<double>{37, 47, 3 + 3 * 6, 67, 77, 6 + 3 * 9,
                                 7 + 2 * 8, 8 + 2 * 9, 9}));
  // Stride 2 over the image padded by one all round: the first window
  // holds only the image's corner, under the filter's 4.
  HostTensor strided =
      evalOp(OpKind::Conv2D, {x, w}, windowAttrs({2, 2}, {1, 1, 1, 1}));
  EXPECT_EQ(strided.data, (std::vector<double>{4, 2 * 3 + 3 * 4, 4 * 2 + 7 * 4,
                                               5 + 6 * 2 + 8 * 3 + 9 * 4}));
  // Dilation 2 spreads the filter over the corners.
  AttrDict dilated;
  dilated.set("dilations", std::vector<int64_t>{2, 2});
  EXPECT_EQ(evalOp(OpKind::Conv2D, {x, w}, dilated).data,
            (std::vector<double>{1 + 2 * 3 + 3 * 7 + 4 * 9}));
}

TEST(ImageOps, ConvolutionMixesChannels) {
  // Two input channels into three output channels, a 1x1 filter: a matrix
  // product per pixel.
  HostTensor x = tensor({1, 1, 2, 2}, {1, 2, 3, 4});
  HostTensor w = tensor({1, 1, 2, 3}, {1, 0, 2, 0, 1, 3});
  EXPECT_EQ(evalOp(OpKind::Conv2D, {x, w}, {}).data,
            (std::vector<double>{1, 2, 8, 3, 4, 18}));
}

TEST(ImageOps, InputGradientSendsEachTapBack) {
  // With stride 2 and a 1x1 filter the input's odd rows and columns read
  // nothing, so their gradient is zero.
  HostTensor dy = tensor({1, 2, 2, 1}, {1, 2, 3, 4});
  HostTensor w = tensor({1, 1, 1, 1}, {10});
  AttrDict attrs = windowAttrs({2, 2}, {0, 0, 0, 0});
  HostTensor dx = evalOp(OpKind::Conv2DBackpropInput, {dy, w}, attrs,
                         {TensorType(ElementType::F32, {1, 4, 4, 1})});
  EXPECT_EQ(dx.data, (std::vector<double>{10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40,
                                          0, 0, 0, 0, 0}));
  HostTensor x = iota({1, 4, 4, 1});
  HostTensor dw = evalOp(OpKind::Conv2DBackpropFilter, {x, dy}, attrs,
                         {TensorType(ElementType::F32, {1, 1, 1, 1})});
  EXPECT_EQ(dw.data, (std::vector<double>{1 * 1 + 3 * 2 + 9 * 3 + 11 * 4}));
}

TEST(ImageOps, PoolingIgnoresThePadding) {
  HostTensor x = iota({1, 3, 3, 1});
  AttrDict attrs = windowAttrs({2, 2}, {0, 1, 0, 1});
  attrs.set("window", std::vector<int64_t>{2, 2});
  EXPECT_EQ(evalOp(OpKind::AvgPool2D, {x}, attrs).data,
            (std::vector<double>{3, 4.5, 7.5, 9}));
  EXPECT_EQ(evalOp(OpKind::MaxPool2D, {x}, attrs).data,
            (std::vector<double>{5, 6, 8, 9}));
  // The gradient of an edge window is shared by the elements it averaged.
  HostTensor dx = evalOp(OpKind::AvgPool2DGrad,
                         {tensor({1, 2, 2, 1}, {4, 2, 2, 1})}, attrs, {x.type});
  EXPECT_EQ(dx.data, (std::vector<double>{1, 1, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(ImageOps, MaxPoolingGradientGoesToTheFirstMaximum) {
  AttrDict attrs = windowAttrs({2, 2}, {0, 0, 0, 0});
  attrs.set("window", std::vector<int64_t>{2, 2});
  // Ties: the first maximum in row-major order takes all of it, once.
  HostTensor x = tensor({1, 2, 4, 1}, {5, 5, 1, 3, 5, 5, 3, 2});
  HostTensor dy = tensor({1, 1, 2, 1}, {7, 9});
  EXPECT_EQ(evalOp(OpKind::MaxPool2DGrad, {x, dy}, attrs).data,
            (std::vector<double>{7, 0, 0, 9, 0, 0, 0, 0}));
  // Overlapping windows both pick the shared maximum: its gradients add.
  AttrDict overlapping = attrs;
  overlapping.set("strides", std::vector<int64_t>{1, 1});
  HostTensor peak = tensor({1, 2, 3, 1}, {0, 9, 0, 0, 0, 0});
  EXPECT_EQ(evalOp(OpKind::MaxPool2DGrad, {peak, tensor({1, 1, 2, 1}, {1, 2})},
                   overlapping)
                .data,
            (std::vector<double>{0, 3, 0, 0, 0, 0}));
}

TEST(ImageOps, TypeErrorsNameTheShapes) {
  TensorType image(ElementType::F32, {2, 5, 5, 3});
  TensorType filter(ElementType::F32, {7, 7, 3, 4});
  EXPECT_EQ(typeError(OpKind::Conv2D, {image, filter}, {}),
            "the 7x7 window of the filter f32[7,7,3,4] is larger than the "
            "input f32[2,5,5,3]");
  EXPECT_EQ(typeError(OpKind::Conv2D, {image, filter},
                      windowAttrs({1, 1}, {0, 1, 0, 1})),
            "the 7x7 window of the filter f32[7,7,3,4] is larger than the "
            "input f32[2,5,5,3] padded to 6x6");
  EXPECT_EQ(typeError(OpKind::Conv2D,
                      {TensorType(ElementType::F32, {5, 5, 3}), filter}, {}),
            "the input must be NHWC [batch, height, width, channels], got "
            "f32[5,5,3] of rank 3");
  EXPECT_EQ(typeError(OpKind::Conv2D,
                      {image, TensorType(ElementType::F32, {3, 3, 2, 4})}, {}),
            "the input f32[2,5,5,3] has 3 channels but the filter "
            "f32[3,3,2,4] expects 2");
  EXPECT_EQ(typeError(OpKind::Conv2D,
                      {image, TensorType(ElementType::F32, {3, 3, 3, 4})},
                      windowAttrs({0, 1}, {0, 0, 0, 0})),
            "'strides' must be positive, got [0, 1]");
  AttrDict pool = windowAttrs({1, 1}, {2, 0, 0, 0});
  pool.set("window", std::vector<int64_t>{2, 2});
  EXPECT_EQ(typeError(OpKind::MaxPool2D, {image}, pool),
            "padding [2, 0, 0, 0] must be smaller than the 2x2 window on "
            "each side, so that every window covers an element of the input");
  EXPECT_EQ(typeError(OpKind::Conv2DBackpropInput,
                      {TensorType(ElementType::F32, {2, 4, 4, 4}),
                       TensorType(ElementType::F32, {3, 3, 3, 4})},
                      {}, {image}),
            "the output gradient f32[2,4,4,4] does not match the "
            "f32[2,3,3,4] that conv2d gives for the input f32[2,5,5,3] and "
            "the filter f32[3,3,3,4]");
}

TEST(ImageOps, RandomUniformFollowsTheDocumentedFormula) {
  // The values below come from the formula in ir/CounterRandom.h evaluated
  // in Python's integers, independently of the C++.
  uint32_t key = counter_random::key(42, 3);
  const uint32_t expected[] = {9609048, 16382062, 2392859, 4077872};
  for (uint64_t i = 0; i < 4; ++i)
    EXPECT_EQ(counter_random::bits(key, i) >> 8, expected[i]) << i;
  EXPECT_EQ(counter_random::bits(counter_random::key(-1, 0), 0) >> 8, 6559818u);
  EXPECT_EQ(counter_random::bits(counter_random::key(int64_t(1) << 40, 7), 2) >>
                8,
            915729u);

  AttrDict attrs;
  attrs.set("seed", int64_t(42));
  HostTensor step(TensorType(ElementType::I32, {}), {3});
  HostTensor u = evalOp(OpKind::RandomUniform, {step}, attrs,
                        {TensorType(ElementType::F32, {2, 2})});
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_EQ(u[i], expected[i] * 0x1.0p-24);
}

TEST(ImageOps, RandomUniformIsUniformAndChangesWithTheStep) {
  AttrDict attrs;
  attrs.set("seed", int64_t(7));
  TensorType type(ElementType::F32, {100000});
  auto draw = [&](double stepValue) {
    HostTensor step(TensorType(ElementType::I32, {}), {stepValue});
    return evalOp(OpKind::RandomUniform, {step}, attrs, {type});
  };
  HostTensor first = draw(1), again = draw(1), second = draw(2);
  EXPECT_EQ(first.data, again.data);
  double mean = 0;
  int64_t same = 0, kept = 0, keptBoth = 0;
  for (int64_t i = 0; i < first.size(); ++i) {
    ASSERT_GE(first[i], 0.0);
    ASSERT_LT(first[i], 1.0);
    mean += first[i] / double(first.size());
    same += first[i] == second[i];
    kept += first[i] >= 0.5;
    keptBoth += first[i] >= 0.5 && second[i] >= 0.5;
  }
  // The standard error of the mean is 0.29 / sqrt(1e5) ~ 0.001.
  EXPECT_NEAR(mean, 0.5, 0.005);
  EXPECT_LT(same, 10);
  // Masks of consecutive steps are independent: a quarter kept in both.
  EXPECT_NEAR(double(kept) / first.size(), 0.5, 0.005);
  EXPECT_NEAR(double(keptBoth) / first.size(), 0.25, 0.005);
}

} // namespace
