// The compiled e^x (KernelBuilder::exp, an inline polynomial rather than
// libm) against the exact value rounded to float, over the whole range
// where the result is a normal float, and at the edges: overflow to
// infinity, underflow to zero, NaN, and the infinities.
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

/// exp over `n` floats, compiled as one kernel.
CompiledExp compileExp(int64_t n) {
  CompiledExp c;
  c.module = std::make_unique<Module>();
  Graph *g = c.module->addGraph(std::make_unique<Graph>("exp"));
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, Shape{n}));
  b.ret({b.unary(OpKind::Exp, x)}, {"y"});
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

} // namespace
