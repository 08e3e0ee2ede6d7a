//===- Objectives.h - Losses and metrics ------------------------*- C++ -*-===//
//
// Losses are functions a model may call anywhere, as `loss` expressions
// compose them (`softmax_cross_entropy(logits, y) + 1e-4 * l2(w)`); each
// lowers to a scalar mean over the batch. Metrics are what `metric`
// statements call. Every metric lowers to a mean over the batch of one
// statistic per example, so that the runtime can add the statistics of
// every example of a data set and finish the metric once over all of them:
//
//   scalar means        accuracy, top_k_accuracy, any loss
//   f32[C, C]           precision, recall, f1, confusion_matrix: the mean of
//                       one_hot(label) (x) one_hot(predicted class), a
//                       confusion matrix divided by the batch
//   f32[3, D]           r2: the means of (pred - target)^2, target and
//                       target^2 per output column
//
// The runtime (runtime/Metrics.h) finishes each metric by its name.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_OBJECTIVES_H
#define NNC_FRONTEND_OBJECTIVES_H

#include "frontend/LoweringContext.h"

namespace nnc::nn {

/// Confusion matrices are built per example in the graph, C * C floats
/// each, so classifiers with more classes than this cannot have them.
constexpr int64_t kMaxConfusionClasses = 256;

struct ObjectiveDef {
  Signature signature;
  std::optional<Operand> (*lower)(CallContext &call);
  /// Losses are functions that can be called anywhere; the other metrics
  /// only in a `metric` statement.
  bool isLoss;
  llvm::StringRef summary;
  /// The name of the metric's result when it is not the callee's
  /// (`top_5_accuracy` for top_k_accuracy(..., k=5)); null for the callee.
  std::string (*resultName)(CallContext &call) = nullptr;

  llvm::StringRef name() const { return signature.callee; }
};

llvm::ArrayRef<ObjectiveDef> allObjectives();
const ObjectiveDef *lookupObjective(llvm::StringRef name);

} // namespace nnc::nn

#endif // NNC_FRONTEND_OBJECTIVES_H
