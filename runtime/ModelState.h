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
/// name (parameters as `dense_1.weight`, optimizer state as `adam.m.*`).
llvm::Error saveModelState(const ModelState &state, llvm::StringRef path);

/// Reads the parameters from a checkpoint, and the optimizer state when the
/// checkpoint has it (a checkpoint of parameters alone starts the optimizer
/// afresh). A tensor missing, of another shape or type, or unknown to the
/// model is an error naming it.
llvm::Error loadModelState(ModelState &state, llvm::StringRef path);

/// Element conversion between host memory and HostTensor.
double loadElement(const void *base, ElementType e, int64_t i);
void storeElement(void *base, ElementType e, int64_t i, double v);

} // namespace nnc

#endif
