// The seed model (Flatten -> Dense(128, relu) -> Dense(10), cross-entropy,
// accuracy) and the wider 784-512-512-10, built with the IR builder, for
// tests that must not depend on the model language.
#ifndef NNC_TESTS_E2E_SEEDMODEL_H
#define NNC_TESTS_E2E_SEEDMODEL_H

#include "ir/Builder.h"

#include <memory>
#include <string>

namespace nnc::test {

/// Flatten -> Dense(w, relu) for each hidden width w -> Dense(10), with the
/// loss and accuracy of the model language's `softmax_cross_entropy` and
/// `accuracy`; parameters named as the frontend names them.
inline std::unique_ptr<Graph>
mlpModel(int64_t batch, llvm::ArrayRef<int64_t> hidden, llvm::StringRef name) {
  auto g = std::make_unique<Graph>(name.str());
  Builder b(*g);
  TensorType f32(ElementType::F32, {});
  Value *x = g->addArgument(f32.withShape({batch, 28, 28}), "x");
  Value *y = g->addArgument(TensorType(ElementType::I32, {batch}), "y");
  Value *h = b.reshape(x, {batch, 784});
  int64_t width = 784;
  auto dense = [&](int64_t layer, int64_t outputs) {
    std::string prefix = "dense_" + std::to_string(layer);
    Value *w = b.param(prefix + ".weight", f32.withShape({width, outputs}),
                       "glorot_uniform");
    Value *bias = b.param(prefix + ".bias", f32.withShape({outputs}), "zeros");
    width = outputs;
    return b.add(b.matmul(h, w), bias);
  };
  for (size_t i = 0; i < hidden.size(); ++i)
    h = b.relu(dense(int64_t(i) + 1, hidden[i]));
  Value *logits = dense(int64_t(hidden.size()) + 1, 10);
  Value *loss =
      b.reduce(OpKind::ReduceMean, b.softmaxCrossEntropy(logits, y), {0});
  Value *correct = b.compare("eq", b.argmax(logits, 1), y);
  Value *accuracy =
      b.reduce(OpKind::ReduceMean, b.cast(correct, ElementType::F32), {0});
  b.ret({loss, accuracy}, {"loss", "accuracy"});
  return g;
}

inline std::unique_ptr<Graph> seedModel(int64_t batch, int64_t hidden = 128) {
  return mlpModel(batch, {hidden}, "mnist_mlp");
}

/// 784-512-512-10 (examples/mnist_mlp_wide.nn).
inline std::unique_ptr<Graph> wideModel(int64_t batch) {
  return mlpModel(batch, {512, 512}, "mnist_mlp_wide");
}

} // namespace nnc::test

#endif
