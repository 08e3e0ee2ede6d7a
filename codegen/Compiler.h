//===- Compiler.h - Graphs to native code through LLVM's ORC JIT ----------===//
//
// Compiles every graph of a module, with its memory plan, to native code:
// one step function per graph that runs its kernels in order over the
// planned arena. The step functions and the kernels are LLVM modules of
// their own, optimised in parallel for the host CPU (O3, or a short
// pipeline for kernels whose vectors the emitters wrote) and compiled and
// linked in-process by ORC's LLJIT.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_COMPILER_H
#define NNC_CODEGEN_COMPILER_H

#include "codegen/StepABI.h"
#include "ir/MemoryPlan.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm::orc {
class LLJIT;
}

namespace nnc {

struct CodegenOptions {
  /// Optimise the LLVM IR (off only to inspect unoptimised code).
  bool optimize = true;
  /// Widest vector LLVM's vectorisers should prefer, in bits; 0 leaves it
  /// to the target (256 on AVX-512 machines unless told otherwise).
  unsigned preferVectorWidth = 0;
  /// How hard LLVM's code generator works (nnc's -O0 to -O3): its
  /// CodeGenOptLevel None, Less, Default or Aggressive. No level changes a
  /// result: none reassociates or contracts floating point. The IR passes
  /// are the same at every level (docs/codegen.md has the trade-off).
  unsigned machineOptLevel = 3;
  /// Count each kernel's cycles into StepContext::kernelCycles.
  bool profile = false;
  /// Name the compiled functions in /tmp/perf-<pid>.map for Linux perf.
  bool perfMap = false;
  /// In kernels that compute a variable's next value (the optimizer's
  /// update), let square roots and divisions use the hardware's reciprocal
  /// estimates refined by one Newton step: an ulp or two from the exact
  /// result. Off by default: on Zen 4 the exact instructions are as fast or
  /// faster (see docs/codegen.md).
  bool fastUpdates = false;
  /// Store an argument of the graph blocked by the threads that own its
  /// columns when only kernels that read it by owner read it (see
  /// CompiledStep::argumentsBlockedByOwner). Off only to compare layouts.
  bool blockArgumentsByOwner = true;
  /// In matrix products whose left operand is probably mostly zeros (the
  /// model's inputs, relu outputs), skip the depths at which a row tile of
  /// it is all zeros. The sums are unchanged: a skipped term is 0 * b (only
  /// an infinite or NaN b, where training has already diverged, would
  /// differ).
  bool skipZeros = true;
  /// Compile kernel bodies whose structure matches a specialised kernel
  /// (element-wise loops, row-wise heads, register-tiled contractions) with
  /// it; off, every kernel comes from the generic loop-nest generator
  /// (codegen/GenericKernel.h), which tests use to check both paths.
  bool specialize = true;
  /// Where to print LLVM IR before and after optimisation, and assembly.
  llvm::raw_ostream *printLLVM = nullptr;
  llvm::raw_ostream *printOptimizedLLVM = nullptr;
  llvm::raw_ostream *printAssembly = nullptr;
};

/// The code of one graph.
struct CompiledStep {
  std::string graphName;
  StepFunction function = nullptr;
  const MemoryPlan *plan = nullptr;
  /// The kernels in the order they run (what --profile reports), and the
  /// op each computes.
  std::vector<std::string> kernelNames;
  std::vector<const Op *> kernelOps;
  /// Barriers the step calls: only where a kernel depends on work other
  /// threads did since the last one.
  unsigned barriers = 0;
  /// Whether the step counts its kernels' cycles (CodegenOptions::profile).
  bool profiled = false;
  /// The thread scratch memory the step needs per thread (StepContext).
  int64_t threadScratchBytes = 0;
  /// Per argument of the graph: whether the step expects it blocked by
  /// owner. Viewed as [rows, columns] (its first dimension by the rest),
  /// the columns split between the threads by nnc::ownedRows, thread t's
  /// columns [c0, c1) of row r are at element rows * c0 + r * (c1 - c0) +
  /// (c - c0): each thread's part of the batch in pages of its own. With
  /// one thread that is the usual row-major layout.
  std::vector<bool> argumentsBlockedByOwner;
};

class CompiledProgram {
public:
  ~CompiledProgram();

  /// Compiles `graphs[i]` with `plans[i]`.
  static llvm::Expected<std::unique_ptr<CompiledProgram>>
  compile(llvm::ArrayRef<const Graph *> graphs,
          llvm::ArrayRef<const MemoryPlan *> plans,
          const CodegenOptions &options);

  const CompiledStep *step(llvm::StringRef graphName) const;
  llvm::ArrayRef<CompiledStep> steps() const { return compiled; }

  /// Wall time from LLVM IR generation to callable code.
  double compileSeconds() const { return seconds; }
  /// Its parts: generating LLVM IR; optimizing it and making machine code,
  /// module by module on `threads` threads (wall time, and each part's
  /// time summed over the threads); linking.
  struct Phases {
    double emit = 0, compile = 0, link = 0;
    double optimizeThreadSeconds = 0, machineCodeThreadSeconds = 0;
    unsigned threads = 1;
  };
  const Phases &phases() const { return phaseSeconds; }
  /// The host CPU the code was compiled for.
  const std::string &cpuName() const { return cpu; }

private:
  CompiledProgram() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<CompiledStep> compiled;
  double seconds = 0;
  Phases phaseSeconds;
  std::string cpu;
};

} // namespace nnc

#endif // NNC_CODEGEN_COMPILER_H
