//===- Passes.h - Every pass nnc has ----------------------------*- C++ -*-===//
#ifndef NNC_PASSES_PASSES_H
#define NNC_PASSES_PASSES_H

#include "passes/Pass.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace nnc {

std::unique_ptr<Pass> createDeadCodeEliminationPass();
std::unique_ptr<Pass> createCommonSubexpressionEliminationPass();
std::unique_ptr<Pass> createCanonicalizePass();
std::unique_ptr<Pass> createAutodiffPass();
std::unique_ptr<Pass> createAdamPass();
std::unique_ptr<Pass> createSGDPass();
std::unique_ptr<Pass> createFusionPass();
std::unique_ptr<Pass> createConvolutionToGemmPass();
std::unique_ptr<Pass> createMaxPoolTapsPass();
std::unique_ptr<Pass> createPerExampleResultsPass();
std::unique_ptr<Pass> createDataParallelPass();

/// Whether the graph returns gradients (results named grad.<param>, which
/// autodiff adds and an optimizer consumes).
bool hasGradients(const Graph &g);

/// Erases ops whose results are unused and that have no side effects, in
/// kernel bodies too. Returns how many it erased.
unsigned eraseDeadOps(Graph &g);

/// Reorders a graph's ops so that values are defined before use, keeping
/// the existing order where it is valid.
void scheduleTopologically(Graph &g);

/// Moves `members`, in program order, into the body of one `kernel` op
/// named `name`, placed where the last member was. The body gets copies of
/// the ops `recomputed` accepts that members read, so that it reads them
/// from nothing outside; `position` orders those copies. Returns the
/// kernel, or null, leaving the graph as it was, when code generation has
/// no form for the body. Users of the kernel's results that came before it
/// need rescheduling (scheduleTopologically).
Op *outlineKernel(Graph &graph, llvm::ArrayRef<Op *> members,
                  llvm::StringRef name,
                  llvm::function_ref<bool(const Op &)> recomputed,
                  llvm::function_ref<size_t(const Op *)> position);

} // namespace nnc

#endif // NNC_PASSES_PASSES_H
