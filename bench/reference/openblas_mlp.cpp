//===- openblas_mlp.cpp - The OpenBLAS reference trainer ------------------===//
//
// Trains nnc's benchmark models (784-128-10 at batch 32, 784-512-512-10 at
// batch 128) on MNIST with the step in OpenBlasMlp.cpp, in nnc's batch order,
// and writes the same metrics JSON as `nnc --metrics`.
//
// Threads: every thread takes an equal slice of each batch and computes its
// gradient with single-threaded sgemm; after a barrier each thread updates
// its own range of the parameters with the sum of all slices' gradients.
// That beats OpenBLAS's own threading at these sizes, where a 32x784x128
// product is too small to split profitably (see docs/benchmarks.md).
//
//===----------------------------------------------------------------------===//
#include "bench/reference/Metrics.h"
#include "bench/reference/MnistData.h"
#include "bench/reference/OpenBlasMlp.h"
#include "bench/reference/Safetensors.h"
#include "bench/reference/Shuffle.h"
#include "bench/reference/SpinBarrier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <pmmintrin.h>
#include <xmmintrin.h>

using namespace nnc::bench;

// The options mirror nnc's (`--threads`, `--seed`, `--load`, ...). They are
// parsed by hand because LLVM's shared library already registers a global
// `--threads` option, which llvm::cl would refuse to register twice.
struct Options {
  std::string dataDir;
  std::vector<int> hidden{128};
  std::string modelName = "mnist_mlp";
  int batch = 32;
  int epochs = 5;
  long maxSteps = -1;
  int threads = 1;
  uint64_t seed = 0;
  bool noShuffle = false;
  std::string loadFile, saveFile, metricsFile, lossTrace;
  bool anyCore = false;
};
static Options options;

static const char *const usage = R"(usage: openblas_mlp [options]
OpenBLAS reference trainer for nnc's MNIST benchmark.
  --data-dir DIR      MNIST IDX files (default $NNC_DATA_DIR/mnist, else
                      data/mnist)
  --hidden W[,W...]   hidden layer widths (default 128)
  --name NAME         model name in the metrics (default mnist_mlp)
  --batch N           batch size (default 32)
  --epochs N          epochs (default 5)
  --steps N           stop after N steps (default: every step of every epoch)
  --threads N         computing threads (default 1)
  --seed N            seed of the shuffle and of the own initial weights
  --no-shuffle        train in file order
  --load FILE         initial weights (safetensors with nnc's names)
  --save FILE         write the final weights (safetensors)
  --metrics FILE      write the metrics JSON
  --loss-trace FILE   write each step's training loss, one a line
  --any-core          run even when OpenBLAS uses kernels older than the CPU
                      (such a run reports no benchmark figures)
)";

namespace {

[[noreturn]] void fail(const llvm::Twine &message) {
  llvm::outs().flush();
  llvm::WithColor::error(llvm::errs(), "openblas_mlp") << message << "\n";
  std::exit(1);
}

void failOn(llvm::Error error) {
  if (error)
    fail(llvm::toString(std::move(error)));
}

long parseInteger(llvm::StringRef flag, llvm::StringRef text, long min) {
  long value;
  if (text.getAsInteger(10, value) || value < min)
    fail("--" + flag + " needs an integer >= " + llvm::Twine(min) + ", not '" +
         text + "'");
  return value;
}

void parseOptions(int argc, char **argv) {
  Options &o = options;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      llvm::outs() << usage;
      std::exit(0);
    }
    if (!arg.consume_front("--"))
      fail("unexpected argument '" + arg + "' (see --help)");
    llvm::StringRef flag = arg, value;
    bool inlineValue = false;
    if (size_t eq = arg.find('='); eq != llvm::StringRef::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inlineValue = true;
    }
    if (flag == "no-shuffle") {
      o.noShuffle = true;
      continue;
    }
    if (flag == "any-core") {
      o.anyCore = true;
      continue;
    }
    static const char *const valued[] = {
        "data-dir", "hidden", "name", "batch", "epochs",  "steps",
        "threads",  "seed",   "load", "save",  "metrics", "loss-trace"};
    if (llvm::none_of(valued, [&](const char *f) { return flag == f; }))
      fail("unknown option --" + flag + " (see --help)");
    if (!inlineValue) {
      if (i + 1 >= argc)
        fail("--" + flag + " needs a value");
      value = argv[++i];
    }
    if (flag == "data-dir")
      o.dataDir = value.str();
    else if (flag == "hidden") {
      o.hidden.clear();
      llvm::SmallVector<llvm::StringRef> widths;
      value.split(widths, ',');
      for (llvm::StringRef w : widths)
        o.hidden.push_back(int(parseInteger(flag, w, 1)));
    } else if (flag == "name")
      o.modelName = value.str();
    else if (flag == "batch")
      o.batch = int(parseInteger(flag, value, 1));
    else if (flag == "epochs")
      o.epochs = int(parseInteger(flag, value, 0));
    else if (flag == "steps")
      o.maxSteps = parseInteger(flag, value, 0);
    else if (flag == "threads")
      o.threads = int(parseInteger(flag, value, 1));
    else if (flag == "seed") {
      if (value.getAsInteger(0, o.seed))
        fail("--seed needs an unsigned integer, not '" + value + "'");
    } else if (flag == "load")
      o.loadFile = value.str();
    else if (flag == "save")
      o.saveFile = value.str();
    else if (flag == "metrics")
      o.metricsFile = value.str();
    else
      o.lossTrace = value.str();
  }
  if (o.threads > o.batch)
    fail("--threads must not exceed --batch");
}

/// Denormals in the gradients would slow the scalar and vector loops by two
/// orders of magnitude; nnc's generated code runs with FTZ and DAZ too. The
/// mode is per thread, so every computing thread calls this.
void flushDenormals() {
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

/// OpenBLAS 0.3.21 picks its kernels from the CPU it recognises; on a CPU it
/// does not know it falls back to an older family's kernels. Benchmark
/// figures from a kernel narrower than the machine would flatter nnc.
void checkCore() {
  std::string core = openblas_get_corename();
  std::string lower = llvm::StringRef(core).lower();
  bool avx2Kernel = lower == "haswell" || lower == "zen" ||
                    lower == "skylakex" || lower == "cooperlake" ||
                    lower == "sapphirerapids";
  bool cpuHasAvx2 = __builtin_cpu_supports("avx2");
  llvm::outs() << "openblas: core " << core << " (" << openblas_get_config()
               << ")\n";
  if (cpuHasAvx2 && !avx2Kernel && !options.anyCore)
    fail("OpenBLAS runs its '" + core +
         "' kernels on a CPU with AVX2/AVX-512; set OPENBLAS_CORETYPE (see "
         "docs/benchmarks.md) or pass --any-core for a run that reports no "
         "figures");
}

std::string glorotName(int layer, const char *what) {
  return "dense_" + std::to_string(layer + 1) + "." + what;
}

/// glorot_uniform weights and zero biases, from the seed.
void initialise(const MlpLayout &layout, FloatBuffer &params) {
  SplitMix64 rng(options.seed ^ 0x5EEDu);
  for (int l = 0; l < layout.layers(); ++l) {
    double limit = std::sqrt(6.0 / (layout.in(l) + layout.out(l)));
    float *w = params.data() + layout.weightOffset[l];
    for (size_t i = 0, n = size_t(layout.in(l)) * layout.out(l); i < n; ++i) {
      double unit = double(rng.next() >> 11) * 0x1.0p-53; // [0, 1)
      w[i] = float((2 * unit - 1) * limit);
    }
  }
}

void loadWeights(const MlpLayout &layout, FloatBuffer &params) {
  TensorMap tensors;
  if (auto read = readSafetensors(options.loadFile))
    tensors = std::move(*read);
  else
    failOn(read.takeError());
  for (int l = 0; l < layout.layers(); ++l) {
    struct Expect {
      std::string name;
      std::vector<int64_t> shape;
      size_t offset;
    };
    for (const Expect &e :
         {Expect{glorotName(l, "weight"),
                 {layout.in(l), layout.out(l)},
                 layout.weightOffset[l]},
          Expect{
              glorotName(l, "bias"), {layout.out(l)}, layout.biasOffset[l]}}) {
      auto it = tensors.find(e.name);
      if (it == tensors.end())
        fail(options.loadFile + ": no F32 tensor '" + e.name + "'");
      if (it->second.shape != e.shape)
        fail(
            options.loadFile + ": '" + e.name +
            "' has the wrong shape for this model (widths " +
            llvm::join(llvm::map_range(layout.widths,
                                       [](int w) { return std::to_string(w); }),
                       "-") +
            ")");
      std::copy(it->second.data.begin(), it->second.data.end(),
                params.data() + e.offset);
    }
  }
}

void saveWeights(const MlpLayout &layout, const FloatBuffer &params) {
  TensorMap tensors;
  for (int l = 0; l < layout.layers(); ++l) {
    const float *w = params.data() + layout.weightOffset[l];
    const float *b = params.data() + layout.biasOffset[l];
    tensors[glorotName(l, "weight")] = {
        {layout.in(l), layout.out(l)},
        std::vector<float>(w, w + size_t(layout.in(l)) * layout.out(l))};
    tensors[glorotName(l, "bias")] = {{layout.out(l)},
                                      std::vector<float>(b, b + layout.out(l))};
  }
  failOn(writeSafetensors(options.saveFile, tensors));
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

Evaluation evaluate(const MlpLayout &layout, const FloatBuffer &params,
                    const LabelledImages &test) {
  constexpr int chunk = 1000;
  Worker worker(layout, chunk);
  for (size_t first = 0; first < test.count; first += chunk) {
    int rows = int(std::min<size_t>(chunk, test.count - first));
    forward(layout, params.data(),
            test.pixels.data() + first * test.pixelsPerImage, rows, worker);
    softmaxCrossEntropy(layout, test.labels.data() + first, rows,
                        /*invBatch=*/0, worker);
  }
  return {worker.lossSum / double(test.count),
          double(worker.correct) / double(test.count)};
}

} // namespace

int main(int argc, char **argv) {
  parseOptions(argc, argv);
  flushDenormals();
  openblas_set_num_threads(1);
  checkCore();

  const Options &o = options;
  std::string dir = o.dataDir;
  if (dir.empty()) {
    if (auto env = llvm::sys::Process::GetEnv("NNC_DATA_DIR"))
      dir = *env + "/mnist";
    else
      dir = "data/mnist";
  }
  auto trainOr = loadMnistSplit(dir, "train");
  if (!trainOr)
    failOn(trainOr.takeError());
  auto testOr = loadMnistSplit(dir, "t10k");
  if (!testOr)
    failOn(testOr.takeError());
  const LabelledImages &train = *trainOr, &test = *testOr;

  std::vector<int> widths{int(train.pixelsPerImage)};
  for (int h : o.hidden)
    widths.push_back(h);
  widths.push_back(10);
  MlpLayout layout(widths);

  FloatBuffer params(layout.parameterCount), m(layout.parameterCount),
      v(layout.parameterCount);
  if (o.loadFile.empty())
    initialise(layout, params);
  else
    loadWeights(layout, params);

  // Everything the timed loop needs is made before it: the batch order of
  // every epoch, the workers' buffers.
  long stepsPerEpoch = long(train.count) / o.batch;
  long totalSteps = stepsPerEpoch * o.epochs;
  if (o.maxSteps >= 0)
    totalSteps = std::min<long>(totalSteps, o.maxSteps);
  int epochsRun = int((totalSteps + stepsPerEpoch - 1) / stepsPerEpoch);
  std::vector<std::vector<uint32_t>> order;
  for (int e = 0; e < epochsRun; ++e)
    order.push_back(epochPermutation(o.seed, uint64_t(e), uint32_t(train.count),
                                     !o.noShuffle));

  std::vector<int> firstRow{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    int rows = o.batch / o.threads + (t < o.batch % o.threads);
    workers.push_back(std::make_unique<Worker>(layout, rows));
    firstRow.push_back(firstRow.back() + rows);
  }
  std::vector<const float *> gradients;
  for (auto &w : workers)
    gradients.push_back(w->gradients.data());
  std::vector<size_t> firstParam;
  for (int t = 0; t <= o.threads; ++t)
    firstParam.push_back(
        std::min(layout.parameterCount,
                 (layout.parameterCount * t / o.threads + 15) / 16 * 16));
  std::vector<float> stepLosses(totalSteps);

  RunMetrics metrics;
  metrics.model = o.modelName;
  SpinBarrier barrier(o.threads);
  AdamConfig adam;
  const float invBatch = 1.0f / float(o.batch);

  // Every thread runs this loop; thread 0 also times the epochs and
  // evaluates between them while the others wait at the first barrier.
  auto run = [&](int id) {
    if (id != 0)
      flushDenormals();
    Worker &me = *workers[id];
    long step = 0;
    for (int e = 0; e < epochsRun; ++e) {
      long steps = std::min(stepsPerEpoch, totalSteps - step);
      const std::vector<uint32_t> &perm = order[e];
      barrier.wait();
      auto start = std::chrono::steady_clock::now();
      double lossSum = 0;
      long correct = 0;
      for (long s = 0; s < steps; ++s, ++step) {
        const uint32_t *items = perm.data() + s * o.batch + firstRow[id];
        for (int r = 0; r < me.rows; ++r) {
          std::memcpy(me.input.data() + size_t(r) * train.pixelsPerImage,
                      train.pixels.data() +
                          size_t(items[r]) * train.pixelsPerImage,
                      sizeof(float) * train.pixelsPerImage);
          me.labels[r] = train.labels[items[r]];
        }
        me.lossSum = 0;
        me.correct = 0;
        forward(layout, params.data(), me.input.data(), me.rows, me);
        softmaxCrossEntropy(layout, me.labels.data(), me.rows, invBatch, me);
        backward(layout, params.data(), me);
        barrier.wait();
        adamUpdate(adam, step + 1, params.data(), m.data(), v.data(), gradients,
                   firstParam[id], firstParam[id + 1]);
        if (id == 0) {
          double stepLoss = 0;
          for (auto &w : workers) {
            stepLoss += w->lossSum;
            correct += w->correct;
          }
          stepLosses[step] = float(stepLoss / o.batch);
          lossSum += stepLoss / o.batch;
        }
        barrier.wait();
      }
      if (id != 0)
        continue;
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      Evaluation eval = evaluate(layout, params, test);
      EpochMetrics em;
      em.epoch = e + 1;
      em.trainLoss = lossSum / double(steps);
      em.trainAccuracy = double(correct) / double(steps * o.batch);
      em.testLoss = eval.loss;
      em.testAccuracy = eval.accuracy;
      em.seconds = seconds;
      metrics.epochs.push_back(em);
      metrics.trainSeconds += seconds;
      llvm::outs() << llvm::format(
          "epoch %d: train loss %.4f accuracy %.4f, test loss %.4f accuracy "
          "%.4f, %.3f s\n",
          em.epoch, em.trainLoss, em.trainAccuracy, em.testLoss,
          em.testAccuracy, em.seconds);
      llvm::outs().flush();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < o.threads; ++t)
    pool.emplace_back(run, t);
  run(0);
  for (std::thread &t : pool)
    t.join();

  metrics.steps = totalSteps;
  Evaluation final = evaluate(layout, params, test);
  metrics.testLoss = final.loss;
  metrics.testAccuracy = final.accuracy;
  if (!o.metricsFile.empty())
    failOn(writeMetrics(o.metricsFile, metrics));
  if (!o.saveFile.empty())
    saveWeights(layout, params);
  if (!o.lossTrace.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream out(o.lossTrace, ec);
    if (ec)
      fail(o.lossTrace + ": cannot write: " + ec.message());
    for (float loss : stepLosses)
      out << llvm::format("%.9g\n", loss);
  }

  std::string shape = llvm::join(
      llvm::map_range(widths, [](int w) { return std::to_string(w); }), "-");
  double perEpoch =
      metrics.epochs.empty() ? 0 : metrics.trainSeconds / metrics.epochs.size();
  llvm::outs() << llvm::format(
      "openblas_mlp: %s %s batch %d threads %d: %ld steps, %.3f s/epoch, test "
      "accuracy %.2f%%, core %s\n",
      o.modelName.c_str(), shape.c_str(), int(o.batch), int(o.threads),
      totalSteps, perEpoch, 100 * metrics.testAccuracy,
      openblas_get_corename());
  return 0;
}
