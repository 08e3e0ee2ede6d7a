//===- TrainingProgress.h - Where a run stands, as a checkpoint says ----===//
//
// A checkpoint written during training holds, beside the variables, the
// position of the run that wrote it and what that run was: its epoch, its
// step within the epoch and its global step, the partial sums of the
// epoch's training metrics, the seed, the data set, the model, the batch
// and the threads. They are strings in the safetensors header's
// `__metadata__` (docs/data.md lists them). From them a run resumes
// exactly: the epoch's shuffled order is a function of the seed and the
// epoch (runtime/Dataset.h), so starting at the saved epoch and step, with
// the saved variables (Adam's step among them), gives the same updates in
// the same order as the run that was never stopped.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_TRAININGPROGRESS_H
#define NNC_RUNTIME_TRAININGPROGRESS_H

#include "runtime/Checkpoint.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// How far a run has come.
struct TrainingProgress {
  /// Epochs finished; the next step is of epoch `epoch` (from 0).
  int64_t epoch = 0;
  /// Steps of epoch `epoch` already made.
  int64_t epochStep = 0;
  /// Optimizer steps made since the weights were initialised.
  int64_t globalStep = 0;
  /// The epoch's training metrics summed over its first `epochStep` steps
  /// (MetricAccumulator::sums), so that a resumed epoch reports the figures
  /// of the whole epoch.
  std::vector<double> epochSums;
  /// The best value so far of the metric --save-best or early stopping
  /// watches, and the epochs since it improved.
  std::optional<double> best;
  int64_t epochsSinceBest = 0;
};

/// What a run is, which a run resuming it must match (or be warned of).
struct RunIdentity {
  uint64_t seed = 0;
  bool shuffle = true;
  /// The global batch.
  int64_t batch = 0;
  int64_t epochs = 0;
  /// `mnist: 60000 train, 10000 test examples of [28, 28]`.
  std::string data;
  /// A hash of the model's variables' names, types and initialisers
  /// (identityHash; the optimizer's state is not the model's).
  std::string model;
  /// The optimizer with its settings, as the train block writes it.
  std::string optimizer;
  unsigned threads = 1;
  int64_t ranks = 1;
};

/// The version of nnc, as checkpoints record it.
llvm::StringRef nncVersion();

/// The metadata of a checkpoint written at `progress` by the run `run`.
CheckpointMetadata trainingMetadata(const RunIdentity &run,
                                    const TrainingProgress &progress);

/// What a checkpoint's metadata says; an error naming `path` and the entry
/// when an entry is missing or malformed, or the checkpoint was not written
/// by a training run (a checkpoint of weights alone: load it with --load
/// or --load-weights).
struct SavedRun {
  RunIdentity run;
  TrainingProgress progress;
  std::string version;
};
llvm::Expected<SavedRun> readSavedRun(const CheckpointMetadata &metadata,
                                      llvm::StringRef path);

/// Checks that `now` may resume `saved`: the same model, optimizer, data
/// and batch are required (an error saying which differs); another thread
/// count, rank count, or nnc version is allowed, with a warning on `log`
/// that the result may differ in the last bits.
llvm::Error checkResumable(const SavedRun &saved, const RunIdentity &now,
                           llvm::StringRef path, llvm::raw_ostream &log);

/// The identity hash of a model's variables and optimizer: FNV-1a over
/// `text`, printed as 16 hex digits.
std::string identityHash(llvm::StringRef text);

} // namespace nnc

#endif
