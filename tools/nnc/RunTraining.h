//===- RunTraining.h - Where a run starts, and its training loop ----------===//
//
// The two parts of a run of nnc that concern its position in training:
// the variables and position it starts from (the checkpoints given by
// --resume, --load and --load-weights), and the training itself with what
// watches it (periodic checkpoints, early stopping, --save-best,
// restore_best). Run.cpp wires them between compiling and reporting.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_RUNTRAINING_H
#define NNC_TOOLS_NNC_RUNTRAINING_H

#include "frontend/Frontend.h"
#include "runtime/ModelState.h"
#include "runtime/Training.h"
#include "tools/nnc/Run.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <string>
#include <vector>

namespace nnc {

/// What the checkpoints a run loads give it.
struct RunStart {
  /// Where a resumed run continues; the start of training otherwise.
  TrainingProgress at;
  /// The variables read from a checkpoint, and the file they came from
  /// (empty: the variables are initialised from the seed).
  std::vector<std::string> restored;
  std::string loadedFrom;
};

/// Loads into `state` the checkpoints `options` names: --resume (every
/// variable and the run's position: its seed and shuffle become `config`'s
/// and `identity`'s unless the command line gives them, and the run must
/// be resumable as `identity` describes it), --load, --load-weights. Says
/// on `log` where a resumed run continues.
llvm::Expected<RunStart> loadRunStart(ModelState &state,
                                      const RunOptions &options,
                                      TrainingConfig &config,
                                      RunIdentity &identity,
                                      llvm::raw_ostream &log);

/// Checks that early stopping and --save-best, when both are asked for,
/// watch the same figure.
llvm::Error checkWatchedFigure(const TrainingConfig &config,
                               const RunOptions &options);

/// Trains from `start` with the train block's settings. The reporting rank
/// (`reports`) writes the periodic checkpoints and the best epoch's; with
/// restore_best the variables of the best epoch are put back at the end
/// (not in a run that `stopRequested` stopped, which resumes where it
/// stopped).
llvm::Expected<TrainingReport>
runTraining(TrainingExecutors &exec, const Dataset &data, ModelState &state,
            const TrainingConfig &config, const RunOptions &options,
            const RunIdentity &identity, const TrainingProgress &start,
            bool reports, const std::atomic<int> *stopRequested,
            llvm::raw_ostream &log);

} // namespace nnc

#endif
