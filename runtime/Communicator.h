//===- Communicator.h - The ranks of a data-parallel job --------*- C++ -*-===//
//
// In a data-parallel job (`mpirun -np N nnc model.nn --train`) N processes,
// the ranks, train one model: each computes its share of every batch, and
// the compiled step sums the gradients over the ranks through the
// `allreduce` ops, which call the communicator's step exchange. The rest of
// the runtime uses it to agree before training (rank 0's initial weights,
// the same model and data everywhere) and to add up the evaluation.
//
// A process that runs alone has no communicator: everything works as if
// there were one rank. runtime/MpiCommunicator.cpp implements it with MPI,
// when nnc is built with it (NNC_HAVE_MPI).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_COMMUNICATOR_H
#define NNC_RUNTIME_COMMUNICATOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// What a compiled step's allreduce ops call: StepContext::exchange and
/// its state (codegen/StepABI.h).
struct StepExchange {
  void (*function)(void *state, int32_t request, int32_t index, float *data,
                   int64_t count) = nullptr;
  void *state = nullptr;
};

class Communicator {
public:
  virtual ~Communicator();

  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Ranks on this machine, and this rank among them.
  virtual int localSize() const = 0;
  virtual int localRank() const = 0;

  /// Sums `values` over the ranks, in place. Every rank calls it with as
  /// many values.
  virtual llvm::Error sum(llvm::MutableArrayRef<double> values) = 0;
  /// Gives every rank rank 0's `bytes`.
  virtual llvm::Error broadcast(llvm::MutableArrayRef<char> bytes) = 0;
  /// Every rank's `mine` (as many values on every rank), rank after rank.
  virtual llvm::Expected<std::vector<uint64_t>>
  gather(llvm::ArrayRef<uint64_t> mine) = 0;

  /// The exchange a compiled step calls. Its failures (an exchange that
  /// does not complete in time) cannot unwind through compiled code: the
  /// step runs on, and takeStepError() reports them after it.
  virtual StepExchange stepExchange() = 0;
  virtual llvm::Error takeStepError() = 0;
  /// Per exchange of the step (by its index), the seconds the step's
  /// thread 0 spent blocked waiting for it to complete, summed over the
  /// steps run: the part of the exchange that computing did not hide.
  /// Empty where nothing is measured.
  virtual std::vector<double> exchangeWaitSeconds() const { return {}; }

  /// Ends every rank of the job at once, with `exitCode`: what a rank does
  /// when it fails alone, as the others may be waiting for it in an
  /// exchange. For tools/ only: nothing below them ends the process.
  [[noreturn]] virtual void abortJob(int exitCode) = 0;
};

/// Something every rank must have the same of: the compiled graphs, each
/// file of the data set, the checkpoint started from.
struct Fingerprint {
  std::string what;   ///< "the training images"
  std::string detail; ///< what this rank has: "mnist", "seed 3"
  uint64_t hash = 0;
};

/// Compares every rank's fingerprints with rank 0's. On every rank, the
/// same error naming each rank and what differs (with rank 0's details),
/// or success.
llvm::Error checkSameOnEveryRank(Communicator &comm,
                                 llvm::ArrayRef<Fingerprint> mine);

/// The process's place in a job mpirun started, from the environment that
/// launchers set before the process starts (Open MPI's OMPI_COMM_WORLD_*,
/// the PMI_* of MPICH's and Slurm's); nullopt outside one.
struct LaunchedRank {
  int rank = 0, size = 1, localSize = 1;
};
std::optional<LaunchedRank> launchedRank();

/// Whether this nnc was built with MPI.
bool haveMPI();

/// Joins the job mpirun started (MPI_Init); fails without MPI.
llvm::Expected<std::unique_ptr<Communicator>> joinMPIJob();

} // namespace nnc

#endif
