//===- Training.cpp - Epochs of steps, evaluation, progress ---------------===//
#include "runtime/Training.h"
#include "runtime/AtomicFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cmath>

namespace nnc {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t batchOf(const Graph &g) { return g.argument(0)->type().dim(0); }

llvm::Error writeTextFile(llvm::StringRef path, llvm::StringRef text) {
  if (llvm::Error err = writeFileAtomically(path, text))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write " + path + ": " +
                                       llvm::toString(std::move(err)));
  return llvm::Error::success();
}

/// The examples of batch `b`, in `order`; none past the last batch.
llvm::ArrayRef<int64_t> examplesOf(llvm::ArrayRef<int64_t> order,
                                   llvm::ArrayRef<BatchRange> batches,
                                   size_t b) {
  if (b >= batches.size())
    return {};
  return order.slice(batches[b].begin, batches[b].size());
}

/// Thread `thread`'s share of writing a step's batch: the pixels it owns of
/// each image, where the step wants them (the first layer's weight rows
/// the thread updates read them), and the labels on thread 0.
void writeBatchShare(GraphExecutor &e, const ImageDataset &data, Split split,
                     llvm::ArrayRef<int64_t> examples, unsigned thread,
                     unsigned threads) {
  auto [begin, end] = ownedRows(data.pixelsPerImage(), thread, threads);
  GraphExecutor::ArgumentRows to = e.argumentRows(0, thread, threads);
  data.fillImages(split, examples, static_cast<float *>(to.origin), begin, end,
                  to.rowStride);
  if (thread == 0)
    data.fillLabels(split, examples, static_cast<int32_t *>(e.argument(1)));
}

/// Thread `thread`'s request for its pixels of the next batch, made when
/// it has finished its share of a step, so that they arrive while the
/// other threads finish theirs. Made before the step, a whole step ahead,
/// writing and asking took 1.8-3.1 us a step at best against 1.5-2.0 on
/// the seed model's two threads (docs/runtime.md).
void prefetchNextShare(const ImageDataset &data, Split split,
                       llvm::ArrayRef<int64_t> next, unsigned thread,
                       unsigned threads) {
  auto [begin, end] = ownedRows(data.pixelsPerImage(), thread, threads);
  data.prefetch(split, next, begin, end);
}

/// Reads the graph's `loss` and `accuracy` results.
std::pair<double, double> lossAndAccuracy(const GraphExecutor &exec) {
  const Graph &g = exec.graph();
  double values[2] = {0, 0};
  const char *names[2] = {"loss", "accuracy"};
  for (int k = 0; k < 2; ++k)
    if (std::optional<unsigned> i = g.resultIndex(names[k]))
      values[k] = exec.scalarResult(*i);
  return {values[0], values[1]};
}

std::string formatDuration(double seconds) {
  int64_t s = int64_t(std::llround(seconds));
  return llvm::formatv("{0}:{1:2}", s / 60, s % 60).str();
}

/// A progress line redrawn in place on a terminal.
class ProgressBar {
public:
  ProgressBar(llvm::raw_ostream &os, int64_t epoch, int64_t epochs,
              int64_t steps)
      : os(os), epoch(epoch), epochs(epochs), steps(steps) {}

  void update(int64_t step, double loss, double accuracy, double seconds,
              int64_t images) {
    auto now = Clock::now();
    if (step != steps && now - lastDraw < std::chrono::milliseconds(100))
      return;
    lastDraw = now;
    const int width = 24;
    int filled = int(width * step / std::max<int64_t>(steps, 1));
    std::string bar(filled, '=');
    if (filled < width)
      bar += '>' + std::string(width - filled - 1, ' ');
    double rate = seconds > 0 ? images / seconds : 0;
    double eta = step > 0 ? seconds * (steps - step) / step : 0;
    os << llvm::formatv("\repoch {0}/{1} [{2}] {3}/{4}  loss {5:F4}  acc "
                        "{6:F4}  {7:N} img/s  ETA {8}  ",
                        epoch, epochs, bar, step, steps, loss, accuracy,
                        int64_t(rate), formatDuration(eta));
    os.flush();
  }

private:
  llvm::raw_ostream &os;
  int64_t epoch, epochs, steps;
  Clock::time_point lastDraw{};
};

} // namespace

llvm::Error checkGraphFitsData(const Graph &g, const ImageDataset &data) {
  auto fail = [&](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "graph '@" + g.name() + "' " + msg);
  };
  if (g.numArguments() != 2)
    return fail("takes " + llvm::Twine(g.numArguments()) +
                " arguments; training needs two: the images and the labels");
  const TensorType &images = g.argument(0)->type();
  const TensorType &labels = g.argument(1)->type();
  if (images.rank() < 1 || images.element() != ElementType::F32)
    return fail("takes images as " + images.str() +
                ", but they must be f32[batch, ...]");
  int64_t batch = images.dim(0);
  if (images.numElements() != batch * data.pixelsPerImage())
    return fail("takes images as " + images.str() + ", but the data set '" +
                data.name() + "' has " + llvm::Twine(data.height()) + "x" +
                llvm::Twine(data.width()) + " images (" +
                llvm::Twine(data.pixelsPerImage()) + " pixels each)");
  if (labels != TensorType(ElementType::I32, {batch}))
    return fail("takes labels as " + labels.str() + ", but they must be i32[" +
                llvm::Twine(batch) + "]");
  for (const char *name : {"loss", "accuracy"})
    if (!g.lookupResult(name))
      return fail("returns no '" + llvm::Twine(name) + "'");
  return llvm::Error::success();
}

llvm::Expected<Evaluation> evaluate(const TrainingExecutors &exec,
                                    const ImageDataset &data,
                                    Communicator *comm) {
  GraphExecutor &e = *exec.eval;
  const Graph &g = e.graph();
  int64_t batch = batchOf(g);
  unsigned at[2];
  const char *names[2] = {"loss", "accuracy"};
  for (int k = 0; k < 2; ++k) {
    std::optional<unsigned> i = g.resultIndex(names[k]);
    if (!i || g.terminator()->operand(*i)->type() !=
                  TensorType(ElementType::F32, {batch}))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "evaluation graph '@" + g.name() + "' must return '" + names[k] +
              "' per example, as f32[" + llvm::Twine(batch) + "]");
    at[k] = *i;
  }
  // This rank's slice of the test set.
  int64_t count = data.size(Split::Test);
  int64_t ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  int64_t first = count * rank / ranks, last = count * (rank + 1) / ranks;
  auto batches = evaluationBatches(last - first, batch);
  if (!batches)
    return batches.takeError();
  std::vector<int64_t> order = fileOrder(count);
  order.assign(order.begin() + first, order.begin() + last);
  Evaluation result;
  double lossSum = 0, correct = 0;
  std::vector<int64_t> padded;
  for (size_t b = 0; b < batches->size(); ++b) {
    const BatchRange &r = (*batches)[b];
    llvm::ArrayRef<int64_t> examples = examplesOf(order, *batches, b);
    llvm::ArrayRef<int64_t> next = examplesOf(order, *batches, b + 1);
    if (r.size() < batch) {
      // The last batch runs at full size, its last example repeated; only
      // the rows of its own examples are counted.
      padded.assign(examples.begin(), examples.end());
      padded.resize(batch, examples.back());
      examples = padded;
    }
    auto writeBatch = [&](unsigned thread, unsigned threads) {
      writeBatchShare(e, data, Split::Test, examples, thread, threads);
    };
    auto prefetchNext = [&](unsigned thread, unsigned threads) {
      prefetchNextShare(data, Split::Test, next, thread, threads);
    };
    if (llvm::Error err = e.run(writeBatch, prefetchNext))
      return err;
    HostTensor losses = e.result(at[0]);
    HostTensor hits = e.result(at[1]);
    for (int64_t i = 0; i < r.size(); ++i) {
      lossSum += losses[i];
      correct += hits[i];
    }
    result.examples += r.size();
  }
  if (comm) {
    double sums[3] = {lossSum, correct, double(result.examples)};
    if (llvm::Error err = comm->sum(sums))
      return err;
    lossSum = sums[0];
    correct = sums[1];
    result.examples = int64_t(sums[2]);
  }
  result.loss = lossSum / result.examples;
  result.accuracy = correct / result.examples;
  return result;
}

llvm::Expected<TrainingReport> train(const TrainingExecutors &exec,
                                     const ImageDataset &data,
                                     const TrainingOptions &options) {
  llvm::raw_ostream &log = *options.log;
  // The global batch, of which this rank computes the slice
  // [rank * share, (rank + 1) * share).
  Communicator *comm = options.communicator;
  int64_t share = batchOf(exec.train->graph());
  int64_t rank = comm ? comm->rank() : 0;
  int64_t batch = share * (comm ? comm->size() : 1);
  auto slice = [&](llvm::ArrayRef<int64_t> examples) {
    return examples.empty() ? examples : examples.slice(rank * share, share);
  };
  auto batches = trainingBatches(data.size(Split::Train), batch);
  if (!batches)
    return batches.takeError();

  TrainingReport report;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    if (options.maxSteps && report.steps >= *options.maxSteps)
      break;
    std::vector<int64_t> order =
        options.shuffle
            ? shuffledOrder(data.size(Split::Train), options.seed, epoch)
            : fileOrder(data.size(Split::Train));
    EpochMetrics m;
    m.epoch = epoch + 1;
    double lossSum = 0, accuracySum = 0;
    ProgressBar bar(log, epoch + 1, options.epochs, int64_t(batches->size()));
    auto start = Clock::now();
    for (size_t b = 0; b < batches->size(); ++b) {
      if (options.maxSteps && report.steps >= *options.maxSteps)
        break;
      llvm::ArrayRef<int64_t> examples = slice(examplesOf(order, *batches, b));
      llvm::ArrayRef<int64_t> next = slice(examplesOf(order, *batches, b + 1));
      auto writeBatch = [&](unsigned thread, unsigned threads) {
        writeBatchShare(*exec.train, data, Split::Train, examples, thread,
                        threads);
      };
      auto prefetchNext = [&](unsigned thread, unsigned threads) {
        prefetchNextShare(data, Split::Train, next, thread, threads);
      };
      if (llvm::Error err = exec.train->run(writeBatch, prefetchNext))
        return err;
      auto [loss, accuracy] = lossAndAccuracy(*exec.train);
      if (options.recordStepLosses)
        report.stepLosses.push_back(loss);
      lossSum += loss;
      accuracySum += accuracy;
      ++m.steps;
      ++report.steps;
      if (options.progressBar)
        bar.update(m.steps, lossSum / m.steps, accuracySum / m.steps,
                   secondsSince(start), m.steps * batch);
    }
    m.seconds = secondsSince(start);
    report.trainSeconds += m.seconds;
    m.trainLoss = m.steps ? lossSum / m.steps : 0;
    m.trainAccuracy = m.steps ? accuracySum / m.steps : 0;
    if (options.progressBar)
      log << "\n";
    if (!std::isfinite(m.trainLoss))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "training diverged in epoch " + llvm::Twine(m.epoch) +
              ": the loss is " + std::to_string(m.trainLoss) +
              " (try a smaller learning rate)");
    if (options.evaluateEachEpoch && exec.eval) {
      auto test = evaluate(exec, data, comm);
      if (!test)
        return test.takeError();
      m.test = *test;
      report.test = *test;
    }
    log << llvm::formatv("epoch {0}/{1}: {2} steps in {3:F2} s ({4:N} img/s), "
                         "train loss {5:F4}, train accuracy {6:P2}",
                         m.epoch, options.epochs, m.steps, m.seconds,
                         int64_t(m.steps * batch / std::max(m.seconds, 1e-9)),
                         m.trainLoss, m.trainAccuracy);
    if (m.test)
      log << llvm::formatv(", test loss {0:F4}, test accuracy {1:P2}",
                           m.test->loss, m.test->accuracy);
    log << "\n";
    report.epochs.push_back(std::move(m));
  }
  return report;
}

/// JSON has no infinities or NaN (LLVM's writer prints `inf`, which no
/// reader accepts): a loss that overflowed is null.
static llvm::json::Value number(double v) {
  if (std::isfinite(v))
    return v;
  return nullptr;
}

llvm::Error writeMetrics(llvm::StringRef path, llvm::StringRef model,
                         double compileSeconds, const TrainingReport &report) {
  llvm::json::Array epochs;
  for (const EpochMetrics &m : report.epochs) {
    llvm::json::Object e{{"epoch", m.epoch},
                         {"train_loss", number(m.trainLoss)},
                         {"train_accuracy", number(m.trainAccuracy)},
                         {"seconds", m.seconds},
                         {"steps", m.steps}};
    if (m.test) {
      e["test_loss"] = number(m.test->loss);
      e["test_accuracy"] = number(m.test->accuracy);
    }
    epochs.push_back(std::move(e));
  }
  llvm::json::Object root{{"model", model},
                          {"steps", report.steps},
                          {"compile_seconds", compileSeconds},
                          {"train_seconds", report.trainSeconds},
                          {"epochs", std::move(epochs)}};
  if (report.test) {
    root["test_loss"] = number(report.test->loss);
    root["test_accuracy"] = number(report.test->accuracy);
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return writeTextFile(path, text);
}

llvm::Error writeLossTrace(llvm::StringRef path, const TrainingReport &report) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (double loss : report.stepLosses)
    os << llvm::format("%.9g\n", loss);
  return writeTextFile(path, text);
}

} // namespace nnc
