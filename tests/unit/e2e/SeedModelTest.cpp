// The seed model trained by the interpreter and by the JIT, on MNIST when
// it is present (scripts/fetch-data.sh) and on a synthetic separable set
// otherwise.
#include "tests/unit/e2e/SeedModel.h"
#include "runtime/Training.h"
#include "tools/common/TrainingPipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>

#include "llvm/Support/FileSystem.h"

using namespace nnc;

namespace {

bool haveMnist() {
  return llvm::sys::fs::exists(std::string(NNC_MNIST_DIR) +
                               "/train-images-idx3-ubyte");
}

ImageDataset loadData() {
  if (haveMnist()) {
    auto data = loadDataset(NNC_MNIST_DIR, "");
    EXPECT_TRUE(bool(data)) << llvm::toString(data.takeError());
    return std::move(*data);
  }
  SyntheticOptions opts;
  opts.trainCount = 6400;
  opts.testCount = 1000;
  auto data = makeSyntheticDataset(opts);
  EXPECT_TRUE(bool(data));
  return std::move(*data);
}

struct Compiled {
  std::unique_ptr<TrainingProgram> program;
  std::unique_ptr<CompiledProgram> code;
};

Compiled compileModel(std::unique_ptr<Graph> (*model)(int64_t), int64_t batch,
                      bool fusion = true,
                      CodegenOptions codegen = CodegenOptions()) {
  DiagnosticEngine diag;
  PipelineOptions opts;
  opts.batch = batch;
  opts.fusion = fusion;
  Compiled c;
  c.program = buildTrainingProgram(model, opts, diag);
  EXPECT_TRUE(c.program);
  auto code = compileTrainingProgram(*c.program, codegen);
  EXPECT_TRUE(bool(code)) << llvm::toString(code.takeError());
  c.code = std::move(*code);
  return c;
}

Compiled compileSeed(int64_t batch, bool fusion = true,
                     CodegenOptions codegen = CodegenOptions()) {
  return compileModel([](int64_t b) { return test::seedModel(b); }, batch,
                      fusion, codegen);
}

/// Runs the executors on the same batches of the training set, in file
/// order, calling `check(step)` after each step.
void runInLockstep(const ImageDataset &data,
                   std::initializer_list<GraphExecutor *> executors,
                   int64_t steps, llvm::function_ref<void(int64_t)> check,
                   int64_t batch = 32) {
  std::vector<int64_t> order = fileOrder(data.size(Split::Train));
  for (int64_t s = 0; s < steps; ++s) {
    BatchRange r{s * batch, (s + 1) * batch};
    for (GraphExecutor *e : executors) {
      data.fillBatch(Split::Train, order, r,
                     static_cast<float *>(e->argument(0)),
                     static_cast<int32_t *>(e->argument(1)));
      ASSERT_FALSE(bool(e->run()));
    }
    check(s);
  }
}

struct Difference {
  double largest = 0;      ///< of |x - y|
  double largestValue = 0; ///< of |y|
};

Difference differenceOf(const HostTensor &x, const HostTensor &y) {
  Difference d;
  for (int64_t i = 0; i < x.size(); ++i) {
    d.largest = std::max(d.largest, std::abs(x[i] - y[i]));
    d.largestValue = std::max(d.largestValue, std::abs(y[i]));
  }
  return d;
}

} // namespace

TEST(SeedModel, InterpreterLossFallsOverAFewHundredSteps) {
  if (!haveMnist())
    GTEST_LOG_(INFO) << "MNIST not found in " NNC_MNIST_DIR
                        "; training on a synthetic separable set";
  ImageDataset data = loadData();
  DiagnosticEngine diag;
  PipelineOptions opts;
  opts.batch = 32;
  auto program = buildTrainingProgram(
      [](int64_t b) { return test::seedModel(b); }, opts, diag);
  ASSERT_TRUE(program);
  ModelState state(program->layout);
  ASSERT_FALSE(bool(state.initialize(1)));
  InterpreterExecutor trainStep(*program->train(), state);
  InterpreterExecutor evalStep(*program->eval(), state);
  TrainingExecutors exec{&trainStep, &evalStep};
  ASSERT_FALSE(bool(checkGraphFitsData(*program->train(), data)));

  std::string log;
  llvm::raw_string_ostream logStream(log);
  TrainingOptions topts;
  topts.epochs = 1;
  topts.maxSteps = 300;
  topts.evaluateEachEpoch = false;
  topts.log = &logStream;
  topts.recordStepLosses = true;
  // The first step's loss is that of the initial weights (about ln 10).
  TrainingOptions first = topts;
  first.maxSteps = 1;
  auto start = train(exec, data, first);
  ASSERT_TRUE(bool(start)) << llvm::toString(start.takeError());
  EXPECT_NEAR(start->epochs[0].trainLoss, std::log(10.0), 0.5);
  auto report = train(exec, data, topts);
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());
  // The mean loss over the 300 steps, early ones included, is well below
  // the starting loss.
  EXPECT_LT(report->epochs[0].trainLoss, 0.5 * start->epochs[0].trainLoss);
  // Every step's loss was kept, and they average to the epoch's.
  ASSERT_EQ(report->stepLosses.size(), 300u);
  double sum = 0;
  for (double loss : report->stepLosses)
    sum += loss;
  EXPECT_DOUBLE_EQ(sum / 300, report->epochs[0].trainLoss);
  EXPECT_LT(report->stepLosses.back(), report->stepLosses.front());
}

TEST(SeedModel, JitTrainingStepsMatchTheInterpreter) {
  ImageDataset data = loadData();
  Compiled c = compileSeed(32);
  ModelState jitState(c.program->layout), refState(c.program->layout);
  ASSERT_FALSE(bool(jitState.initialize(7)));
  ASSERT_FALSE(bool(refState.initialize(7)));
  auto pool = llvm::cantFail(ThreadPool::create(2));
  JitExecutor jit(*c.program->train(), *c.code->step("train"), jitState, *pool);
  InterpreterExecutor ref(*c.program->train(), refState);
  runInLockstep(data, {&jit, &ref}, 20, [&](int64_t s) {
    // Per-step losses agree to float rounding noise.
    EXPECT_NEAR(jit.result(0)[0], ref.result(0)[0],
                1e-5 * std::abs(ref.result(0)[0]))
        << "step " << s;
  });
  // After 20 Adam steps every weight agrees closely: the interpreter sums
  // in double and rounds once per op, the JIT sums in float, and Adam
  // divides by sqrt(v), which amplifies differences where v is tiny.
  for (const StateLayout::Entry &e : c.program->layout.entries()) {
    if (e.type.element() != ElementType::F32)
      continue;
    Difference d = differenceOf(jitState.read(e), refState.read(e));
    EXPECT_LE(d.largest, 1e-3 * d.largestValue + 1e-6) << e.name;
  }
}

TEST(SeedModel, FusedAndUnfusedStepsAgreeForAHundredSteps) {
  // The fused kernels sum in a different order than the op-by-op ones (the
  // products block their depth; the optimizer uses refined estimates), so
  // the two trajectories drift apart by float rounding, and no more.
  ImageDataset data = loadData();
  Compiled fused = compileSeed(32, true), plain = compileSeed(32, false);
  ModelState a(fused.program->layout), b(plain.program->layout);
  ASSERT_FALSE(bool(a.initialize(11)));
  ASSERT_FALSE(bool(b.initialize(11)));
  auto pool = llvm::cantFail(ThreadPool::create(2));
  JitExecutor fusedStep(*fused.program->train(), *fused.code->step("train"), a,
                        *pool);
  JitExecutor plainStep(*plain.program->train(), *plain.code->step("train"), b,
                        *pool);
  double worstLoss = 0;
  runInLockstep(data, {&fusedStep, &plainStep}, 100, [&](int64_t) {
    double la = fusedStep.result(0)[0], lb = plainStep.result(0)[0];
    worstLoss = std::max(worstLoss, std::abs(la - lb) / std::abs(lb));
  });
  EXPECT_LT(worstLoss, 1e-5);
  std::printf("largest relative loss difference over 100 steps: %.2e\n",
              worstLoss);
  for (const StateLayout::Entry &e : fused.program->layout.entries()) {
    if (e.type.element() != ElementType::F32)
      continue;
    Difference d = differenceOf(a.read(e), b.read(e));
    EXPECT_LE(d.largest, 1e-4 * d.largestValue + 1e-8) << e.name;
    std::printf("%s: largest difference %.2e of largest value %.2e\n",
                e.name.c_str(), d.largest, d.largestValue);
  }
}

TEST(SeedModel, AfterStepTasksRunOnEachThreadAfterItsShare) {
  // run(write, afterStep) calls afterStep once on every thread that ran the
  // step, after that thread's write, with or without profiling, and the
  // interpreter calls it once after its run. (The batch stays as zeros:
  // only the calls are counted.)
  for (bool profile : {false, true}) {
    CodegenOptions codegen;
    codegen.profile = profile;
    Compiled c = compileSeed(32, true, codegen);
    ModelState state(c.program->layout);
    ASSERT_FALSE(bool(state.initialize(3)));
    auto pool = llvm::cantFail(ThreadPool::create(2));
    JitExecutor step(*c.program->train(), *c.code->step("train"), state, *pool);
    std::atomic<int> writes[2] = {0, 0}, after[2] = {0, 0};
    std::atomic<int> afterBeforeWrite{0};
    for (int run = 1; run <= 3; ++run) {
      auto write = [&](unsigned t, unsigned) { ++writes[t]; };
      auto afterStep = [&](unsigned t, unsigned n) {
        EXPECT_EQ(n, 2u);
        if (after[t] + 1 != writes[t])
          ++afterBeforeWrite;
        ++after[t];
      };
      ASSERT_FALSE(bool(step.run(write, afterStep)));
      for (int t = 0; t < 2; ++t)
        EXPECT_EQ(after[t], run)
            << "thread " << t << (profile ? ", profiled" : "");
    }
    EXPECT_EQ(afterBeforeWrite, 0);
  }

  Compiled c = compileSeed(32);
  ModelState state(c.program->layout);
  ASSERT_FALSE(bool(state.initialize(3)));
  InterpreterExecutor interp(*c.program->train(), state);
  int writes = 0, calls = 0;
  ASSERT_FALSE(bool(interp.run([&](unsigned, unsigned) { ++writes; },
                               [&](unsigned t, unsigned n) {
                                 EXPECT_EQ(t, 0u);
                                 EXPECT_EQ(n, 1u);
                                 EXPECT_EQ(writes, 1);
                                 ++calls;
                               })));
  EXPECT_EQ(calls, 1);
}

TEST(SeedModel, BatchBlockedByOwnerTrainsBitForBitAsRowMajor) {
  // On two threads the batch is stored blocked by the threads that own its
  // pixels; the kernels sum the same terms in the same order as over the
  // row-major batch, so training is the same to the bit.
  ImageDataset data = loadData();
  CodegenOptions rowMajor;
  rowMajor.blockArgumentsByOwner = false;
  Compiled blocked = compileSeed(32), plain = compileSeed(32, true, rowMajor);
  const CompiledStep &blockedTrain = *blocked.code->step("train");
  ASSERT_EQ(blockedTrain.argumentsBlockedByOwner.size(), 2u);
  EXPECT_TRUE(blockedTrain.argumentsBlockedByOwner[0]);
  EXPECT_FALSE(blockedTrain.argumentsBlockedByOwner[1]);
  EXPECT_TRUE(blocked.code->step("eval")->argumentsBlockedByOwner[0]);
  EXPECT_FALSE(plain.code->step("train")->argumentsBlockedByOwner[0]);

  auto pool = llvm::cantFail(ThreadPool::create(2));
  TrainingOptions topts;
  topts.epochs = 1;
  topts.maxSteps = 60;
  topts.recordStepLosses = true;
  auto trainWith = [&](Compiled &c, ModelState &state) {
    EXPECT_FALSE(bool(state.initialize(3)));
    JitExecutor trainStep(*c.program->train(), *c.code->step("train"), state,
                          *pool);
    JitExecutor evalStep(*c.program->eval(), *c.code->step("eval"), state,
                         *pool);
    auto report = train({&trainStep, &evalStep}, data, topts);
    EXPECT_TRUE(bool(report)) << llvm::toString(report.takeError());
    return std::move(*report);
  };
  ModelState a(blocked.program->layout), b(plain.program->layout);
  TrainingReport ra = trainWith(blocked, a), rb = trainWith(plain, b);
  ASSERT_EQ(ra.stepLosses.size(), 60u);
  EXPECT_EQ(ra.stepLosses, rb.stepLosses);
  ASSERT_TRUE(ra.test && rb.test);
  EXPECT_EQ(ra.test->loss, rb.test->loss);
  EXPECT_EQ(ra.test->accuracy, rb.test->accuracy);
  for (const StateLayout::Entry &e : blocked.program->layout.entries()) {
    HostTensor x = a.read(e), y = b.read(e);
    for (int64_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(x[i], y[i]) << e.name << "[" << i << "]";
  }
}

TEST(SeedModel, UnfusedJitStepsMatchTheInterpreter) {
  ImageDataset data = loadData();
  Compiled c = compileSeed(32, false);
  ModelState jitState(c.program->layout), refState(c.program->layout);
  ASSERT_FALSE(bool(jitState.initialize(5)));
  ASSERT_FALSE(bool(refState.initialize(5)));
  auto pool = llvm::cantFail(ThreadPool::create(2));
  JitExecutor jit(*c.program->train(), *c.code->step("train"), jitState, *pool);
  InterpreterExecutor ref(*c.program->train(), refState);
  runInLockstep(data, {&jit, &ref}, 10, [&](int64_t s) {
    EXPECT_NEAR(jit.result(0)[0], ref.result(0)[0],
                1e-5 * std::abs(ref.result(0)[0]))
        << "step " << s;
  });
}

TEST(SeedModel, JitTrainsOneEpochToNinetyFivePercent) {
  if (!haveMnist())
    GTEST_SKIP() << "MNIST not found in " NNC_MNIST_DIR
                    "; run scripts/fetch-data.sh to train on it";
  ImageDataset data = loadData();
  Compiled c = compileSeed(32);
  ModelState state(c.program->layout);
  ASSERT_FALSE(bool(state.initialize(0)));
  auto pool = llvm::cantFail(ThreadPool::create(2));
  JitExecutor trainStep(*c.program->train(), *c.code->step("train"), state,
                        *pool);
  JitExecutor evalStep(*c.program->eval(), *c.code->step("eval"), state, *pool);
  TrainingOptions topts;
  topts.epochs = 1;
  auto report = train({&trainStep, &evalStep}, data, topts);
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());
  ASSERT_TRUE(report->test);
  EXPECT_EQ(report->test->examples, 10000);
  EXPECT_GE(report->test->accuracy, 0.95);
}

// The test set's size is not a multiple of 32 (10,000 MNIST images, 1,000
// synthetic ones): the last batch runs padded. Evaluated at batch 8, which
// divides both, nothing is padded; both must count every example once and
// agree.
TEST(SeedModel, PaddedLastTestBatchCountsItsExamplesOnly) {
  ImageDataset data = loadData();
  ASSERT_NE(data.size(Split::Test) % 32, 0);
  ASSERT_EQ(data.size(Split::Test) % 8, 0);
  auto pool = llvm::cantFail(ThreadPool::create(2));
  std::optional<Evaluation> at[2];
  int64_t batches[2] = {32, 8};
  for (int i = 0; i < 2; ++i) {
    Compiled c = compileSeed(batches[i]);
    ModelState state(c.program->layout);
    ASSERT_FALSE(bool(state.initialize(3)));
    JitExecutor evalStep(*c.program->eval(), *c.code->step("eval"), state,
                         *pool);
    auto result = evaluate({nullptr, &evalStep}, data);
    ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
    at[i] = *result;
  }
  EXPECT_EQ(at[0]->examples, data.size(Split::Test));
  EXPECT_EQ(at[1]->examples, data.size(Split::Test));
  // Untrained weights: the accuracy is near chance and the loss near ln 10,
  // so a padded row counted or an example dropped would show.
  EXPECT_EQ(at[0]->accuracy, at[1]->accuracy);
  EXPECT_NEAR(at[0]->loss, at[1]->loss, 1e-6 * at[1]->loss);
}

TEST(WideModel, JitStepsMatchTheInterpreterOnOneAndTwoThreads) {
  // 784-512-512-10 at batch 128 runs kernel forms the seed model does not:
  // tiles by pattern over mostly-zero rows, over a packed transposed B and
  // over the rows' depth masks of two words, row pairs for X^T dH1, and
  // weight gradients that ask for their Adam state ahead (both on one
  // thread, the first layer's on two), next to dense tiles for the head's
  // narrow products. No product splits its depth between threads, so one
  // and two threads also agree with each other to the bit.
  ImageDataset data = loadData();
  Compiled c = compileModel(&test::wideModel, 128);
  ModelState one(c.program->layout), two(c.program->layout),
      refState(c.program->layout);
  for (ModelState *s : {&one, &two, &refState})
    ASSERT_FALSE(bool(s->initialize(9)));
  auto pool1 = llvm::cantFail(ThreadPool::create(1));
  auto pool2 = llvm::cantFail(ThreadPool::create(2));
  JitExecutor jit1(*c.program->train(), *c.code->step("train"), one, *pool1);
  JitExecutor jit2(*c.program->train(), *c.code->step("train"), two, *pool2);
  InterpreterExecutor ref(*c.program->train(), refState);
  runInLockstep(
      data, {&jit1, &jit2, &ref}, 3,
      [&](int64_t s) {
        double want = ref.result(0)[0];
        EXPECT_NEAR(jit1.result(0)[0], want, 1e-5 * std::abs(want))
            << "step " << s << ", one thread";
        EXPECT_NEAR(jit2.result(0)[0], want, 1e-5 * std::abs(want))
            << "step " << s << ", two threads";
        EXPECT_EQ(jit1.result(0)[0], jit2.result(0)[0]) << "step " << s;
      },
      128);
  for (const StateLayout::Entry &e : c.program->layout.entries()) {
    if (e.type.element() != ElementType::F32)
      continue;
    HostTensor want = refState.read(e);
    for (ModelState *s : {&one, &two}) {
      Difference d = differenceOf(s->read(e), want);
      EXPECT_LE(d.largest, 1e-3 * d.largestValue + 1e-6) << e.name;
    }
    HostTensor x = one.read(e), y = two.read(e);
    for (int64_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(x[i], y[i]) << e.name << "[" << i << "]";
  }
}

TEST(DeepModel, LayersInTheBatchsFreedBytesMatchTheInterpreter) {
  // 784-64-64-64-10: the batch is stored blocked by owner on two threads,
  // and once it is dead the memory plan gives its bytes to a later layer's
  // activations, which are row-major and must be read as such (a step that
  // took the bytes' layout for the value's failed to compile).
  ImageDataset data = loadData();
  Compiled c = compileModel(
      [](int64_t b) {
        return test::mlpModel(b, {64, 64, 64}, "deep");
      },
      32);
  ASSERT_TRUE(c.code);
  EXPECT_TRUE(c.code->step("train")->argumentsBlockedByOwner[0]);
  EXPECT_TRUE(c.code->step("eval")->argumentsBlockedByOwner[0]);
  ModelState jitState(c.program->layout), refState(c.program->layout);
  for (ModelState *s : {&jitState, &refState})
    ASSERT_FALSE(bool(s->initialize(5)));
  auto pool = llvm::cantFail(ThreadPool::create(2));
  JitExecutor jitTrain(*c.program->train(), *c.code->step("train"), jitState,
                       *pool);
  InterpreterExecutor refTrain(*c.program->train(), refState);
  runInLockstep(data, {&jitTrain, &refTrain}, 3, [&](int64_t s) {
    double want = refTrain.result(0)[0];
    EXPECT_NEAR(jitTrain.result(0)[0], want, 1e-5 * std::abs(want))
        << "step " << s;
  });
  JitExecutor jitEval(*c.program->eval(), *c.code->step("eval"), jitState,
                      *pool);
  InterpreterExecutor refEval(*c.program->eval(), refState);
  auto got = evaluate({nullptr, &jitEval}, data);
  auto want = evaluate({nullptr, &refEval}, data);
  ASSERT_TRUE(bool(got)) << llvm::toString(got.takeError());
  ASSERT_TRUE(bool(want)) << llvm::toString(want.takeError());
  EXPECT_NEAR(got->loss, want->loss, 1e-5 * want->loss);
  // Float noise may flip an argmax between near-equal logits.
  EXPECT_NEAR(got->accuracy, want->accuracy, 3.0 / double(want->examples));
}
