//===- Profile.h - Where a compiled step's time goes ------------*- C++ -*-===//
#ifndef NNC_RUNTIME_PROFILE_H
#define NNC_RUNTIME_PROFILE_H

#include "runtime/Executor.h"

#include "llvm/Support/raw_ostream.h"

namespace nnc {

/// Ticks per second of the cycle counter the profiling code reads, measured
/// once against the steady clock.
double cycleCounterFrequency();

/// Prints, per kernel of a step compiled with profiling: calls, total time,
/// share of the step, FLOPs and bytes per call, GFLOP/s and GB/s. The time of
/// a kernel is thread 0's, from the kernel's start to the end of the barrier
/// after it, so the shares add up to the step.
void printProfile(llvm::raw_ostream &os, const JitExecutor &exec);

} // namespace nnc

#endif
