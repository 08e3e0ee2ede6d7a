//===- RunTraining.cpp - Where a run starts, and its training loop --------===//
#include "tools/nnc/RunTraining.h"

#include "frontend/TrainingSchedules.h"
#include "runtime/Checkpoint.h"
#include "tools/common/OutOfMemory.h"
#include "tools/nnc/RunOutputs.h"

#include <fmt/format.h>

#include <cstring>

namespace nnc {

llvm::Expected<RunStart> loadRunStart(ModelState &state,
                                      const RunOptions &options,
                                      TrainingConfig &config,
                                      RunIdentity &identity,
                                      llvm::raw_ostream &log) {
  RunStart start;
  for (auto [path, scope] :
       {std::pair{&options.resume, LoadScope::Everything},
        std::pair{&options.load, LoadScope::WeightsAndOptimizer},
        std::pair{&options.loadWeights, LoadScope::Weights}}) {
    if (path->empty())
      continue;
    CheckpointMetadata metadata;
    auto names = loadModelState(state, *path, scope, &metadata);
    if (!names)
      return names.takeError();
    start.restored = std::move(*names);
    start.loadedFrom = *path;
    if (scope != LoadScope::Everything)
      continue;
    auto saved = readSavedRun(metadata, *path);
    if (!saved)
      return saved.takeError();
    // The checkpoint's seed and order, unless the command line gives
    // others (which checkResumable then refuses).
    if (!options.seedGiven)
      config.seed = identity.seed = saved->run.seed;
    if (!options.shuffleGiven)
      config.shuffle = identity.shuffle = saved->run.shuffle;
    if (llvm::Error err = checkResumable(*saved, identity, *path, log))
      return err;
    start.at = saved->progress;
    const TrainingProgress &at = start.at;
    if (at.epochStep == 0)
      log << fmt::format("resuming from {} after epoch {}/{} (global step "
                         "{})\n",
                         *path, at.epoch, config.epochs, at.globalStep);
    else
      log << fmt::format("resuming from {} in epoch {}/{} after step {} "
                         "(global step {})\n",
                         *path, at.epoch + 1, config.epochs, at.epochStep,
                         at.globalStep);
  }
  return start;
}

llvm::Error checkWatchedFigure(const TrainingConfig &config,
                               const RunOptions &options) {
  const std::optional<EarlyStopping> &early = config.earlyStopping;
  if (early && !options.saveBest.empty() && early->monitor != options.saveBest)
    return llvm::createStringError("--save-best " + options.saveBest +
                                   " and early stopping on " + early->monitor +
                                   " watch different figures: watch one");
  return llvm::Error::success();
}

llvm::Expected<TrainingReport>
runTraining(TrainingExecutors &exec, const Dataset &data, ModelState &state,
            const TrainingConfig &config, const RunOptions &options,
            const RunIdentity &identity, const TrainingProgress &start,
            bool reports, const std::atomic<int> *stopRequested,
            llvm::raw_ostream &log) {
  TrainingOptions topts;
  topts.epochs = config.epochs;
  topts.maxSteps = options.steps;
  topts.shuffle = config.shuffle;
  topts.seed = config.seed;
  topts.progressBar = options.progressBar;
  topts.logEvery = options.logEvery;
  topts.recordStepLosses = !options.lossTrace.empty();
  topts.log = &log;
  topts.communicator = options.communicator;
  topts.start = start;
  topts.checkpointEvery = options.checkpointEvery;
  topts.checkpointEachEpoch = options.checkpointEachEpoch;
  topts.stopRequested = stopRequested;
  // Rank 0 writes the checkpoints: the --save file always holds the
  // latest, and with --keep-checkpoints K numbered copies the K latest.
  topts.checkpoint = [&](const TrainingProgress &p) -> llvm::Error {
    if (!reports || options.save.empty())
      return llvm::Error::success();
    CheckpointMetadata metadata = trainingMetadata(identity, p);
    if (llvm::Error err = saveModelState(state, options.save, metadata))
      return err;
    if (options.keepCheckpoints <= 0)
      return llvm::Error::success();
    if (llvm::Error err = saveModelState(
            state, numberedCheckpointPath(options.save, p.globalStep),
            metadata))
      return err;
    return removeOldCheckpoints(options.save, options.keepCheckpoints);
  };
  // Early stopping and --save-best watch a figure after each epoch;
  // restore_best keeps the best epoch's variables in memory.
  const std::optional<EarlyStopping> &early = config.earlyStopping;
  std::vector<char> bestState;
  TrainingProgress bestAt;
  if (early || !options.saveBest.empty()) {
    TrainingOptions::Watch w;
    w.monitor = early ? early->monitor : options.saveBest;
    w.higherIsBetter = higherIsBetter(w.monitor);
    if (early) {
      w.minDelta = early->minDelta;
      w.patience = early->patience;
    }
    w.onBest = [&](const TrainingProgress &p) -> llvm::Error {
      bestAt = p;
      if (early && early->restoreBest)
        bestState.assign(state.data(),
                         state.data() + state.layout().byteSize());
      if (options.saveBest.empty() || !reports)
        return llvm::Error::success();
      return saveModelState(state, bestCheckpointPath(options.save),
                            trainingMetadata(identity, p));
    };
    topts.watch = std::move(w);
  }
  MemoryActivity training("training");
  auto trained = train(exec, data, topts);
  if (!trained || trained->stoppedBySignal)
    return trained;
  TrainingReport report = std::move(*trained);
  // restore_best: the best epoch's variables, and its position, which the
  // --save checkpoint then records.
  if (!bestState.empty() && bestAt.globalStep != report.end.globalStep) {
    std::memcpy(state.data(), bestState.data(), bestState.size());
    log << fmt::format("restored the variables of epoch {} ({} {:.4f})\n",
                       bestAt.epoch, early->monitor, *bestAt.best);
    report.end = bestAt;
    report.test.reset();
  }
  return report;
}

} // namespace nnc
