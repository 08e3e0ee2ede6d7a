//===- InProcessRanks.h - The ranks of a job as threads of one process ----===//
//
// `nnc model.nn --ranks N --train` runs a data-parallel job inside one
// process: N threads, each a rank with its own arena, weights and share of
// every batch, exactly as N processes under mpirun would be. They exchange
// through memory instead of MPI.
//
// Why a process would split itself into ranks: a convnet's memory-bound
// kernels (patch extraction, pooling gradients) scale poorly when their
// threads share one batch's activations, which do not fit in cache, while a
// rank's half of the batch does (docs/benchmarks.md, "Two ranks against two
// threads").
//
// Sums over the ranks add the ranks' values in rank order, whatever order
// the threads arrive in, so a run is bit-identical from run to run; with 2
// ranks it is bit-identical to `mpirun -np 2` too (a sum of two is the same
// either way round).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_INPROCESSRANKS_H
#define NNC_RUNTIME_INPROCESSRANKS_H

#include "runtime/Communicator.h"
#include "runtime/Dataset.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nnc {

/// The communicators of `ranks` ranks that share this process, rank r's at
/// index r. Each is used by one thread, its rank's; they live until the
/// last of them is destroyed.
std::vector<std::unique_ptr<Communicator>> makeInProcessRanks(int ranks);

/// The data set the ranks of a job in one process share: the first rank to
/// ask loads it, the others wait for it and read the same copy (training
/// and evaluation only read a data set). The ranks of an mpirun job,
/// processes of their own, each load their own.
class SharedDataset {
public:
  using Loader =
      llvm::function_ref<llvm::Expected<std::shared_ptr<const Dataset>>()>;
  /// What `load` gives, loaded once for all ranks: the first caller's
  /// loader runs, and its error is every rank's.
  llvm::Expected<std::shared_ptr<const Dataset>> get(Loader load);

private:
  std::once_flag once;
  std::shared_ptr<const Dataset> data;
  std::string error;
};

} // namespace nnc

#endif
