//===- RunOutputs.h - The files a run writes, claimed before it starts ----===//
//
// A run that would fail to write its checkpoint, metrics or loss trace
// fails before it compiles, not after it has trained: each output's
// directory must exist and be writable, and hold the output (the
// checkpoint's size is known once the graphs are built). The run takes
// each output's lock (runtime/OutputLock.h) for its whole length, so that
// a second run writing the same files is refused instead of interleaving
// them. Periodic checkpoints are written beside the --save file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_RUNOUTPUTS_H
#define NNC_TOOLS_NNC_RUNOUTPUTS_H

#include "runtime/ModelState.h"
#include "runtime/OutputLock.h"
#include "runtime/Training.h"
#include "tools/nnc/Run.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace nnc {

/// One file a run writes, and the most bytes it may need.
struct OutputFile {
  std::string path;
  std::string what; ///< "--save", "--metrics"
  uint64_t bytes = 1;
};

/// Takes the locks of `outputs` (those that are, or would be, regular
/// files), which also checks that their directories exist and can be
/// written; an error naming the option and the path otherwise.
llvm::Expected<std::vector<OutputLock>>
claimOutputs(llvm::ArrayRef<OutputFile> outputs);

/// Checks that each output's file system has room for it: a full disk is
/// refused before training rather than found after.
llvm::Error checkOutputSpace(llvm::ArrayRef<OutputFile> outputs);

/// `ckpt.step-000120.safetensors` for --save ckpt.safetensors at global
/// step 120.
std::string numberedCheckpointPath(llvm::StringRef save, int64_t step);
/// `ckpt.best.safetensors` for --save ckpt.safetensors.
std::string bestCheckpointPath(llvm::StringRef save);

/// Removes all but the `keep` latest numbered checkpoints of `save`.
llvm::Error removeOldCheckpoints(llvm::StringRef save, int64_t keep);

/// What a run stopped by SIGINT or SIGTERM leaves: a checkpoint to resume
/// from (the --save file, or MODEL.interrupted.safetensors), the metrics
/// and the loss trace so far. Says where on `log`, and returns 128 + the
/// signal (1 when an output could not be written).
int finishInterrupted(const TrainingReport &report, const ModelState &state,
                      const RunIdentity &identity, const std::string &model,
                      const RunOptions &options, double compileSeconds,
                      llvm::raw_ostream &log);

} // namespace nnc

#endif
