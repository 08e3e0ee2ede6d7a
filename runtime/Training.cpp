//===- Training.cpp - Epochs of steps, evaluation, progress ---------------===//
#include "runtime/Training.h"
#include "runtime/AtomicFile.h"

#include "ir/CounterRandom.h"

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

/// The argument of a data-parallel step that says where its share of the
/// batch starts (ir/CounterRandom.h), or -1 if it has none.
int firstExampleArgument(const Graph &g) {
  for (unsigned i = 0; i < g.numArguments(); ++i)
    if (g.argument(i)->name() == counter_random::kFirstExampleArgument)
      return int(i);
  return -1;
}

/// Thread `thread`'s share of writing a step's batch: the features it owns
/// of each example, where the step wants them (the first layer's weight
/// rows the thread updates read them), and the targets on thread 0, with
/// the index of the share's first example in the global batch where the
/// step draws random numbers by it.
void writeBatchShare(GraphExecutor &e, const Dataset &data, Split split,
                     llvm::ArrayRef<int64_t> examples, unsigned thread,
                     unsigned threads, int64_t firstExample = 0) {
  auto [begin, end] = ownedRows(data.featuresPerExample(), thread, threads);
  GraphExecutor::ArgumentRows to = e.argumentRows(0, thread, threads);
  data.fillFeatures(split, examples, static_cast<float *>(to.origin), begin,
                    end, to.rowStride);
  if (thread != 0)
    return;
  int first = firstExampleArgument(e.graph());
  if (e.graph().numArguments() > 1 && first != 1)
    data.fillTargets(split, examples, e.argument(1));
  if (first >= 0)
    storeElement(e.argument(unsigned(first)), ElementType::I32, 0,
                 double(firstExample));
}

/// Thread `thread`'s request for its features of the next batch, made when
/// it has finished its share of a step, so that they arrive while the
/// other threads finish theirs. Made before the step, a whole step ahead,
/// writing and asking took 1.8-3.1 us a step at best against 1.5-2.0 on
/// the seed model's two threads (docs/runtime.md).
void prefetchNextShare(const Dataset &data, Split split,
                       llvm::ArrayRef<int64_t> next, unsigned thread,
                       unsigned threads) {
  auto [begin, end] = ownedRows(data.featuresPerExample(), thread, threads);
  data.prefetch(split, next, begin, end);
}

/// Adds the results of a run to `sums`: `rows` rows of each per-example
/// result, or (rows 0) one batch mean of each.
void accumulate(MetricAccumulator &sums, const MetricSet &set,
                const GraphExecutor &exec, int64_t rows = 0) {
  for (size_t k = 0; k < set.entries().size(); ++k) {
    const MetricSet::Entry &entry = set.entries()[k];
    if (rows == 0 && entry.isScalar()) {
      double v = exec.scalarResult(entry.result);
      sums.add(k, v);
    } else {
      HostTensor t = exec.result(entry.result);
      sums.add(k, t.data, rows ? rows : 1);
    }
  }
  sums.next(rows ? rows : 1);
}

/// The loss and accuracy of finished metrics, where the model has them.
void setLossAndAccuracy(const MetricValues &m, double &loss, double &accuracy) {
  loss = m.get("loss").value_or(0.0);
  accuracy = m.get("accuracy").value_or(0.0);
}

/// `, train mean_absolute_error 3.1416, train r2 0.5000`: every figure but
/// the loss, which the caller prints.
std::string otherMetrics(llvm::StringRef split, const MetricValues &m) {
  std::string s;
  for (const auto &[name, value] : m.scalars)
    if (name != "loss")
      s += ", " + split.str() + " " + formatMetric(name, value);
  return s;
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

  void update(int64_t step, double loss, std::optional<double> accuracy,
              double seconds, int64_t examples) {
    auto now = Clock::now();
    if (step != steps && now - lastDraw < std::chrono::milliseconds(100))
      return;
    lastDraw = now;
    const int width = 24;
    int filled = int(width * step / std::max<int64_t>(steps, 1));
    std::string bar(filled, '=');
    if (filled < width)
      bar += '>' + std::string(width - filled - 1, ' ');
    double rate = seconds > 0 ? examples / seconds : 0;
    double eta = step > 0 ? seconds * (steps - step) / step : 0;
    os << llvm::formatv("\repoch {0}/{1} [{2}] {3}/{4}  loss {5:F4}  ", epoch,
                        epochs, bar, step, steps, loss);
    if (accuracy)
      os << llvm::formatv("acc {0:F4}  ", *accuracy);
    os << llvm::formatv("{0:N} examples/s  ETA {1}  ", int64_t(rate),
                        formatDuration(eta));
    os.flush();
  }

private:
  llvm::raw_ostream &os;
  int64_t epoch, epochs, steps;
  Clock::time_point lastDraw{};
};

} // namespace

llvm::Error checkGraphFitsData(const Graph &g, const Dataset &data) {
  auto fail = [&](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "graph '@" + g.name() + "' " + msg);
  };
  if (g.numArguments() < 1 || g.numArguments() > 2)
    return fail("takes " + llvm::Twine(g.numArguments()) +
                " arguments; a data set feeds one input and at most one "
                "label");
  const TensorType &features = g.argument(0)->type();
  if (features.rank() < 1 || features.element() != ElementType::F32)
    return fail("takes its input as " + features.str() +
                ", but data sets feed f32[batch, ...]");
  int64_t batch = features.dim(0);
  if (features.numElements() != batch * data.featuresPerExample())
    return fail(
        "takes its input '" + g.argument(0)->name() + "' as " + features.str() +
        ", " + llvm::Twine(features.numElements() / batch) +
        " values per example, but the data set '" + data.name() + "' has " +
        shapeStr(data.featureShape()) + " (" +
        llvm::Twine(data.featuresPerExample()) + " values) per example");
  if (g.numArguments() == 2) {
    const TensorType &labels = g.argument(1)->type();
    TensorType target = data.targetType();
    if (labels.rank() < 1 || labels.dim(0) != batch ||
        labels.element() != target.element() ||
        labels.numElements() != batch * target.numElements())
      return fail("takes its label '" + g.argument(1)->name() + "' as " +
                  labels.str() + ", but the data set '" + data.name() +
                  "' has " + elementTypeName(target.element()) +
                  " targets of shape " + shapeStr(target.shape()) +
                  " per example");
  }
  if (!g.lookupResult("loss"))
    return fail("returns no 'loss'");
  return llvm::Error::success();
}

llvm::Expected<Evaluation> evaluate(const TrainingExecutors &exec,
                                    const Dataset &data, Communicator *comm) {
  GraphExecutor &e = *exec.eval;
  const Graph &g = e.graph();
  int64_t batch = batchOf(g);
  auto set = MetricSet::fromGraph(g, /*perExample=*/true);
  if (!set)
    return set.takeError();
  for (const MetricSet::Entry &entry : set->entries())
    if (g.terminator()->operand(entry.result)->type().dim(0) != batch)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "evaluation graph '@" + g.name() + "' must return '" + entry.name +
              "' per example, as " + llvm::Twine(batch) + " rows");
  // This rank's slice of the test set.
  int64_t count = data.size(Split::Test);
  int64_t ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  int64_t first = count * rank / ranks, last = count * (rank + 1) / ranks;
  auto batches = evaluationBatches(last - first, batch);
  if (!batches)
    return batches.takeError();
  std::vector<int64_t> order = fileOrder(count);
  order.assign(order.begin() + first, order.begin() + last);
  MetricAccumulator sums(*set, 1);
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
    accumulate(sums, *set, e, r.size());
  }
  // Every rank finishes the metrics over the whole test set.
  if (comm)
    if (llvm::Error err = sums.reduce(
            [&](llvm::MutableArrayRef<double> v) { return comm->sum(v); }))
      return err;
  Evaluation result;
  result.metrics = sums.finish();
  result.examples = result.metrics.examples;
  setLossAndAccuracy(result.metrics, result.loss, result.accuracy);
  return result;
}

llvm::Expected<TrainingReport> train(const TrainingExecutors &exec,
                                     const Dataset &data,
                                     const TrainingOptions &options) {
  llvm::raw_ostream &log = *options.log;
  const Graph &g = exec.train->graph();
  // The global batch, of which this rank computes the slice
  // [rank * share, (rank + 1) * share).
  Communicator *comm = options.communicator;
  int64_t share = batchOf(g);
  int64_t rank = comm ? comm->rank() : 0;
  int64_t batch = share * (comm ? comm->size() : 1);
  auto slice = [&](llvm::ArrayRef<int64_t> examples) {
    return examples.empty() ? examples : examples.slice(rank * share, share);
  };
  auto batches = trainingBatches(data.size(Split::Train), batch);
  if (!batches)
    return batches.takeError();
  auto set = MetricSet::fromGraph(g);
  if (!set)
    return set.takeError();
  const MetricSet::Entry *lossEntry = set->lookup("loss");
  if (!lossEntry)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "graph '@" + g.name() +
                                       "' returns no 'loss'");
  unsigned lossResult = lossEntry->result;
  std::optional<unsigned> accuracyResult;
  if (const MetricSet::Entry *a = set->lookup("accuracy"); a && a->isScalar())
    accuracyResult = a->result;

  TrainingReport report;
  const TrainingProgress &from = options.start;
  // Steps are counted from the start of training, across resumptions.
  auto globalStep = [&] { return from.globalStep + report.steps; };
  auto stepLimitReached = [&] {
    return options.maxSteps && globalStep() >= *options.maxSteps;
  };
  // Whether the run must stop after this step: this rank's flag, or in a
  // job, any rank's, compared every kStopCheckInterval steps.
  int stopSignal = 0;
  auto mustStop = [&]() -> llvm::Expected<bool> {
    if (!options.stopRequested)
      return false;
    int mine = options.stopRequested->load();
    if (!comm) {
      stopSignal = mine;
      return mine != 0;
    }
    if (globalStep() % kStopCheckInterval != 0)
      return false;
    double flags[2] = {mine ? 1.0 : 0.0, double(mine)};
    if (llvm::Error err = comm->sum(flags))
      return std::move(err);
    if (flags[0] == 0)
      return false;
    stopSignal = mine ? mine : int(flags[1] / flags[0]);
    return true;
  };
  report.end = from;
  // The watched figure's best value, carried across resumptions.
  std::optional<double> best = from.best;
  int64_t sinceBest = from.epochsSinceBest;
  for (int64_t epoch = from.epoch; epoch < options.epochs; ++epoch) {
    if (stepLimitReached())
      break;
    bool resumed = epoch == from.epoch && from.epochStep > 0;
    size_t firstBatch = resumed ? size_t(from.epochStep) : 0;
    if (firstBatch > batches->size())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "cannot resume at step " + llvm::Twine(firstBatch) + " of epoch " +
              llvm::Twine(epoch + 1) + ": an epoch has " +
              llvm::Twine(batches->size()) + " steps");
    std::vector<int64_t> order =
        options.shuffle
            ? shuffledOrder(data.size(Split::Train), options.seed, epoch)
            : fileOrder(data.size(Split::Train));
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.steps = int64_t(firstBatch);
    // The step returns means over the global batch (averaged over the
    // ranks in a data-parallel job).
    MetricAccumulator sums(*set, batch);
    if (resumed && !sums.restoreSums(from.epochSums))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "cannot resume epoch " + llvm::Twine(epoch + 1) +
              ": the checkpoint's sums of its metrics do not fit the "
              "model's metrics");
    double lossSum = 0, accuracySum = 0;
    ProgressBar bar(log, epoch + 1, options.epochs, int64_t(batches->size()));
    auto start = Clock::now();
    size_t b = firstBatch;
    auto progressHere = [&] {
      TrainingProgress p;
      p.epoch = epoch;
      p.epochStep = int64_t(b);
      p.globalStep = globalStep();
      p.epochSums = sums.saveSums();
      p.best = best;
      p.epochsSinceBest = sinceBest;
      return p;
    };
    for (; b < batches->size(); ++b) {
      if (stepLimitReached() || stopSignal)
        break;
      llvm::ArrayRef<int64_t> examples = slice(examplesOf(order, *batches, b));
      llvm::ArrayRef<int64_t> next = slice(examplesOf(order, *batches, b + 1));
      auto writeBatch = [&](unsigned thread, unsigned threads) {
        writeBatchShare(*exec.train, data, Split::Train, examples, thread,
                        threads, rank * share);
      };
      auto prefetchNext = [&](unsigned thread, unsigned threads) {
        prefetchNextShare(data, Split::Train, next, thread, threads);
      };
      if (llvm::Error err = exec.train->run(writeBatch, prefetchNext))
        return err;
      accumulate(sums, *set, *exec.train);
      double loss = exec.train->scalarResult(lossResult);
      if (options.recordStepLosses)
        report.stepLosses.push_back(loss);
      ++m.steps;
      ++report.steps;
      if (options.progressBar) {
        lossSum += loss;
        if (accuracyResult)
          accuracySum += exec.train->scalarResult(*accuracyResult);
        bar.update(
            m.steps, lossSum / (m.steps - int64_t(firstBatch)),
            accuracyResult
                ? std::optional(accuracySum / (m.steps - int64_t(firstBatch)))
                : std::nullopt,
            secondsSince(start), (m.steps - int64_t(firstBatch)) * batch);
      }
      auto stop = mustStop();
      if (!stop)
        return stop.takeError();
      if (options.checkpoint && options.checkpointEvery > 0 &&
          globalStep() % options.checkpointEvery == 0 && !*stop) {
        ++b; // the position after this step
        llvm::Error err = options.checkpoint(progressHere());
        --b;
        if (err)
          return std::move(err);
      }
      if (*stop) {
        ++b;
        break;
      }
    }
    m.seconds = secondsSince(start);
    report.trainSeconds += m.seconds;
    if (options.progressBar)
      log << "\n";
    if (stopSignal) {
      // Stopped by a signal: the epoch is neither finished nor evaluated;
      // the run resumes from here.
      report.end = progressHere();
      report.stoppedBySignal = stopSignal;
      return report;
    }
    bool finished = b == batches->size();
    report.end = finished ? TrainingProgress{epoch + 1, 0,    globalStep(),
                                             {},        best, sinceBest}
                          : progressHere();
    m.train = sums.finish();
    setLossAndAccuracy(m.train, m.trainLoss, m.trainAccuracy);
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
    bool last = epoch + 1 == options.epochs || stepLimitReached();
    if ((epoch + 1) % std::max<int64_t>(options.logEvery, 1) == 0 || last) {
      int64_t ran = m.steps - int64_t(firstBatch);
      log << llvm::formatv("epoch {0}/{1}: {2} steps in {3:F2} s ({4:N} "
                           "examples/s), train loss {5:F4}",
                           m.epoch, options.epochs, m.steps, m.seconds,
                           int64_t(ran * batch / std::max(m.seconds, 1e-9)),
                           m.trainLoss)
          << otherMetrics("train", m.train);
      if (m.test)
        log << llvm::formatv(", test loss {0:F4}", m.test->loss)
            << otherMetrics("test", m.test->metrics);
      log << "\n";
    }
    // The watched figure, after a whole epoch.
    bool stopEarly = false;
    if (options.watch && finished) {
      const TrainingOptions::Watch &w = *options.watch;
      llvm::StringRef monitor = w.monitor;
      std::optional<double> value;
      if (monitor.starts_with("test_") && m.test)
        value = m.test->metrics.get(monitor.drop_front(5));
      else if (monitor.starts_with("train_"))
        value = m.train.get(monitor.drop_front(6));
      if (!value)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "'" + w.monitor +
                "' is watched, but the run does not report it (the test "
                "figures need a test split)");
      bool improved = !best || (w.higherIsBetter ? *value > *best + w.minDelta
                                                 : *value < *best - w.minDelta);
      if (improved) {
        best = *value;
        sinceBest = 0;
      } else {
        ++sinceBest;
      }
      report.end.best = best;
      report.end.epochsSinceBest = sinceBest;
      if (improved && w.onBest)
        if (llvm::Error err = w.onBest(report.end))
          return std::move(err);
      if (w.patience && sinceBest >= *w.patience) {
        log << llvm::formatv("early stopping: {0} has not improved for {1} "
                             "epoch{2} (best {3:F4})\n",
                             w.monitor, sinceBest, sinceBest == 1 ? "" : "s",
                             *best);
        stopEarly = true;
      }
    }
    report.epochs.push_back(std::move(m));
    if (finished && options.checkpoint && options.checkpointEachEpoch)
      if (llvm::Error err = options.checkpoint(report.end))
        return std::move(err);
    if (stopEarly) {
      report.stoppedEarly = true;
      break;
    }
  }
  return report;
}

void printEvaluationDetails(llvm::raw_ostream &os, const Evaluation &e) {
  const MetricValues &m = e.metrics;
  if (m.classification) {
    os << "classification report on " << m.examples << " test examples:\n";
    m.classification->print(os);
  }
  if (m.regression && m.regression->perOutput.size() > 1) {
    os << "r2 per output:";
    for (double r : m.regression->perOutput)
      os << llvm::formatv(" {0:F4}", r);
    os << "\n";
  }
}

/// JSON has no infinities or NaN (LLVM's writer prints `inf`, which no
/// reader accepts): a loss that overflowed is null.
static llvm::json::Value number(double v) {
  if (std::isfinite(v))
    return v;
  return nullptr;
}

/// Adds `<split>_<name>` for every scalar figure of `m`.
static void addFigures(llvm::json::Object &o, llvm::StringRef split,
                       const MetricValues &m) {
  for (const auto &[name, value] : m.scalars)
    o[(split + "_" + name).str()] = number(value);
}

llvm::Error writeMetrics(llvm::StringRef path, llvm::StringRef model,
                         double compileSeconds, const TrainingReport &report) {
  llvm::json::Array epochs;
  for (const EpochMetrics &m : report.epochs) {
    llvm::json::Object e{{"epoch", m.epoch},
                         {"train_loss", number(m.trainLoss)},
                         {"seconds", m.seconds},
                         {"steps", m.steps}};
    if (m.train.scalars.empty())
      e["train_accuracy"] = number(m.trainAccuracy);
    addFigures(e, "train", m.train);
    if (m.test) {
      e["test_loss"] = number(m.test->loss);
      if (m.test->metrics.scalars.empty())
        e["test_accuracy"] = number(m.test->accuracy);
      addFigures(e, "test", m.test->metrics);
    }
    epochs.push_back(std::move(e));
  }
  llvm::json::Object root{{"model", model},
                          {"steps", report.steps},
                          {"compile_seconds", compileSeconds},
                          {"train_seconds", report.trainSeconds},
                          {"epochs", std::move(epochs)}};
  if (report.test) {
    const MetricValues &m = report.test->metrics;
    root["test_loss"] = number(report.test->loss);
    root["test_examples"] = report.test->examples;
    if (m.scalars.empty())
      root["test_accuracy"] = number(report.test->accuracy);
    addFigures(root, "test", m);
    if (m.classification)
      root["classification"] = m.classification->toJSON();
    if (m.regression) {
      llvm::json::Array perOutput;
      for (double r : m.regression->perOutput)
        perOutput.push_back(number(r));
      root["r2_per_output"] = std::move(perOutput);
    }
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
