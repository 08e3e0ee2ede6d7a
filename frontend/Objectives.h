//===- Objectives.h - Losses and metrics ------------------------*- C++ -*-===//
//
// What `loss` and `metric` statements may call. Each lowers to a scalar:
// softmax_cross_entropy(logits, labels) is the IR op averaged over the batch,
// mean_squared_error(pred, target) the mean of the squared differences,
// accuracy(logits, labels) the fraction of rows whose argmax is the label.
// Losses can be metrics too.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_OBJECTIVES_H
#define NNC_FRONTEND_OBJECTIVES_H

#include "frontend/LoweringContext.h"

namespace nnc::nn {

struct ObjectiveDef {
  Signature signature;
  std::optional<Operand> (*lower)(CallContext &call);
  bool isLoss; ///< Metrics are every objective; losses only these.
  llvm::StringRef summary;

  llvm::StringRef name() const { return signature.callee; }
};

llvm::ArrayRef<ObjectiveDef> allObjectives();
const ObjectiveDef *lookupObjective(llvm::StringRef name);

} // namespace nnc::nn

#endif // NNC_FRONTEND_OBJECTIVES_H
