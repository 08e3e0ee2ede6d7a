//===- StepCodegen.h - One graph's step as LLVM IR --------------*- C++ -*-===//
#ifndef NNC_CODEGEN_STEPCODEGEN_H
#define NNC_CODEGEN_STEPCODEGEN_H

#include "codegen/Compiler.h"

#include "llvm/IR/Module.h"
#include "llvm/Support/CodeGen.h"

namespace llvm {
class TargetMachine;
}

#include <functional>

namespace nnc::codegen {

struct TargetInfo {
  std::string cpu;
  std::string features;
};

/// Set on the modules of kernels whose emitters write their vector code
/// themselves (contractions and row-wise kernels): they need clean-up and
/// loop-invariant code motion, not O3's whole pipeline.
inline constexpr llvm::StringLiteral ExplicitVectorsFlag =
    "nnc.explicit-vectors";

/// Makes an empty module, in a context of its own, named `name`.
using ModuleFactory = std::function<llvm::Module &(llvm::StringRef name)>;

/// Adds to `m` the step function `nnc.step.<graph>`, which calls its
/// kernels in order with barriers where they depend on each other's
/// threads. Each compute op of the graph becomes a kernel function, defined
/// in a module of its own from `newModule` and declared in `m`, taking its
/// buffers as noalias pointers (a buffer read and written in place is
/// passed once).
llvm::Expected<llvm::Function *>
emitStep(llvm::Module &m, const ModuleFactory &newModule, const Graph &g,
         const MemoryPlan &plan, const CodegenOptions &options,
         const TargetInfo &target, CompiledStep &step);

std::string stepFunctionName(const Graph &g);

/// The optimisation pipeline the JIT runs on each module (O3, or the short
/// one for kernels that write their own vectors), for other users of the
/// same modules (ObjectEmission.cpp).
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm);

/// nnc's -O level (0 to 3) as LLVM's code generator's.
llvm::CodeGenOptLevel machineCodeOptLevel(unsigned level);

} // namespace nnc::codegen

#endif
