//===- TrainingPipeline.h - From a forward graph to runnable steps --------===//
//
// The compiler's pipeline as the driver runs it:
//
//   forward graph (batch B) --autodiff,[data-parallel,]<optimizer>,
//                              conv-to-gemm,canonicalize,cse,dce,fusion-->
//                              training step @train
//   evaluation's forward graph (batch B) --per-example-results,
//                              conv-to-gemm,canonicalize,cse,dce,fusion-->
//                              evaluation step @eval
//
//   inference graph (batch B) --[conv-to-gemm,]canonicalize,cse,dce,fusion-->
//                              @infer (when asked for: predictions, exports;
//                              conv-to-gemm only when fused)
//
// then one StateLayout for all, a memory plan each, and the LLVM modules
// the JIT compiles. @eval returns its loss and metrics per example, so that
// it runs the test set's last batch too, padded to B rows. Each stage can
// be printed.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_TRAININGPIPELINE_H
#define NNC_TOOLS_TRAININGPIPELINE_H

#include "codegen/Compiler.h"
#include "frontend/TrainingConfig.h"
#include "ir/Diagnostics.h"
#include "ir/MemoryPlan.h"
#include "passes/PassManager.h"

#include <functional>

namespace nnc {

/// The train block's optimizer as a pass with its options, for
/// PipelineOptions::optimizer: "adam{lr=0.001,beta1=0.9,...}".
std::string optimizerPass(const OptimizerConfig &optimizer);

/// Builds the forward graph for a batch size; null after reporting errors.
using ForwardBuilder = std::function<std::unique_ptr<Graph>(int64_t batch)>;

struct PipelineOptions {
  int64_t batch = 32;
  /// The optimizer as a pass with options, e.g. "adam{lr=0.001}".
  std::string optimizer = "adam";
  /// Group ops into fused kernels (off: every op is its own kernel).
  bool fusion = true;
  /// Rewrite convolutions as matrix products over image patches
  /// (`conv-to-gemm`) before fusion; off keeps the direct loop nests.
  bool convolutionsAsProducts = true;
  /// The ranks of a data-parallel job: more than one runs `data-parallel`
  /// after autodiff, and `batch` is then each rank's share of the global
  /// batch. `bucketBytes` sets the pass's bucket size (0: its default).
  int64_t ranks = 1;
  int64_t bucketBytes = 0;
  /// Stop after this stage: "grad", "train" or "" to build everything.
  std::string stopAfter;
  /// The forward graph as evaluation runs it (dropout off, batch_norm on
  /// its moving averages: frontend's ModelOptions::training false), for
  /// @eval; when unset, @eval starts from the training forward graph.
  ForwardBuilder evaluation;
  /// When set, the program also holds @infer, made from the inference
  /// graph this builds (frontend's lowerInferenceModel).
  ForwardBuilder inference;
  PassInstrumentation instrumentation;
};

struct TrainingProgram {
  Module module; ///< @train and @eval, then @infer if asked for
  StateLayout layout;
  std::vector<std::unique_ptr<MemoryPlan>> plans; ///< per graph, in order
  std::vector<std::unique_ptr<PassManager>> passManagers; ///< for reports
  double passSeconds = 0;

  Graph *train() const { return module.lookup("train"); }
  Graph *eval() const { return module.lookup("eval"); }
  Graph *infer() const { return module.lookup("infer"); }
  /// The memory plan of graph `name`, once compileTrainingProgram planned
  /// it.
  const MemoryPlan *plan(llvm::StringRef name) const;
};

/// Runs the graph-level pipeline; returns null after reporting errors.
std::unique_ptr<TrainingProgram>
buildTrainingProgram(const ForwardBuilder &forward,
                     const PipelineOptions &options, DiagnosticEngine &diag);

/// The inference graph simplified (canonicalize, cse, dce) and, with
/// `fusion`, fused (its convolutions as products first, unless
/// `convolutionsAsProducts` is off), named @infer; null after reporting
/// errors. Exports take it unfused, the ahead-of-time library fused.
std::unique_ptr<Graph> buildInferenceGraph(const ForwardBuilder &inference,
                                           int64_t batch, bool fusion,
                                           DiagnosticEngine &diag,
                                           bool convolutionsAsProducts = true);

/// Plans memory for every graph of the program and compiles those named in
/// `only` (all when empty).
llvm::Expected<std::unique_ptr<CompiledProgram>>
compileTrainingProgram(TrainingProgram &program, const CodegenOptions &codegen,
                       llvm::ArrayRef<std::string> only = {});

} // namespace nnc

#endif
