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
/// share of the step, FLOPs and bytes per call, GFLOP/s and GB/s, and how
/// evenly its threads shared the work (their mean time over the slowest's).
/// The time of a kernel is its slowest thread's; the waits at barriers make
/// a row of their own, and so does the runtime's writing of the batch when
/// the runs wrote it (JitExecutor::run(write)), so the shares add up to the
/// step. An exchange of a data-parallel step (allreduce) is a row too: its
/// time is thread 0's starting, polling and waiting for it, its bytes the
/// bucket's, and a row under it says how much of that time thread 0 was
/// blocked waiting for the other ranks (the part the step did not hide).
void printProfile(llvm::raw_ostream &os, const JitExecutor &exec);

} // namespace nnc

#endif
