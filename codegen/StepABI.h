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

#include <algorithm>
#include <cstdint>
#include <utility>

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
  /// The runtime's gradient exchange, which the `allreduce` ops of a
  /// data-parallel step call on thread 0 (null in a step without them):
  /// `exchange(exchangeState, request, index, data, count)` with a
  /// request of ExchangeRequest.
  void (*exchange)(void *exchangeState, int32_t request, int32_t index,
                   float *data, int64_t count);
  void *exchangeState;
};

/// What a step asks of StepContext::exchange. Exchanges are numbered in
/// the order the step starts them, from 0; every rank starts the same ones
/// in the same order.
enum ExchangeRequest : int32_t {
  /// Start summing the `count` floats at `data` over the ranks, in place.
  kExchangeStart = 0,
  /// Let the exchanges in flight progress (index, data and count unused).
  kExchangePoll = 1,
  /// Return once exchange `index` has completed (data and count unused).
  kExchangeWait = 2,
};

using StepFunction = void (*)(const StepContext *);

/// Rows of a variable are split between threads in blocks of this many.
constexpr int64_t kRowGranule = 8;

/// [begin, end) of `n` rows owned by thread `t` of `threads`: contiguous,
/// in blocks of kRowGranule, balanced. The kernels that split a variable's
/// rows (codegen's KernelBuilder::ownedRows emits this computation) and
/// the runtime when it writes a batch's columns use this one partition, so
/// that every thread keeps touching the same memory.
inline std::pair<int64_t, int64_t> ownedRows(int64_t n, int64_t t,
                                             int64_t threads) {
  int64_t blocks = (n + kRowGranule - 1) / kRowGranule;
  auto at = [&](int64_t i) {
    return std::min(
        n, int64_t(uint64_t(blocks) * uint64_t(i) / uint64_t(threads)) *
               kRowGranule);
  };
  return {at(t), at(t + 1)};
}

} // namespace nnc

#endif // NNC_CODEGEN_STEPABI_H
