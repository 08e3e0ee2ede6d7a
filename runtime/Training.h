//===- Training.h - Epochs of steps, evaluation, progress -------*- C++ -*-===//
//
// Drives executors over a data set: each training step writes a batch into
// the step's argument buffers (the features as f32, the targets as the
// label's type) and runs it; after each epoch, the evaluation graph runs
// over the whole test set, its last batch padded to full size, and every
// test example counts once.
//
// Convention: a model graph's first argument is the feature batch (any
// shape of batch x features), its second, if any, the targets; it returns
// `loss` and its metrics, as batch means from the training graph and one
// row per example from the evaluation graph (passes/PerExampleResults).
// Every metric is finished over all the examples of an epoch or of the test
// set (runtime/Metrics.h).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_TRAINING_H
#define NNC_RUNTIME_TRAINING_H

#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/Executor.h"
#include "runtime/Metrics.h"
#include "runtime/TrainingProgress.h"

#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <functional>
#include <optional>

namespace nnc {

struct TrainingOptions {
  int64_t epochs = 5;
  /// Stop after this many optimizer steps, across epochs.
  std::optional<int64_t> maxSteps;
  bool shuffle = true;
  uint64_t seed = 0;
  /// Evaluate on the test set after each epoch.
  bool evaluateEachEpoch = true;
  /// A live progress bar (on a terminal) instead of one line per epoch.
  bool progressBar = false;
  /// Print the line of every this many epochs (and of the last): models
  /// of small data train for hundreds of one-step epochs.
  int64_t logEvery = 1;
  /// Keep every step's loss in TrainingReport::stepLosses.
  bool recordStepLosses = false;
  llvm::raw_ostream *log = &llvm::errs();
  /// In a data-parallel job, the ranks: the graphs' batch is this rank's
  /// share of the global batch, which is that times the number of ranks.
  /// Each rank trains on its slice of every global batch and evaluates its
  /// slice of the test set (see evaluate()).
  Communicator *communicator = nullptr;

  /// Where the run starts: a resumed run's epoch, step within it, global
  /// step and the epoch's partial sums (runtime/TrainingProgress.h).
  /// `maxSteps` and `epochs` count from the start of training, not from
  /// here.
  TrainingProgress start;
  /// Called to write a checkpoint at the progress given: after every
  /// `checkpointEvery` global steps (0: never), and after each epoch's
  /// evaluation when `checkpointEachEpoch`.
  int64_t checkpointEvery = 0;
  bool checkpointEachEpoch = false;
  std::function<llvm::Error(const TrainingProgress &)> checkpoint;
  /// Holds a signal's number when the run must stop: it does after the
  /// step in progress. The ranks of a job agree on the step they stop
  /// after by summing their flags every kStopCheckInterval steps.
  const std::atomic<int> *stopRequested = nullptr;

  /// A figure watched after each epoch's evaluation, by early stopping
  /// and --save-best: `test_loss`, `train_accuracy`, ...
  struct Watch {
    std::string monitor;
    bool higherIsBetter = false;
    /// An improvement is a change of more than this.
    double minDelta = 0;
    /// Stop after this many epochs without improvement (early stopping).
    std::optional<int64_t> patience;
    /// Called when the figure improves, with the progress after the epoch.
    std::function<llvm::Error(const TrainingProgress &)> onBest;
  };
  std::optional<Watch> watch;
};

/// In a data-parallel job, how many steps apart the ranks compare their
/// stop flags (an exchange of its own, so not every step).
constexpr int64_t kStopCheckInterval = 16;

struct Evaluation {
  double loss = 0;
  double accuracy = 0; ///< 0 when the model has no accuracy metric
  int64_t examples = 0;
  /// Every result of the graph, finished over the examples.
  MetricValues metrics;
};

struct EpochMetrics {
  int64_t epoch = 0;
  double trainLoss = 0, trainAccuracy = 0;
  /// Every result of the training graph over the epoch's batches.
  MetricValues train;
  std::optional<Evaluation> test;
  double seconds = 0; ///< training only, evaluation excluded
  int64_t steps = 0;
};

struct TrainingReport {
  std::vector<EpochMetrics> epochs;
  /// Each step's training loss, in order, when asked for.
  std::vector<double> stepLosses;
  int64_t steps = 0;
  double trainSeconds = 0;
  std::optional<Evaluation> test;
  /// Where the run stopped, to resume from.
  TrainingProgress end;
  /// The signal that stopped the run, or 0.
  int stoppedBySignal = 0;
  /// Whether early stopping ended the run.
  bool stoppedEarly = false;
};

/// The graphs a training run needs, ready to run.
struct TrainingExecutors {
  GraphExecutor *train = nullptr;
  /// Returns `loss` and `accuracy` per example (passes/PerExampleResults).
  GraphExecutor *eval = nullptr;
};

/// Checks that the graph's arguments fit the data set: features of the
/// data set's size as f32, and, when the graph has a second argument,
/// targets of the data set's type, with the same batch; and that it returns
/// a loss.
llvm::Error checkGraphFitsData(const Graph &g, const Dataset &data);

/// Runs the evaluation graph over the whole test set, in file order: every
/// batch at the graph's size, the last one padded, and finishes the loss
/// and every metric over the examples. With `comm`, each rank evaluates a
/// contiguous 1/N of the test set and the metrics' sums are added over the
/// ranks: every rank returns the whole test set's figures.
llvm::Expected<Evaluation> evaluate(const TrainingExecutors &exec,
                                    const Dataset &data,
                                    Communicator *comm = nullptr);

llvm::Expected<TrainingReport> train(const TrainingExecutors &exec,
                                     const Dataset &data,
                                     const TrainingOptions &options);

/// Prints what an evaluation found beyond its scalar figures: the
/// classification report and confusion matrix, R^2 per output.
void printEvaluationDetails(llvm::raw_ostream &os, const Evaluation &e);

/// Writes the metrics JSON: {"model", "steps", "compile_seconds",
/// "train_seconds", "test_loss", "test_<metric>"..., "epochs": [{"epoch",
/// "train_loss", "train_<metric>"..., "test_loss", "test_<metric>"...,
/// "seconds", "steps"}], and for classifiers "classification": the
/// per-class report and confusion matrix of the last evaluation, for
/// regressions "r2_per_output"}, accuracies as fractions.
llvm::Error writeMetrics(llvm::StringRef path, llvm::StringRef model,
                         double compileSeconds, const TrainingReport &report);

/// Writes the step losses, one a line, with the 9 significant digits that
/// identify a float: the format other frameworks' loss traces are compared
/// in (bench/compare_trajectories.py).
llvm::Error writeLossTrace(llvm::StringRef path, const TrainingReport &report);

} // namespace nnc

#endif
