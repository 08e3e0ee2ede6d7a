// The compiled e^x, e^x - 1 and tanh x (KernelBuilder::exp, expm1 and
// tanh, inline polynomials rather than libm) against the exact values
// rounded to float, over the whole range where the result is a normal
// float, and at the edges: overflow to infinity, underflow to zero, signed
// zeros, NaN, and the infinities.
#include "codegen/Compiler.h"
#include "ir/Builder.h"
#include "passes/MemoryPlanning.h"
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nnc;

namespace {

struct CompiledExp {
  std::unique_ptr<Module> module;
  std::unique_ptr<MemoryPlan> plan;
  std::unique_ptr<CompiledProgram> program;
};

/// exp (or another unary op) over `n` floats, compiled as one kernel.
CompiledExp compileExp(int64_t n, OpKind kind = OpKind::Exp) {
  CompiledExp c;
  c.module = std::make_unique<Module>();
  Graph *g = c.module->addGraph(std::make_unique<Graph>("exp"));
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, Shape{n}));
  b.ret({b.unary(kind, x)}, {"y"});
  auto plan = planMemory(*g, StateLayout{});
  EXPECT_TRUE(bool(plan));
  c.plan = std::make_unique<MemoryPlan>(std::move(*plan));
  auto program = CompiledProgram::compile({g}, {c.plan.get()}, {});
  EXPECT_TRUE(bool(program)) << llvm::toString(program.takeError());
  c.program = std::move(*program);
  return c;
}

std::vector<float> runExp(const CompiledExp &c, llvm::ArrayRef<float> xs) {
  const Graph &g = *c.module->graph(0);
  auto pool = llvm::cantFail(ThreadPool::create(1));
  ModelState state(StateLayout{});
  JitExecutor jit(g, *c.program->step("exp"), state, *pool);
  std::copy(xs.begin(), xs.end(), static_cast<float *>(jit.argument(0)));
  EXPECT_FALSE(bool(jit.run()));
  HostTensor y = jit.result(0);
  return std::vector<float>(y.data.begin(), y.data.end());
}

double ulpsBetween(float got, double exact) {
  float want = float(exact);
  float ulp =
      std::nextafter(want, std::numeric_limits<float>::infinity()) - want;
  return std::abs(double(got) - double(want)) / ulp;
}

TEST(CompiledExp, WithinAnUlpAcrossTheNormalRange) {
  constexpr int64_t n = 1 << 16;
  std::vector<float> xs(n);
  // Every input from just above ln(FLT_MIN) to just below ln(FLT_MAX).
  const double lo = -87.3, hi = 88.7;
  for (int64_t i = 0; i < n; ++i)
    xs[i] = float(lo + (hi - lo) * double(i) / double(n - 1));
  CompiledExp c = compileExp(n);
  std::vector<float> ys = runExp(c, xs);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    double u = ulpsBetween(ys[i], std::exp(double(xs[i])));
    worst = std::max(worst, u);
    ASSERT_LE(u, 1.0) << "exp(" << xs[i] << ") = " << ys[i] << ", exactly "
                      << std::exp(double(xs[i]));
  }
  RecordProperty("worst_ulps", std::to_string(worst));
}

TEST(CompiledExp, EdgesOfTheRange) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs = {0.0f, -0.0f,   1.0f,   88.72f,   88.8f, 1000.0f,
                           inf,  -87.33f, -87.4f, -1000.0f, -inf,  nan};
  CompiledExp c = compileExp(int64_t(xs.size()));
  std::vector<float> ys = runExp(c, xs);
  EXPECT_EQ(ys[0], 1.0f);
  EXPECT_EQ(ys[1], 1.0f);
  EXPECT_LE(ulpsBetween(ys[2], std::exp(1.0)), 1.0);
  EXPECT_LE(ulpsBetween(ys[3], std::exp(double(88.72f))), 1.0);
  EXPECT_EQ(ys[4], inf);
  EXPECT_EQ(ys[5], inf);
  EXPECT_EQ(ys[6], inf);
  EXPECT_LE(ulpsBetween(ys[7], std::exp(double(-87.33f))), 1.0);
  // Below the smallest normal float the result is flushed to zero, as the
  // runtime's FTZ mode does to every denormal.
  EXPECT_EQ(ys[8], 0.0f);
  EXPECT_EQ(ys[9], 0.0f);
  EXPECT_EQ(ys[10], 0.0f);
  EXPECT_TRUE(std::isnan(ys[11]));
}

/// Inputs from -hi to hi evenly, and on a log scale down to 1e-30 of
/// either sign, where expm1 and tanh must keep their relative accuracy.
std::vector<float> sweep(double hi) {
  std::vector<float> xs;
  constexpr int64_t n = 1 << 15;
  for (int64_t i = 0; i < n; ++i)
    xs.push_back(float(-hi + 2 * hi * double(i) / double(n - 1)));
  for (int64_t i = 0; i < n; ++i) {
    double mag = std::pow(10.0, -30 + 31 * double(i) / double(n - 1));
    xs.push_back(float(mag));
    xs.push_back(float(-mag));
  }
  return xs;
}

double worstUlps(OpKind kind, llvm::ArrayRef<float> xs,
                 double (*exact)(double)) {
  CompiledExp c = compileExp(int64_t(xs.size()), kind);
  std::vector<float> ys = runExp(c, xs);
  double worst = 0;
  float at = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    double u = ulpsBetween(ys[i], exact(double(xs[i])));
    if (u > worst)
      worst = u, at = xs[i];
  }
  ::testing::Test::RecordProperty("worst_ulps", std::to_string(worst));
  ::testing::Test::RecordProperty("worst_at", std::to_string(at));
  return worst;
}

TEST(CompiledExpm1, WithinTwoUlps) {
  EXPECT_LE(worstUlps(OpKind::Expm1, sweep(88.7),
                      [](double x) { return std::expm1(x); }),
            2.0);
}

TEST(CompiledTanh, WithinTwoUlps) {
  EXPECT_LE(worstUlps(OpKind::Tanh, sweep(12.0),
                      [](double x) { return std::tanh(x); }),
            2.0);
}

TEST(CompiledExpm1AndTanh, Edges) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs = {0.0f, -0.0f, 40.5f, 88.8f, inf, -40.5f, -inf, nan};
  std::vector<float> e =
      runExp(compileExp(int64_t(xs.size()), OpKind::Expm1), xs);
  EXPECT_EQ(e[0], 0.0f);
  EXPECT_FALSE(std::signbit(e[0]));
  EXPECT_TRUE(std::signbit(e[1]));
  EXPECT_LE(ulpsBetween(e[2], std::expm1(40.5)), 1.0);
  EXPECT_EQ(e[3], inf);
  EXPECT_EQ(e[4], inf);
  EXPECT_EQ(e[5], -1.0f);
  EXPECT_EQ(e[6], -1.0f);
  EXPECT_TRUE(std::isnan(e[7]));
  std::vector<float> t =
      runExp(compileExp(int64_t(xs.size()), OpKind::Tanh), xs);
  EXPECT_EQ(t[0], 0.0f);
  EXPECT_FALSE(std::signbit(t[0]));
  EXPECT_TRUE(std::signbit(t[1]));
  EXPECT_EQ(t[2], 1.0f);
  EXPECT_EQ(t[4], 1.0f);
  EXPECT_EQ(t[5], -1.0f);
  EXPECT_EQ(t[6], -1.0f);
  EXPECT_TRUE(std::isnan(t[7]));
}

} // namespace
