//===- ModelState.h - The variables of a model in memory --------*- C++ -*-===//
//
// One block holding every param and state tensor of a module at the offsets
// of its StateLayout: the compiled steps address it directly, the
// interpreter reads and writes it by name, checkpoints save and load it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_MODELSTATE_H
#define NNC_RUNTIME_MODELSTATE_H

#include "ir/HostTensor.h"
#include "ir/MemoryPlan.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/Checkpoint.h"

#include "llvm/Support/Error.h"

namespace nnc {

class ModelState {
public:
  /// The block for `layout`, zeroed; an error naming its size when the
  /// system refuses it.
  static llvm::Expected<ModelState> create(StateLayout layout);
  /// For layouts known to be small (tests): running out of memory is
  /// reported as a failed `new` is.
  explicit ModelState(StateLayout layout);

  const StateLayout &layout() const { return stateLayout; }
  char *data() { return block.data(); }
  const char *data() const { return block.data(); }

  /// Gives every variable its initial value. Each variable draws from its
  /// own generator, seeded from `seed` and its name, so adding a layer does
  /// not change the others' initial values. See docs/runtime.md.
  llvm::Error initialize(uint64_t seed);

  /// The bytes of one variable.
  void *data(const StateLayout::Entry &e) { return block.data() + e.offset; }
  const void *data(const StateLayout::Entry &e) const {
    return block.data() + e.offset;
  }

  /// Copies a variable to and from the interpreter's representation.
  HostTensor read(const StateLayout::Entry &e) const;
  void write(const StateLayout::Entry &e, const HostTensor &t);

private:
  ModelState(StateLayout layout, AlignedBuffer block)
      : stateLayout(std::move(layout)), block(std::move(block)) {}
  StateLayout stateLayout;
  AlignedBuffer block;
};

/// Writes every variable of `state` to a safetensors checkpoint under its
/// name (parameters as `dense_1.weight`, optimizer state as `adam.m.*`),
/// with `metadata` (by default {"format": "nnc"}; a training run adds its
/// position, runtime/TrainingProgress.h).
llvm::Error saveModelState(const ModelState &state, llvm::StringRef path,
                           const CheckpointMetadata &metadata = {
                               {"format", "nnc"}});

/// Whether a variable is the state of training rather than the model's
/// (parameters, standardisation statistics): the optimizer's (`adam.*`,
/// `sgd.*`) and dropout's step counter (`dropout.step`).
bool isOptimizerState(llvm::StringRef name);

/// What a load takes from a checkpoint.
enum class LoadScope {
  /// --resume: every variable, all of which the checkpoint must hold.
  Everything,
  /// --load: the parameters, and the rest when the checkpoint has it (a
  /// checkpoint of parameters alone starts the optimizer afresh); a tensor
  /// unknown to the model is an error.
  WeightsAndOptimizer,
  /// --load-weights: the parameters, and the model's other variables when
  /// the checkpoint has them; never optimizer state, and tensors the model
  /// does not have (another optimizer's state) are ignored.
  Weights,
};

/// Reads `state` from a checkpoint as `scope` says, and its metadata into
/// `metadata` when given. A tensor missing, or of another shape or type, is
/// an error naming it. Returns the names of the variables read.
llvm::Expected<std::vector<std::string>>
loadModelState(ModelState &state, llvm::StringRef path,
               LoadScope scope = LoadScope::WeightsAndOptimizer,
               CheckpointMetadata *metadata = nullptr);

/// Element conversion between host memory and HostTensor.
double loadElement(const void *base, ElementType e, int64_t i);
void storeElement(void *base, ElementType e, int64_t i, double v);

} // namespace nnc

#endif
