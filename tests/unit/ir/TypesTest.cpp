#include "ir/Types.h"
#include "ir/Attributes.h"
#include "ir/Initializer.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nnc;

TEST(Types, ElementTypeNamesRoundTrip) {
  for (ElementType t : {ElementType::F32, ElementType::F64, ElementType::I32,
                        ElementType::I1, ElementType::U8})
    EXPECT_EQ(parseElementType(elementTypeName(t)), t);
  EXPECT_FALSE(parseElementType("f16").has_value());
  EXPECT_EQ(elementByteSize(ElementType::F32), 4u);
  EXPECT_EQ(elementByteSize(ElementType::U8), 1u);
  EXPECT_TRUE(isFloat(ElementType::F64));
  EXPECT_FALSE(isFloat(ElementType::I32));
}

TEST(Types, TensorTypeBasics) {
  TensorType t(ElementType::F32, {32, 784});
  EXPECT_EQ(t.rank(), 2u);
  EXPECT_EQ(t.numElements(), 32 * 784);
  EXPECT_EQ(t.byteSize(), 32 * 784 * 4);
  EXPECT_EQ(t.str(), "f32[32,784]");
  TensorType scalar(ElementType::I32, {});
  EXPECT_TRUE(scalar.isScalar());
  EXPECT_EQ(scalar.numElements(), 1);
  EXPECT_EQ(scalar.str(), "i32[]");
  EXPECT_EQ(t.withElement(ElementType::I1).str(), "i1[32,784]");
  EXPECT_NE(t, t.withShape({784, 32}));
}

TEST(Types, BroadcastFollowsNumPy) {
  EXPECT_EQ(*broadcastShapes({32, 128}, {128}), Shape({32, 128}));
  EXPECT_EQ(*broadcastShapes({32, 1}, {1, 10}), Shape({32, 10}));
  EXPECT_EQ(*broadcastShapes({}, {3, 4}), Shape({3, 4}));
  EXPECT_EQ(*broadcastShapes({2, 1, 4}, {3, 1}), Shape({2, 3, 4}));
  EXPECT_FALSE(broadcastShapes({32, 128}, {10}).has_value());
  EXPECT_FALSE(broadcastShapes({2, 3}, {3, 2}).has_value());
}

TEST(Types, StridesAndAxes) {
  EXPECT_EQ(rowMajorStrides({2, 3, 4}), Shape({12, 4, 1}));
  EXPECT_EQ(rowMajorStrides({}), Shape({}));
  EXPECT_EQ(normalizeAxis(-1, 3), 2u);
  EXPECT_EQ(normalizeAxis(2, 3), 2u);
  EXPECT_FALSE(normalizeAxis(3, 3).has_value());
  EXPECT_FALSE(normalizeAxis(-4, 3).has_value());
}

TEST(Attributes, FloatsPrintSoThatTheyParseBackExactly) {
  auto text = [](double d) { return Attribute(d).str(); };
  EXPECT_EQ(text(1.0), "1.0");
  EXPECT_EQ(text(-2.5), "-2.5");
  EXPECT_EQ(text(1e-7), "1e-07");
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(INFINITY), "inf");
  for (double d : {0.1, 1.0 / 3.0, 1e-300, 123456789.123, 0.999})
    EXPECT_EQ(std::stod(text(d)), d);
}

TEST(Attributes, CoercionOnlyWhereLossless) {
  Attribute i(int64_t(3));
  EXPECT_TRUE(i.coerceTo(AttrKind::Float));
  EXPECT_EQ(i.getFloat(), 3.0);
  Attribute list(std::vector<int64_t>{1, 2});
  EXPECT_TRUE(list.coerceTo(AttrKind::FloatList));
  EXPECT_EQ(list.getFloatList(), std::vector<double>({1.0, 2.0}));
  Attribute f(2.5);
  EXPECT_FALSE(f.coerceTo(AttrKind::Int));
  Attribute s("x");
  EXPECT_FALSE(s.coerceTo(AttrKind::IntList));
}

TEST(Attributes, StringsEscapeQuotesAndBytes) {
  EXPECT_EQ(Attribute("a\"b\\c\n").str(), "\"a\\\"b\\\\c\\0A\"");
}

TEST(Initializer, ParsesAndPrintsEachKind) {
  for (const char *text : {"zeros", "ones", "constant(0.5)", "uniform(-1, 1)",
                           "normal(0.05)", "normal(1, 0.5)", "glorot_uniform",
                           "glorot_normal", "he_uniform", "he_normal"}) {
    auto init = parseInitializer(text);
    ASSERT_TRUE(bool(init)) << text;
    EXPECT_EQ(init->str(), text);
  }
}

TEST(Initializer, RejectsBadSpellings) {
  for (const char *text : {"xavier", "normal", "normal(-1)", "uniform(1, 0)",
                           "constant(a)", "zeros(1)", "normal(0.1"}) {
    auto init = parseInitializer(text);
    EXPECT_FALSE(bool(init)) << text;
    llvm::consumeError(init.takeError());
  }
}

TEST(Initializer, FansFollowKeras) {
  EXPECT_EQ(computeFans({784, 128}), std::make_pair(784.0, 128.0));
  EXPECT_EQ(computeFans({3, 3, 16, 32}), std::make_pair(144.0, 288.0));
  EXPECT_EQ(computeFans({10}), std::make_pair(10.0, 10.0));
}
