//===- InProcessJob.h - The ranks of a job as threads of nnc ---*- C++ -*-===//
//
// `nnc model.nn --train --ranks N` without mpirun: N threads, each running
// the model as a rank of an mpirun job runs it (runModel with an in-process
// communicator, runtime/InProcessRanks.h), sharing one compilation and one
// copy of the data set.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_INPROCESSJOB_H
#define NNC_TOOLS_NNC_INPROCESSJOB_H

#include "tools/nnc/Run.h"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace nnc {

struct TrainingProgram;

/// The compiled steps the ranks of a job in one process share: rank 0
/// compiles its graphs, and the others, which have compared theirs with
/// rank 0's before compiling (the fingerprints of the graphs), run rank 0's
/// graphs and code over their own state instead of compiling their own.
/// The code is reentrant: its constants are read-only and everything it
/// writes is in the executor's arena and the rank's variables.
class SharedSteps {
public:
  void publish(std::shared_ptr<TrainingProgram> program,
               std::shared_ptr<CompiledProgram> code);
  /// Waits for rank 0's.
  std::pair<std::shared_ptr<TrainingProgram>, std::shared_ptr<CompiledProgram>>
  take();

private:
  std::mutex mutex;
  std::condition_variable published;
  std::shared_ptr<TrainingProgram> program;
  std::shared_ptr<CompiledProgram> code;
};

/// Runs `options.ranks` ranks of `file` in this process and returns the
/// job's exit status: rank 0's, or the first other rank's failure.
int runInProcessRanks(const ast::ModelFile &file, const TrainingConfig &config,
                      const RunOptions &options, DiagnosticEngine &diag,
                      llvm::raw_ostream &os);

} // namespace nnc

#endif
