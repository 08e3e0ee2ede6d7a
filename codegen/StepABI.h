//===- StepABI.h - How the runtime calls a compiled step --------*- C++ -*-===//
//
// A compiled graph is one function, `void step(const StepContext *)`. Every
// thread that runs a step calls it with its own context: the same arena and
// state, its own thread index. Kernels split their work by thread index, and
// the step calls the barrier between kernels that depend on each other.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_STEPABI_H
#define NNC_CODEGEN_STEPABI_H

#include <cstdint>

namespace nnc {

struct StepContext {
  char *arena; ///< MemoryPlan::arenaBytes, aligned to a cache line
  char *state; ///< StateLayout::byteSize(), aligned to a cache line
  int32_t threadIndex;
  int32_t numThreads;
  /// Returns once every thread of the step has called it.
  void (*barrier)(void *barrierState);
  void *barrierState;
  /// With profiling compiled in, this thread's counters: for kernel k,
  /// [2k] accumulates the cycles spent waiting at the barrier before it and
  /// [2k + 1] the cycles spent in it.
  uint64_t *kernelCycles;
  /// CompiledStep::threadScratchBytes for each thread, shared by all:
  /// kernels that split a sum between threads leave their partial sums
  /// there for the others to add up.
  char *threadScratch;
};

using StepFunction = void (*)(const StepContext *);

} // namespace nnc

#endif // NNC_CODEGEN_STEPABI_H
