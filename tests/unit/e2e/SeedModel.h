// The seed model (Flatten -> Dense(128, relu) -> Dense(10), cross-entropy,
// accuracy) built with the IR builder, for tests that must not depend on the
// model language.
#ifndef NNC_TESTS_E2E_SEEDMODEL_H
#define NNC_TESTS_E2E_SEEDMODEL_H

#include "ir/Builder.h"

#include <memory>

namespace nnc::test {

inline std::unique_ptr<Graph> seedModel(int64_t batch, int64_t hidden = 128) {
  auto g = std::make_unique<Graph>("mnist_mlp");
  Builder b(*g);
  TensorType f32(ElementType::F32, {});
  Value *x = g->addArgument(f32.withShape({batch, 28, 28}), "x");
  Value *y = g->addArgument(TensorType(ElementType::I32, {batch}), "y");
  Value *w1 =
      b.param("dense_1.weight", f32.withShape({784, hidden}), "glorot_uniform");
  Value *b1 = b.param("dense_1.bias", f32.withShape({hidden}), "zeros");
  Value *w2 =
      b.param("dense_2.weight", f32.withShape({hidden, 10}), "glorot_uniform");
  Value *b2 = b.param("dense_2.bias", f32.withShape({10}), "zeros");
  Value *h = b.reshape(x, {batch, 784});
  h = b.relu(b.add(b.matmul(h, w1), b1));
  Value *logits = b.add(b.matmul(h, w2), b2);
  Value *loss =
      b.reduce(OpKind::ReduceMean, b.softmaxCrossEntropy(logits, y), {0});
  Value *correct = b.compare("eq", b.argmax(logits, 1), y);
  Value *accuracy =
      b.reduce(OpKind::ReduceMean, b.cast(correct, ElementType::F32), {0});
  b.ret({loss, accuracy}, {"loss", "accuracy"});
  return g;
}

} // namespace nnc::test

#endif
