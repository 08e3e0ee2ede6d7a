//===- TrainingSchedules.h - Learning-rate schedules, early stopping -*- C++
//-*-===//
//
// Two settings of the train block that act over the run rather than on one
// step:
//
//   lr_schedule step(every=1000, factor=0.5)         # lr * 0.5^floor(s / 1000)
//   lr_schedule cosine(decay_steps=9000, alpha=0.01) # Keras's CosineDecay
//   lr_schedule warmup(500)                          # lr * min(1, (s + 1) /
//   500) lr_schedule cosine(decay_steps=9000, warmup=500) # warm up, then decay
//   early_stopping(monitor=test_loss, patience=3, restore_best=true)
//
// where s is the optimizer step, from 0. A schedule becomes IR in the
// optimizer's update (passes/Optimizers.cpp), which reads the step counter,
// so that the compiled step computes its own learning rate; early stopping
// is the training loop's (runtime/Training.h).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_TRAININGSCHEDULES_H
#define NNC_FRONTEND_TRAININGSCHEDULES_H

#include "frontend/AST.h"
#include "frontend/Arguments.h"

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

struct LearningRateSchedule {
  enum class Decay { None, Step, Cosine };
  /// Linear warm-up over the first `warmup` steps: the rate is multiplied
  /// by min(1, (s + 1) / warmup); the decay counts the steps after it.
  int64_t warmup = 0;
  Decay decay = Decay::None;
  /// step: multiplied by factor^floor(t / every).
  int64_t every = 0;
  double factor = 1;
  /// cosine: multiplied by (1 - alpha) (1 + cos(pi min(t, decaySteps) /
  /// decaySteps)) / 2 + alpha.
  int64_t decaySteps = 0;
  double alpha = 0;

  bool empty() const { return warmup == 0 && decay == Decay::None; }
  /// As the train block writes it: `cosine(decay_steps=9000, alpha=0.01,
  /// warmup=500)`; "" when empty.
  std::string str() const;
  /// The multiplier of the learning rate at step `step` (from 0), in
  /// double: the closed form the compiled update computes in f32.
  double factorAt(int64_t step) const;
};

struct EarlyStopping {
  /// `test_loss`, `test_accuracy`, `train_loss`, ...
  std::string monitor;
  /// Epochs without improvement after which training stops.
  int64_t patience = 0;
  /// An improvement is a change of more than this, in the good direction.
  double minDelta = 0;
  /// Put back the weights of the best epoch when training ends.
  bool restoreBest = false;

  std::string str() const;
};

/// Whether a larger value of `monitor` is better: accuracies, precision,
/// recall, f1 and r2; losses and errors are better smaller.
bool higherIsBetter(llvm::StringRef monitor);

/// Reads `lr_schedule`'s value; reports bad arguments at their location
/// and returns nullopt after one.
std::optional<LearningRateSchedule>
readLearningRateSchedule(const ast::Expr &e, nn::ConstantReader &constants,
                         DiagnosticEngine &diag);

/// Reads `early_stopping`'s value; `metrics` are the model's metric names
/// (`loss` first), which `monitor` must name with a `test_` or `train_`
/// prefix.
std::optional<EarlyStopping>
readEarlyStopping(const ast::Expr &e, llvm::ArrayRef<std::string> metrics,
                  nn::ConstantReader &constants, DiagnosticEngine &diag);

} // namespace nnc

#endif
