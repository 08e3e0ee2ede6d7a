//===- Passes.h - Every pass nnc has ----------------------------*- C++ -*-===//
#ifndef NNC_PASSES_PASSES_H
#define NNC_PASSES_PASSES_H

#include "passes/Pass.h"

namespace nnc {

std::unique_ptr<Pass> createDeadCodeEliminationPass();
std::unique_ptr<Pass> createCommonSubexpressionEliminationPass();
std::unique_ptr<Pass> createCanonicalizePass();
std::unique_ptr<Pass> createAutodiffPass();
std::unique_ptr<Pass> createAdamPass();
std::unique_ptr<Pass> createSGDPass();
std::unique_ptr<Pass> createFusionPass();
std::unique_ptr<Pass> createPerExampleResultsPass();

/// Erases ops whose results are unused and that have no side effects, in
/// kernel bodies too. Returns how many it erased.
unsigned eraseDeadOps(Graph &g);

/// Reorders a graph's ops so that values are defined before use, keeping
/// the existing order where it is valid.
void scheduleTopologically(Graph &g);

} // namespace nnc

#endif // NNC_PASSES_PASSES_H
