// A compiled step's allreduce ops, run against a communicator that acts as
// two ranks holding the same values: each exchange doubles its bucket, and
// only when the step waits for it, so that a reader placed before the wait
// reads the undoubled values. The JIT must agree with the interpreter (whose
// allreduce doubles at once) on one thread and on two, and call the
// exchange as codegen/ExchangeCalls.h says.
#include "codegen/Compiler.h"
#include "codegen/StepABI.h"
#include "ir/Parser.h"
#include "passes/MemoryPlanning.h"
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

using namespace nnc;

namespace {

class TwinRanks final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int localRank() const override { return 0; }
  int localSize() const override { return 2; }
  llvm::Error sum(llvm::MutableArrayRef<double> values) override {
    for (double &v : values)
      v *= 2;
    return llvm::Error::success();
  }
  llvm::Error broadcast(llvm::MutableArrayRef<char>) override {
    return llvm::Error::success();
  }
  llvm::Expected<std::vector<uint64_t>>
  gather(llvm::ArrayRef<uint64_t> mine) override {
    std::vector<uint64_t> all(mine.begin(), mine.end());
    all.insert(all.end(), mine.begin(), mine.end());
    return all;
  }
  StepExchange stepExchange() override { return {&exchange, this}; }
  llvm::Error takeStepError() override { return llvm::Error::success(); }
  [[noreturn]] void abortJob(int code) override { std::exit(code); }

  /// What the step asked, in order: "start 0 (12 floats)", "poll", "wait 0".
  std::vector<std::string> calls;

private:
  static void exchange(void *state, int32_t request, int32_t index, float *data,
                       int64_t count) {
    auto *self = static_cast<TwinRanks *>(state);
    switch (request) {
    case kExchangeStart:
      self->inFlight[index] = {data, count};
      self->calls.push_back("start " + std::to_string(index) + " (" +
                            std::to_string(count) + " floats)");
      break;
    case kExchangePoll:
      if (self->calls.empty() || self->calls.back() != "poll")
        self->calls.push_back("poll");
      break;
    case kExchangeWait: {
      auto [data, n] = self->inFlight.at(index);
      for (int64_t i = 0; i < n; ++i)
        data[i] *= 2;
      self->inFlight.erase(index);
      self->calls.push_back("wait " + std::to_string(index));
      break;
    }
    }
  }
  std::map<int32_t, std::pair<float *, int64_t>> inFlight;
};

// Two buckets. %a is summed in place; %b is read again after its
// allreduce (by %late, once the sums are in), so the step copies it in;
// %t reads the first bucket's sums while the second is in flight.
constexpr const char *kGraph = R"(
graph @case(%x: f32[8,16]) -> (s: f32[16], t: f32[16], u: f32[16,16], late: f32[16]) {
  %a = reduce_sum %x {axes = [0]} : f32[16]
  %b = exp %a : f32[16]
  %as, %bs = allreduce %a, %b : f32[16], f32[16]
  %c = matmul %x, %x {transpose_a = true} : f32[16,16]
  %cs = allreduce %c : f32[16,16]
  %t = add %as, %bs : f32[16]
  %late = neg %b : f32[16]
  %u = mul %cs, %cs : f32[16,16]
  %s = mul %as, %as : f32[16]
  return %s, %t, %u, %late
}
)";

struct Outcome {
  std::vector<HostTensor> results;
  std::vector<std::string> calls;
};

HostTensor input() {
  HostTensor x(TensorType(ElementType::F32, {8, 16}));
  for (int64_t i = 0; i < x.size(); ++i)
    x[i] = double(float(0.01 * double((i * 37) % 101) - 0.5));
  return x;
}

Outcome runInterpreter(const Graph &g) {
  TwinRanks ranks;
  ModelState state(StateLayout{});
  InterpreterExecutor exec(g, state, &ranks);
  HostTensor x = input();
  for (int64_t k = 0; k < x.size(); ++k)
    storeElement(exec.argument(0), ElementType::F32, k, x[k]);
  llvm::Error err = exec.run();
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  Outcome r;
  for (unsigned i = 0; i < 4; ++i)
    r.results.push_back(exec.result(i));
  return r;
}

Outcome runJit(const Module &m, unsigned threads) {
  const Graph &g = *m.graph(0);
  auto layout = llvm::cantFail(StateLayout::fromModule(m));
  auto plan = planMemory(g, layout);
  EXPECT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  auto program = CompiledProgram::compile({&g}, {&*plan}, CodegenOptions());
  EXPECT_TRUE(bool(program)) << llvm::toString(program.takeError());
  TwinRanks ranks;
  ModelState state(layout);
  auto pool = llvm::cantFail(ThreadPool::create(threads));
  JitExecutor exec(g, *(*program)->step("case"), state, *pool, &ranks);
  HostTensor x = input();
  for (int64_t k = 0; k < x.size(); ++k)
    storeElement(exec.argument(0), ElementType::F32, k, x[k]);
  llvm::Error err = exec.run();
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  Outcome r;
  for (unsigned i = 0; i < 4; ++i)
    r.results.push_back(exec.result(i));
  r.calls = ranks.calls;
  return r;
}

TEST(Exchange, JitSumsLikeTheInterpreterAndWaitsBeforeTheFirstReader) {
  DiagnosticEngine diag;
  auto m = parseModule(kGraph, "case.nnir", diag);
  ASSERT_TRUE(m);
  Outcome reference = runInterpreter(*m->graph(0));
  for (unsigned threads : {1u, 2u}) {
    Outcome jit = runJit(*m, threads);
    ASSERT_EQ(jit.results.size(), reference.results.size());
    for (size_t r = 0; r < reference.results.size(); ++r)
      for (int64_t k = 0; k < reference.results[r].size(); ++k)
        ASSERT_NEAR(jit.results[r][k], reference.results[r][k],
                    1e-6 * std::abs(reference.results[r][k]) + 1e-6)
            << "result " << r << " element " << k << " on " << threads
            << " thread(s)";
    // The first bucket is 2 x 16 floats; the second 256. The first is
    // waited for before %t, its first reader, while the second is in
    // flight; the second before %u.
    std::vector<std::string> expected = {"start 0 (32 floats)",
                                         "poll",
                                         "start 1 (256 floats)",
                                         "wait 0",
                                         "poll",
                                         "wait 1"};
    EXPECT_EQ(jit.calls, expected) << "on " << threads << " thread(s)";
  }
}

TEST(Exchange, StepWithoutCommunicatorIsRefused) {
  DiagnosticEngine diag;
  auto m = parseModule(kGraph, "case.nnir", diag);
  ASSERT_TRUE(m);
  const Graph &g = *m->graph(0);
  auto layout = llvm::cantFail(StateLayout::fromModule(*m));
  auto plan = llvm::cantFail(planMemory(g, layout));
  auto program =
      llvm::cantFail(CompiledProgram::compile({&g}, {&plan}, CodegenOptions()));
  ModelState state(layout);
  auto pool = llvm::cantFail(ThreadPool::create(1));
  JitExecutor exec(g, *program->step("case"), state, *pool);
  llvm::Error err = exec.run();
  ASSERT_TRUE(bool(err));
  EXPECT_EQ(llvm::toString(std::move(err)),
            "@case sums its gradients over the ranks of a data-parallel job, "
            "but this process is not part of one: start it with mpirun");
}

} // namespace
