//===- ExchangeCalls.h - A step's calls into the runtime's exchange -------===//
//
// The `allreduce` op is the exception to generated kernels: its code is a
// call into the runtime (StepContext::exchange), made by thread 0 while the
// other threads go on with the kernels that do not need its result. The
// step starts an exchange where its allreduce stands, lets the exchanges in
// flight progress after each kernel, and waits for one just before the
// first op that reads its results.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_EXCHANGECALLS_H
#define NNC_CODEGEN_EXCHANGECALLS_H

#include "ir/MemoryPlan.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/IR/IRBuilder.h"

#include <vector>

namespace nnc::codegen {

class ExchangeCalls {
public:
  /// Where the step keeps what the calls need: the exchange function and
  /// its state from the context, the thread index, and the thread's
  /// profile counters (null without profiling).
  struct StepValues {
    llvm::Value *function, *state, *thread, *cycles;
  };
  using AddressOf = llvm::function_ref<llvm::Value *(llvm::IRBuilder<> &,
                                                     const nnc::Value *)>;

  ExchangeCalls(const Graph &g, const MemoryPlan &plan);

  /// Whether the graph has allreduce ops at all.
  bool any() const { return !firstReader.empty(); }

  /// Emits the start of `allreduce`'s exchange: copies of the operands not
  /// summed in place into its block, then the call. `profileSlot` is the
  /// kernel index whose counters take its time.
  void start(llvm::IRBuilder<> &b, const StepValues &v, const Op &allreduce,
             unsigned profileSlot, AddressOf addressOf);
  /// Emits the waits for the exchanges whose results `op` is the first to
  /// read; returns their allreduce ops.
  std::vector<const Op *> waitBefore(llvm::IRBuilder<> &b, const StepValues &v,
                                     const Op &op);
  /// Emits the waits for every exchange still in flight.
  void waitForAll(llvm::IRBuilder<> &b, const StepValues &v);
  /// After a kernel: lets the exchanges in flight progress, if any are.
  void poll(llvm::IRBuilder<> &b, const StepValues &v);

private:
  struct InFlight {
    const Op *op;
    int32_t index;
    unsigned profileSlot;
  };
  /// Emits `exchange(state, request, index, data, count)` on thread 0,
  /// timed into `profileSlot`'s counter.
  void call(llvm::IRBuilder<> &b, const StepValues &v, int32_t request,
            int32_t index, llvm::Value *data, int64_t count,
            unsigned profileSlot,
            llvm::function_ref<void(llvm::IRBuilder<> &)> before = {});
  void wait(llvm::IRBuilder<> &b, const StepValues &v, const InFlight &e);

  const MemoryPlan &plan;
  /// Each allreduce, and the first op after it reading its results.
  llvm::DenseMap<const Op *, const Op *> firstReader;
  std::vector<InFlight> inFlight;
  int32_t started = 0;
};

} // namespace nnc::codegen

#endif
