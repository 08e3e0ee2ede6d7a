//===- DataParallel.h - How the ranks of a job start and end together -----===//
//
// Before training, the ranks of a data-parallel job check that they would
// train the same model on the same data from the same weights, and every
// rank takes rank 0's weights (as Horovod broadcasts them). After it, they
// compare their weights, which must be bit-identical: every rank applies
// the same update, computed from the same summed gradients.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_DATAPARALLEL_H
#define NNC_RUNTIME_DATAPARALLEL_H

#include "ir/Graph.h"
#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/ModelState.h"

namespace nnc {

/// What the ranks must share before training.
struct StartingPoint {
  const Module *module = nullptr; ///< the compiled graphs
  std::string options; ///< the settings outside the graphs (seed, epochs)
  const Dataset *data = nullptr; ///< null when nothing reads data
  const ModelState *state = nullptr;  ///< the weights before training
  std::string stateOrigin; ///< "initialized from seed 0", "loaded from F"
};

/// The fingerprints of a starting point, in an order every rank shares.
std::vector<Fingerprint> fingerprintsOf(const StartingPoint &start);

/// Refuses a job whose ranks differ from rank 0 in any fingerprint (the
/// same error on every rank), then gives every rank rank 0's weights.
llvm::Error startTogether(Communicator &comm, const StartingPoint &start,
                          ModelState &state);

/// A hash of every variable's bytes, in layout order.
uint64_t hashState(const ModelState &state);

/// Every rank's hashState(), rank after rank.
llvm::Expected<std::vector<uint64_t>>
weightsOfEveryRank(Communicator &comm, const ModelState &state);

} // namespace nnc

#endif
