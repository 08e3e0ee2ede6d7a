//===- Passes.cpp - The registry of every pass ----------------------------===//
#include "passes/Passes.h"
#include "passes/PassManager.h"

namespace nnc {

const PassRegistry &PassRegistry::global() {
  static const PassRegistry registry = [] {
    PassRegistry r;
    for (auto create :
         {createDeadCodeEliminationPass,
          createCommonSubexpressionEliminationPass, createCanonicalizePass,
          createAutodiffPass, createAdamPass, createSGDPass,
          createConvolutionToGemmPass, createMaxPoolTapsPass, createFusionPass,
          createPerExampleResultsPass, createDataParallelPass}) {
      std::string name = create()->name().str();
      r.add(name, create);
    }
    return r;
  }();
  return registry;
}

} // namespace nnc
