// The optimizer passes against their update formulas computed by hand.
#include "ir/Builder.h"
#include "passes/PassManager.h"
#include "passes/Passes.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nnc;

namespace {

/// loss = sum(p * c), so d loss / d p = c, whatever p is.
std::unique_ptr<Module> linearLoss(llvm::ArrayRef<double> c) {
  auto m = std::make_unique<Module>();
  Graph *g = m->addGraph(std::make_unique<Graph>("linear"));
  Builder b(*g);
  TensorType type(ElementType::F32, {int64_t(c.size())});
  Value *p = b.param("p", type, "zeros");
  AttrDict attrs;
  attrs.set("values", std::vector<double>(c.begin(), c.end()));
  Value *cv = b.createValue(OpKind::Constant, {}, std::move(attrs), {type});
  b.ret({b.reduceSum(b.mul(p, cv), {0})}, {"loss"});
  return m;
}

void runPipeline(Module &m, llvm::StringRef pipeline) {
  DiagnosticEngine diag;
  PassManager pm(diag);
  auto passes = PassRegistry::global().parsePipeline(pipeline);
  ASSERT_TRUE(bool(passes)) << llvm::toString(passes.takeError());
  pm.addPasses(std::move(*passes));
  ASSERT_TRUE(llvm::succeeded(pm.run(m)));
}

void step(const Graph &g, VariableValues &vars) {
  auto r = interpret(g, {}, vars, Precision::F64);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
}

HostTensor vec(std::vector<double> v) {
  return HostTensor(TensorType(ElementType::F32, {int64_t(v.size())}), v);
}

} // namespace

TEST(Adam, TwoStepsMatchTheClosedForm) {
  const std::vector<double> g = {0.5, -2.0, 1e-3}, p0 = {1.0, -2.0, 0.5};
  // The graph holds its hyper-parameters as f32 constants (0.9 is 0.9f and
  // 1 - 0.9 is 0.1f); the interpreter computes in double. The closed form
  // uses the same constants, so the two agree to double rounding; its bias
  // corrections use the exact betas, which the graph's -expm1(t ln beta)
  // (ln beta rounded to f32) matches to a few parts in 1e8.
  auto f32 = [](double d) { return double(float(d)); };
  const double lr = f32(0.01), b1 = f32(0.9), b2 = f32(0.999),
               c1 = f32(1 - 0.9), c2 = f32(1 - 0.999), eps = f32(1e-7);
  auto m = linearLoss(g);
  runPipeline(*m, "autodiff,adam{lr=0.01},canonicalize,cse,dce");
  VariableValues vars;
  vars["p"] = vec(p0);
  vars["adam.m.p"] = vec({0, 0, 0});
  vars["adam.v.p"] = vec({0, 0, 0});
  vars["adam.step"] = HostTensor(TensorType(ElementType::I32, {}), {0});

  std::vector<double> p = p0, mom(3, 0), vel(3, 0);
  for (int t = 1; t <= 2; ++t) {
    step(*m->graph(0), vars);
    double alpha =
        lr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 3; ++i) {
      mom[i] = b1 * mom[i] + c1 * f32(g[i]);
      vel[i] = b2 * vel[i] + c2 * (f32(g[i]) * f32(g[i]));
      p[i] -= alpha * mom[i] / (std::sqrt(vel[i]) + eps);
    }
    EXPECT_EQ(vars["adam.step"][0], t);
    auto near = [](double got, double want) {
      EXPECT_NEAR(got, want, 1e-7 * std::abs(want));
    };
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE("step " + std::to_string(t) + ", element " +
                   std::to_string(i));
      near(vars["p"][i], p[i]);
      near(vars["adam.m.p"][i], mom[i]);
      near(vars["adam.v.p"][i], vel[i]);
    }
  }
  // After one step Adam moves each weight by about lr against its gradient's
  // sign, whatever the gradient's size.
  EXPECT_NEAR(p0[1] - vars["p"][1], -2 * 0.01, 2e-4);
}

// In f32, as the JIT computes it, the step is the formula's to float
// rounding: the bias corrections do not inherit the rounding of beta2 to
// f32 (0.999f is 0.99900001), which made 1 - beta2^t, and so every step,
// 1.3e-5 (relative) off.
TEST(Adam, BiasCorrectionsAreExactInF32) {
  const std::vector<double> g = {0.5, -2.0, 3.0};
  auto m = linearLoss(g);
  runPipeline(*m, "autodiff,adam{lr=0.01},canonicalize,cse,dce");
  VariableValues vars;
  vars["p"] = vec({0, 0, 0});
  vars["adam.m.p"] = vec({0, 0, 0});
  vars["adam.v.p"] = vec({0, 0, 0});
  vars["adam.step"] = HostTensor(TensorType(ElementType::I32, {}), {0});
  auto r = interpret(*m->graph(0), {}, vars, Precision::F32);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  for (int i = 0; i < 3; ++i) {
    // One step from zero moments: alpha * (1 - b1) g / (sqrt((1 - b2) g^2)
    // + eps), with alpha = lr sqrt(1 - b2) / (1 - b1).
    double c1 = float(0.1), c2 = float(0.001), gi = g[i];
    double want = -0.01 * std::sqrt(0.001) / 0.1 * c1 * gi /
                  (std::sqrt(c2 * gi * gi) + double(float(1e-7)));
    EXPECT_NEAR(vars["p"][i], want, 3e-7 * std::abs(want)) << "element " << i;
  }
}

TEST(SGD, MomentumMatchesKerasFormula) {
  const std::vector<double> g = {1.0, -0.5}, p0 = {0.25, 2.0};
  auto m = linearLoss(g);
  runPipeline(*m, "autodiff,sgd{lr=0.1,momentum=0.9},canonicalize,cse,dce");
  VariableValues vars;
  vars["p"] = vec(p0);
  vars["sgd.velocity.p"] = vec({0, 0});
  std::vector<double> p = p0, v(2, 0);
  for (int t = 1; t <= 3; ++t) {
    step(*m->graph(0), vars);
    for (int i = 0; i < 2; ++i) {
      v[i] = 0.9 * v[i] - 0.1 * g[i];
      p[i] += v[i];
      EXPECT_NEAR(vars["p"][i], p[i], 1e-7) << "step " << t;
    }
  }
}

TEST(SGD, WithoutMomentumKeepsNoState) {
  auto m = linearLoss({1.0, 2.0});
  runPipeline(*m, "autodiff,sgd{lr=0.5},canonicalize,cse,dce");
  for (const Op &op : m->graph(0)->ops())
    EXPECT_FALSE(op.is(OpKind::State));
  VariableValues vars;
  vars["p"] = vec({0, 0});
  step(*m->graph(0), vars);
  EXPECT_NEAR(vars["p"][0], -0.5, 1e-9);
  EXPECT_NEAR(vars["p"][1], -1.0, 1e-9);
}

TEST(Optimizers, RefuseAModuleWithoutGradients) {
  auto m = linearLoss({1.0});
  DiagnosticEngine diag;
  std::vector<std::string> errors;
  diag.setHandler([&](const Diagnostic &d) { errors.push_back(d.message); });
  EXPECT_TRUE(llvm::failed(createAdamPass()->run(*m, diag)));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "'adam' needs gradients: run 'autodiff' first");
  for (const Op &op : m->graph(0)->ops())
    EXPECT_FALSE(op.is(OpKind::Assign));
}
