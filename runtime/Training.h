//===- Training.h - Epochs of steps, evaluation, progress -------*- C++ -*-===//
//
// Drives executors over a data set: each training step writes a batch into
// the step's argument buffers (images as x/255 floats, labels as i32) and
// runs it; after each epoch, the evaluation graph runs over the whole test
// set, its last batch padded to full size, and every test image counts
// once.
//
// Convention: a model graph's first argument is the image batch (any shape
// of batch x pixels), its second the labels (i32[batch]); it returns `loss`
// and `accuracy`, as scalars from the training graph and per example
// (f32[batch]) from the evaluation graph.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_TRAINING_H
#define NNC_RUNTIME_TRAINING_H

#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/Executor.h"

#include "llvm/Support/raw_ostream.h"

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
  /// Keep every step's loss in TrainingReport::stepLosses.
  bool recordStepLosses = false;
  llvm::raw_ostream *log = &llvm::errs();
  /// In a data-parallel job, the ranks: the graphs' batch is this rank's
  /// share of the global batch, which is that times the number of ranks.
  /// Each rank trains on its slice of every global batch and evaluates its
  /// slice of the test set (see evaluate()).
  Communicator *communicator = nullptr;
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
};

struct EpochMetrics {
  int64_t epoch = 0;
  double trainLoss = 0, trainAccuracy = 0;
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
};

/// The graphs a training run needs, ready to run.
struct TrainingExecutors {
  GraphExecutor *train = nullptr;
  /// Returns `loss` and `accuracy` per example (passes/PerExampleResults).
  GraphExecutor *eval = nullptr;
};

/// Checks that the graph's arguments fit the data set: images of the data
/// set's size and i32 labels, with the same batch.
llvm::Error checkGraphFitsData(const Graph &g, const ImageDataset &data);

/// Runs the evaluation graph over the whole test set, in file order: every
/// batch at the graph's size, the last one padded, and averages the loss
/// and accuracy of the examples. With `comm`, each rank evaluates a
/// contiguous 1/N of the test set and the sums are added over the ranks:
/// every rank returns the whole test set's figures.
llvm::Expected<Evaluation> evaluate(const TrainingExecutors &exec,
                                    const ImageDataset &data,
                                    Communicator *comm = nullptr);

llvm::Expected<TrainingReport> train(const TrainingExecutors &exec,
                                     const ImageDataset &data,
                                     const TrainingOptions &options);

/// Writes the metrics JSON: {"model", "steps", "compile_seconds",
/// "train_seconds", "test_loss", "test_accuracy", "epochs": [{"epoch",
/// "train_loss", "train_accuracy", "test_loss", "test_accuracy",
/// "seconds"}]}, accuracies as fractions.
llvm::Error writeMetrics(llvm::StringRef path, llvm::StringRef model,
                         double compileSeconds, const TrainingReport &report);

/// Writes the step losses, one a line, with the 9 significant digits that
/// identify a float: the format other frameworks' loss traces are compared
/// in (bench/compare_trajectories.py).
llvm::Error writeLossTrace(llvm::StringRef path, const TrainingReport &report);

} // namespace nnc

#endif
