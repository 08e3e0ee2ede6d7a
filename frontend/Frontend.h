//===- Frontend.h - The .nn model language: entry points --------*- C++ -*-===//
//
// From a model file to the graph IR, in three steps that tools call in turn:
//
//   auto file = parseModelFile(bufferId, diag);          // syntax -> AST
//   auto config = readTrainingConfig(*file, diag);       // the train block
//   auto graph = lowerModel(*file, config->batchSize, diag);  // -> IR
//
// Each reports its errors through `diag` at the user's text and returns null
// (nullopt) if there was any; one run reports every independent error.
//
// The forward graph lowerModel returns is
//
//   graph @<model>(%<input>..., %<label>) -> (loss: f32[], <metric>: f32[]...)
//
// Its arguments are the model's `input`s in order of declaration, then its
// `label` if it has one: this is how the runtime knows which argument is fed
// the features and which the labels. Every argument's first dimension is the
// batch size. Its results are the loss, then each metric under its name
// (`accuracy`), as batch means of per-example statistics
// (frontend/Objectives.h). Parameters (`param` ops) come first, named as in
// checkpoints
// (`dense_1.weight`).
//
// lowerInferenceModel builds what predictions and exports run:
//
//   graph @<model>(%<input>...) -> (<output>)
//
// the model's `output` alone: no label argument, no loss, no metrics, and
// only the parameters the output reads.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_FRONTEND_H
#define NNC_FRONTEND_FRONTEND_H

#include "frontend/AST.h"
#include "frontend/TrainingConfig.h"
#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include <memory>

namespace nnc {

/// Parses the model file held in buffer `bufferId` of the engine's source
/// manager; diagnostics name the buffer's identifier as the file.
std::unique_ptr<ast::ModelFile> parseModelFile(unsigned bufferId,
                                               DiagnosticEngine &diag);

/// Convenience for tests: registers `text` under `fileName` and parses it.
std::unique_ptr<ast::ModelFile> parseModelFile(llvm::StringRef text,
                                               llvm::StringRef fileName,
                                               DiagnosticEngine &diag);

/// How a model is lowered beyond its own text.
struct ModelOptions {
  /// The batch dimension.
  int64_t batchSize = 32;
  /// Standardise each f32 input: (x - mean) / std per feature, with `mean`
  /// and `std` the states "standardize.<input>.mean" and
  /// "standardize.<input>.std" (zeros and ones until the runtime computes
  /// them from the training data, or a checkpoint restores them).
  bool standardizeInputs = false;
  /// Lower the training step's forward graph: dropout drops (its masks
  /// drawn from `seed`, the step counter state "dropout.step" and each
  /// element's index), batch_norm normalises by the batch's statistics and
  /// assigns its moving averages. Otherwise, as evaluation and inference
  /// run the model, dropout is the identity and batch_norm uses its moving
  /// averages.
  bool training = true;
  /// The run's seed (the train block's `seed`, or --seed).
  uint64_t seed = 0;
};

/// Checks the model and lowers it to its forward graph with the batch
/// dimension fixed to `batchSize`. The result passes ir/Verifier.
std::unique_ptr<Graph> lowerModel(const ast::ModelFile &file, int64_t batchSize,
                                  DiagnosticEngine &diag);
std::unique_ptr<Graph> lowerModel(const ast::ModelFile &file,
                                  const ModelOptions &options,
                                  DiagnosticEngine &diag);

/// The prefix of the standardisation states of input `input`:
/// "standardize.x." for their names "standardize.x.mean" and
/// "standardize.x.std".
std::string standardizationPrefix(llvm::StringRef input);

/// What a model's output holds, as its loss reads it.
enum class OutputKind {
  /// Plain values (a regression's predictions, an embedding).
  Values,
  /// A classifier's logits: the loss takes the softmax cross-entropy of the
  /// output, so its last axis scores the classes and its softmax gives their
  /// probabilities.
  Logits,
};

/// Checks the model and lowers its inference graph (above) with the batch
/// dimension fixed to `batchSize`; null after reporting errors, among them
/// a model without `output` and an output computed from the label. Sets
/// `kind`, when given, to what the output holds.
std::unique_ptr<Graph> lowerInferenceModel(const ast::ModelFile &file,
                                           int64_t batchSize,
                                           DiagnosticEngine &diag,
                                           OutputKind *kind = nullptr);
/// With standardised inputs, as training lowered them, when `options`
/// says so: predictions standardise as the model was trained to.
std::unique_ptr<Graph> lowerInferenceModel(const ast::ModelFile &file,
                                           const ModelOptions &options,
                                           DiagnosticEngine &diag,
                                           OutputKind *kind = nullptr);

} // namespace nnc

#endif // NNC_FRONTEND_FRONTEND_H
