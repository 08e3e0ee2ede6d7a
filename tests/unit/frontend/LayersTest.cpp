// The layer table and Keras-style naming: one counter per layer kind, in
// order of appearance; name= overrides without consuming a number; a dense
// layer builds exactly the ops of its spelled-out form.
#include "frontend/Layers.h"
#include "frontend/Frontend.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

/// Parses and lowers `text`; fails the test on any diagnostic.
std::unique_ptr<Graph> lower(llvm::StringRef text, int64_t batch = 4) {
  DiagnosticEngine diag;
  std::vector<std::string> messages;
  diag.setHandler([&](const Diagnostic &d) {
    messages.push_back(d.loc.str() + ": " + d.message);
  });
  auto file = parseModelFile(text, "model.nn", diag);
  std::unique_ptr<Graph> graph;
  if (file)
    graph = lowerModel(*file, batch, diag);
  for (const std::string &m : messages)
    ADD_FAILURE() << m;
  return graph;
}

std::vector<std::string> paramNames(const Graph &g) {
  std::vector<std::string> names;
  for (const Op &op : g.ops())
    if (op.is(OpKind::Param))
      names.push_back(variableName(op).str());
  return names;
}

} // namespace

TEST(LayerNamer, CountsPerKind) {
  nn::LayerNamer namer;
  EXPECT_EQ(namer.next("dense"), "dense_1");
  EXPECT_EQ(namer.next("dense"), "dense_2");
  EXPECT_EQ(namer.next("flatten"), "flatten_1");
  EXPECT_EQ(namer.next("dense"), "dense_3");
  EXPECT_EQ(namer.next("conv2d"), "conv2d_1");
}

TEST(LayerTable, DescribesEachLayer) {
  const nn::LayerDef *dense = nn::lookupLayer("dense");
  ASSERT_TRUE(dense);
  EXPECT_EQ(dense->signature().str(), "dense(x, units, activation=, name=)");
  const nn::LayerDef *flatten = nn::lookupLayer("flatten");
  ASSERT_TRUE(flatten);
  EXPECT_EQ(flatten->signature().str(), "flatten(x, name=)");
  EXPECT_EQ(nn::lookupLayer("relu"), nullptr);
  for (const nn::LayerDef &layer : nn::allLayers()) {
    EXPECT_TRUE(layer.build) << layer.kind.str();
    EXPECT_FALSE(layer.summary.empty()) << layer.kind.str();
  }
}

TEST(LayerNaming, AutomaticNamesInOrderOfAppearance) {
  auto g = lower(R"(
    model m {
      input x: f32[batch, 6]
      a = dense(x, 5)
      b = dense(a, 4, name="middle")
      c = dense(b, 3)
      d = flatten(c)
      e = dense(d, 2)
      loss mean_squared_error(e, 0)
    })");
  ASSERT_TRUE(g);
  EXPECT_EQ(paramNames(*g),
            (std::vector<std::string>{"dense_1.weight", "dense_1.bias",
                                      "middle.weight", "middle.bias",
                                      "dense_2.weight", "dense_2.bias",
                                      "dense_3.weight", "dense_3.bias"}));
}

TEST(LayerNaming, ParametersAreShapedByTheirInput) {
  auto g = lower(R"(
    model m {
      input x: f32[batch, 7]
      h = dense(x, 5)
      loss mean_squared_error(h, 0)
    })");
  ASSERT_TRUE(g);
  Op &weight = g->front();
  ASSERT_TRUE(weight.is(OpKind::Param));
  EXPECT_EQ(weight.result()->type().str(), "f32[7,5]");
  EXPECT_EQ(weight.attrs().getString("init"), "glorot_uniform");
  Op *bias = weight.nextOp();
  EXPECT_EQ(bias->result()->type().str(), "f32[5]");
  EXPECT_EQ(bias->attrs().getString("init"), "zeros");
}

TEST(LayerNaming, DenseIsSugarOverParamAndPrimitives) {
  const char *withLayers = R"(
    model m {
      input x: f32[batch, 3, 2]
      h = flatten(x)
      h = dense(h, 4, activation=sigmoid)
      out = dense(h, 2, activation=tanh, name="head")
      loss mean_squared_error(out, 0)
    })";
  const char *spelledOut = R"(
    model m {
      input x: f32[batch, 3, 2]
      w = param([6, 4], name="dense_1.weight")
      b = param([4], init=zeros, name="dense_1.bias")
      hw = param([4, 2], init=glorot_uniform, name="head.weight")
      hb = param([2], init=zeros, name="head.bias")
      h = reshape(x, [batch, -1])
      h = sigmoid(h @ w + b)
      out = tanh(matmul(h, hw) + hb)
      loss mean_squared_error(out, 0)
    })";
  auto a = lower(withLayers), b = lower(spelledOut);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(toString(*a), toString(*b));
}
