//===- MemoryPlan.h - Where every value of a compiled step lives ----------===//
//
// Code generation and the runtime agree on memory through these two plain
// data structures, which passes/MemoryPlanning.cpp computes:
//
// - StateLayout: every variable (param and state) of a module in one block,
//   at fixed offsets, shared by all graphs of the module, by initialisation
//   and by checkpoints;
// - MemoryPlan: for one graph, the offset of each value in one arena
//   (activations, gradients, temporaries, the batch and the results), reused
//   by values whose lifetimes do not overlap, and the values written straight
//   into variable storage (an `assign` done in place).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_MEMORYPLAN_H
#define NNC_IR_MEMORYPLAN_H

#include "ir/Graph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace nnc {

/// Buffers start on cache-line boundaries, so that vector loads of whole
/// rows never straddle one needlessly.
constexpr int64_t kBufferAlignment = 64;

inline int64_t alignTo(int64_t n, int64_t align) {
  return (n + align - 1) / align * align;
}

class StateLayout {
public:
  struct Entry {
    std::string name;
    TensorType type;
    std::string init;
    bool trainable;
    int64_t offset;
  };

  /// Collects the variables of every graph, in order of first appearance.
  /// A name used with two types is an error.
  static llvm::Expected<StateLayout> fromModule(const Module &m);

  llvm::ArrayRef<Entry> entries() const { return list; }
  const Entry *lookup(llvm::StringRef name) const;
  int64_t byteSize() const { return bytes; }

private:
  std::vector<Entry> list;
  int64_t bytes = 0;
};

enum class Storage : uint8_t {
  Arena,    ///< the step's scratch arena, at `offset`
  State,    ///< the variable block, at `offset`
  Constant, ///< a compile-time constant; code generation materialises it
};

struct BufferSlot {
  Storage storage = Storage::Constant;
  int64_t offset = 0;
};

struct MemoryPlan {
  int64_t arenaBytes = 0;
  /// Every value of the graph's top level (arguments included).
  llvm::DenseMap<const Value *, BufferSlot> slots;

  /// An `assign` that could not be done in place: after the step's last
  /// read of the variable, copy `value` into its storage.
  struct Copy {
    const Value *value;
    int64_t stateOffset;
    int64_t bytes;
  };
  std::vector<Copy> finalCopies;

  /// Statistics for --stats.
  int64_t bytesWithoutReuse = 0;
  unsigned inPlaceAssigns = 0;

  BufferSlot slot(const Value *v) const { return slots.lookup(v); }
};

} // namespace nnc

#endif // NNC_IR_MEMORYPLAN_H
