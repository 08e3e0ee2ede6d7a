//===- StepCodegen.h - One graph's step as LLVM IR --------------*- C++ -*-===//
#ifndef NNC_CODEGEN_STEPCODEGEN_H
#define NNC_CODEGEN_STEPCODEGEN_H

#include "codegen/Compiler.h"

#include "llvm/IR/Module.h"

namespace nnc::codegen {

struct TargetInfo {
  std::string cpu;
  std::string features;
};

/// Adds to `m` the step function `nnc.step.<graph>` and its kernels: each
/// compute op of the graph becomes a kernel function taking its buffers as
/// noalias pointers (a buffer read and written in place is passed once), and
/// the step calls them in order with a barrier after each.
llvm::Expected<llvm::Function *> emitStep(llvm::Module &m, const Graph &g,
                                          const MemoryPlan &plan,
                                          const CodegenOptions &options,
                                          const TargetInfo &target,
                                          CompiledStep &step);

std::string stepFunctionName(const Graph &g);

} // namespace nnc::codegen

#endif
