// Structural rules that text cannot express (the parser resolves names in
// order), checked on graphs built through the API.
#include "ir/Verifier.h"
#include "ir/Builder.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {
std::vector<std::string> verifyErrors(const Graph &g) {
  DiagnosticEngine diag;
  std::vector<std::string> out;
  diag.setHandler([&](const Diagnostic &d) {
    if (d.severity == Severity::Error)
      out.push_back(d.message);
  });
  (void)verify(g, diag);
  return out;
}
} // namespace

TEST(Verifier, AcceptsAWellFormedGraph) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *w = b.param("w", TensorType(ElementType::F32, {4}), "ones");
  b.assign(w, b.add(w, x));
  b.ret({b.exp(x)}, {"out"});
  EXPECT_TRUE(verifyErrors(g).empty());
}

TEST(Verifier, ReportsACycle) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *a = b.exp(x);
  Value *c = b.neg(a);
  // a = exp(c), c = neg(a): a cycle, so some operand is used before it is
  // defined.
  a->definingOp()->setOperand(0, c);
  b.ret({c}, {"out"});
  auto errors = verifyErrors(g);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "'exp' op operand #0 is used before it is defined");
}

TEST(Verifier, ReportsOperandsFromAnotherGraph) {
  Graph g1("g1"), g2("g2");
  Builder b1(g1), b2(g2);
  Value *x = g1.addArgument(TensorType(ElementType::F32, {}), "x");
  b2.ret({b2.exp(x)}, {"out"});
  auto errors = verifyErrors(g2);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "'exp' op operand #0 is defined outside this graph");
}

TEST(Verifier, ReportsMissingReturn) {
  Graph g("g");
  Builder b(g);
  b.exp(g.addArgument(TensorType(ElementType::F32, {}), "x"));
  auto errors = verifyErrors(g);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "graph '@g' must end in 'return'");
}

TEST(Verifier, ReportsTypeChangedBehindTheBuildersBack) {
  Graph g("g");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *y = b.exp(x);
  y->setType(TensorType(ElementType::F32, {5}));
  b.ret({y}, {"out"});
  auto errors = verifyErrors(g);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "'exp' op result #0 has type f32[5] but the op produces f32[4]");
}
