//===- Profile.cpp - Where a compiled step's time goes --------------------===//
#include "runtime/Profile.h"

#include "ir/Cost.h"
#include "runtime/Communicator.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <x86intrin.h>

namespace nnc {

double cycleCounterFrequency() {
  static const double frequency = [] {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    uint64_t c1 = __rdtsc();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    return double(c1 - c0) / seconds;
  }();
  return frequency;
}

void printProfile(llvm::raw_ostream &os, const JitExecutor &exec) {
  const CompiledStep &step = exec.compiledStep();
  double hz = cycleCounterFrequency();
  int64_t calls = exec.runs();
  unsigned threads = exec.numThreads();
  size_t numKernels = step.kernelNames.size();
  // A kernel's time is its slowest thread's: the others wait for it at the
  // next barrier. Waits are reported apart, averaged over the threads.
  std::vector<double> slowest(numKernels, 0), mean(numKernels, 0);
  double waits = 0;
  for (unsigned t = 0; t < threads; ++t) {
    llvm::ArrayRef<uint64_t> c = exec.threadCycles(t);
    for (size_t k = 0; k < numKernels; ++k) {
      double work = double(c[2 * k + 1]) / hz;
      slowest[k] = std::max(slowest[k], work);
      mean[k] += work / threads;
      waits += double(c[2 * k]) / hz / threads;
    }
  }
  // The runtime's part of a step: writing the batch, and the wait at the
  // barrier after it.
  const JitExecutor::ArgumentWriteCycles &writes = exec.argumentWriteCycles();
  double writeSlowest = 0, writeMean = 0;
  for (unsigned t = 0; t < threads && writes.runs; ++t) {
    double work = double(writes.writing[t]) / hz;
    writeSlowest = std::max(writeSlowest, work);
    writeMean += work / threads;
    waits += double(writes.waiting[t]) / hz / threads;
  }
  unsigned barriersPerStep = step.barriers + (writes.runs ? 1 : 0);
  double total = waits + writeSlowest;
  for (double s : slowest)
    total += s;
  auto perStep = [&](double seconds) {
    return calls ? 1e6 * seconds / calls : 0.0;
  };
  os << fmt::format("profile of @{}: {} steps on {} thread{}, {:.3f} s in "
                    "{}kernels and barriers, {:.1f} us per step\n",
                    step.graphName, calls, threads, threads == 1 ? "" : "s",
                    total, writes.runs ? "writing the batch, " : "",
                    perStep(total));
  os << fmt::format("  {:<44} {:>9} {:>6} {:>8} {:>10} {:>9} {:>8} {:>7} "
                    "{:>8}\n",
                    "kernel", "total ms", "share", "best us", "MFLOP/call",
                    "KB/call", "GFLOP/s", "GB/s", "balance");
  double flopsTotal = 0;
  // Exchanges are numbered in the order the step starts them, which is
  // the order of their rows.
  std::vector<double> exchangeWaits;
  if (const Communicator *comm = exec.communicator())
    exchangeWaits = comm->exchangeWaitSeconds();
  size_t exchangeIndex = 0;
  for (size_t k = 0; k < numKernels; ++k) {
    double seconds = slowest[k];
    const Op &op = *step.kernelOps[k];
    if (op.is(OpKind::AllReduce)) {
      // An exchange: thread 0's time starting it, polling it and waiting
      // for it, which the other threads spend at the barrier after; the
      // bytes are the bucket's, and GB/s what the exchange achieved if
      // none of it were hidden.
      double bytes = 0;
      for (const Value *v : op.operands())
        bytes += double(v->type().byteSize());
      double perCall = calls ? seconds / calls : 0;
      double best = calls ? double(exec.bestKernelCycles()[k]) / hz : 0.0;
      os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}% {:>8.1f} {:>10} {:>9.1f} "
                        "{:>8} {:>7.1f} {:>7.0f}%\n",
                        step.kernelNames[k], 1e3 * seconds,
                        total > 0 ? 100 * seconds / total : 0.0, 1e6 * best, "",
                        bytes / 1e3, "",
                        perCall > 0 ? bytes / perCall / 1e9 : 0.0,
                        seconds > 0 ? 100 * mean[k] / seconds : 100.0);
      // The part of that time thread 0 spent blocked until the other
      // ranks' sums arrived: what the kernels before did not hide.
      if (exchangeIndex < exchangeWaits.size()) {
        double waiting = std::min(exchangeWaits[exchangeIndex], seconds);
        os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}%\n",
                          "  of which waiting for the other ranks",
                          1e3 * waiting,
                          total > 0 ? 100 * waiting / total : 0.0);
      }
      ++exchangeIndex;
      continue;
    }
    Cost cost = estimateCost(op);
    flopsTotal += cost.flops * calls;
    double perCall = calls ? seconds / calls : 0;
    double best = calls ? double(exec.bestKernelCycles()[k]) / hz : 0.0;
    os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}% {:>8.1f} {:>10.3f} {:>9.1f} "
                      "{:>8.1f} {:>7.1f} {:>7.0f}%\n",
                      step.kernelNames[k], 1e3 * seconds,
                      total > 0 ? 100 * seconds / total : 0.0, 1e6 * best,
                      cost.flops / 1e6, cost.bytes / 1e3,
                      perCall > 0 ? cost.flops / perCall / 1e9 : 0.0,
                      perCall > 0 ? cost.bytes / perCall / 1e9 : 0.0,
                      seconds > 0 ? 100 * mean[k] / seconds : 100.0);
  }
  if (writes.runs)
    os << fmt::format(
        "  {:<44} {:>9.1f} {:>5.1f}% {:>8.1f} {:>10} {:>9} {:>8} {:>7} "
        "{:>7.0f}%\n",
        "writing the batch (runtime)", 1e3 * writeSlowest,
        total > 0 ? 100 * writeSlowest / total : 0.0,
        1e6 * double(writes.best) / hz, "", "", "", "",
        writeSlowest > 0 ? 100 * writeMean / writeSlowest : 100.0);
  os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}%\n",
                    fmt::format("barrier waits ({} per step)", barriersPerStep),
                    1e3 * waits, total > 0 ? 100 * waits / total : 0.0);
  os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}% {:>8} {:>10.3f} {:>9} "
                    "{:>8.1f}\n",
                    "total", 1e3 * total, 100.0, "",
                    calls ? flopsTotal / calls / 1e6 : 0.0, "",
                    total > 0 ? flopsTotal / total / 1e9 : 0.0);
}

} // namespace nnc
