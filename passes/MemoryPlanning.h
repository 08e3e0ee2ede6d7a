//===- MemoryPlanning.h - Assigning buffers to values -----------*- C++ -*-===//
#ifndef NNC_PASSES_MEMORYPLANNING_H
#define NNC_PASSES_MEMORYPLANNING_H

#include "ir/MemoryPlan.h"

namespace nnc {

/// Plans the memory of one graph: variables at their offsets in `layout`,
/// every other value in the arena, where a buffer is reused once the last
/// reader of its value has run (first fit, as Glow's MemoryAllocator). An
/// `assign` whose value is computed element by element after the variable's
/// last other read writes the variable's storage directly; the others become
/// copies at the end of the step. The values an `allreduce` sums lie side by
/// side, in operand order, each on its own cache lines, so that one range
/// of the arena holds its bucket; where they can, they are summed in place.
llvm::Expected<MemoryPlan> planMemory(const Graph &g,
                                      const StateLayout &layout);

} // namespace nnc

#endif
