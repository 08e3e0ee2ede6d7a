//===- Profile.cpp - Where a compiled step's time goes --------------------===//
#include "runtime/Profile.h"

#include "ir/Cost.h"

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
  llvm::ArrayRef<uint64_t> cycles = exec.kernelCycles();
  double hz = cycleCounterFrequency();
  int64_t calls = exec.runs();
  double total = 0;
  for (uint64_t c : cycles)
    total += double(c) / hz;
  os << fmt::format("profile of @{}: {} steps, {:.3f} s in kernels, {:.1f} us "
                    "per step\n",
                    step.graphName, calls, total,
                    calls ? 1e6 * total / calls : 0.0);
  os << fmt::format("  {:<44} {:>9} {:>6} {:>10} {:>9} {:>8} {:>7}\n", "kernel",
                    "total ms", "share", "MFLOP/call", "KB/call", "GFLOP/s",
                    "GB/s");
  double flopsTotal = 0;
  for (size_t k = 0; k < cycles.size(); ++k) {
    double seconds = double(cycles[k]) / hz;
    Cost cost = estimateCost(*step.kernelOps[k]);
    flopsTotal += cost.flops * calls;
    double perCall = calls ? seconds / calls : 0;
    os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}% {:>10.3f} {:>9.1f} {:>8.1f} "
                      "{:>7.1f}\n",
                      step.kernelNames[k], 1e3 * seconds,
                      total > 0 ? 100 * seconds / total : 0.0, cost.flops / 1e6,
                      cost.bytes / 1e3,
                      perCall > 0 ? cost.flops / perCall / 1e9 : 0.0,
                      perCall > 0 ? cost.bytes / perCall / 1e9 : 0.0);
  }
  os << fmt::format("  {:<44} {:>9.1f} {:>5.1f}% {:>10.3f} {:>9} {:>8.1f}\n",
                    "total", 1e3 * total, 100.0,
                    calls ? flopsTotal / calls / 1e6 : 0.0, "",
                    total > 0 ? flopsTotal / total / 1e9 : 0.0);
}

} // namespace nnc
