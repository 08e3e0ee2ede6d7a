//===- Run.h - Compiling and running a model from the command line --------===//
//
// What `nnc model.nn --train` does once the model is parsed: build the
// training and evaluation graphs, print any stage asked for, compile them
// (or interpret them), load and save checkpoints, train, evaluate, report.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_RUN_H
#define NNC_TOOLS_NNC_RUN_H

#include "codegen/Compiler.h"
#include "frontend/Frontend.h"
#include "passes/PassManager.h"
#include "runtime/Communicator.h"

#include <memory>
#include <optional>
#include <string>

namespace nnc {

enum class Stage { Grad, Train, Fused, LLVM, OptimizedLLVM, Assembly };

class SharedSteps;
class SharedDataset;

/// Which graphs the printed stages show.
enum class GraphSelection {
  Training, ///< @train and @eval (the default)
  Train,    ///< @train alone
  Eval,     ///< @eval alone
  Infer,    ///< @infer, the inference graph
};

struct RunOptions {
  bool interpret = false; ///< the reference interpreter instead of the JIT
  bool train = false;
  bool evaluate = false;
  std::optional<Stage> emit;
  GraphSelection graphs = GraphSelection::Training;
  /// Print graph stages as Graphviz DOT rather than .nnir.
  bool dot = false;
  std::optional<int64_t> steps;
  unsigned threads = 1;
  bool fusion = true;
  bool profile = false;
  bool perfMap = false;
  bool fastUpdates = false;
  bool specialize = true; ///< false: every kernel from the generic generator
  /// false: convolutions stay loop nests, not products over patches
  bool convolutionsAsProducts = true;
  unsigned preferVectorWidth = 0;
  unsigned machineOptLevel = 3; ///< -O0 to -O3
  std::string load, save, metrics, lossTrace;
  /// --resume FILE: every variable and the position of the run that wrote
  /// it; --load-weights FILE: the model's weights alone.
  std::string resume, loadWeights;
  /// Whether --seed or --no-shuffle were given: a resumed run otherwise
  /// takes the checkpoint's.
  bool seedGiven = false, shuffleGiven = false;
  /// --checkpoint-every N (global steps) or epoch; --keep-checkpoints K
  /// numbered copies beside --save (0: none).
  int64_t checkpointEvery = 0;
  bool checkpointEachEpoch = false;
  int64_t keepCheckpoints = 0;
  /// --save-best METRIC: keep the checkpoint of the best epoch by METRIC
  /// (`test_loss`, `test_accuracy`) as NAME.best.safetensors beside --save.
  std::string saveBest;
  /// --predict INPUT, written to predictOutput (CSV, or .npy).
  std::string predict, predictOutput = "-";
  /// --export FILE: the inference graph as an ONNX model.
  std::string exportPath;
  /// --emit-lib DIR: the inference graph compiled ahead of time, for
  /// `target` (empty: the host) and `cpu`, `features`.
  std::string libDir, target, cpu, features;
  /// The model file, for the library's header.
  std::string source;
  bool progressBar = false;
  int64_t logEvery = 1;
  bool timePasses = false;
  bool statistics = false;
  PassInstrumentation instrumentation;
  /// The job this process is a rank of (mpirun), or null when it runs
  /// alone. Rank 0 alone prints, and writes checkpoints, metrics and loss
  /// traces.
  Communicator *communicator = nullptr;
  /// The ranks to compile for: the job's size, or --ranks to print the
  /// stages of a data-parallel job from one process.
  int64_t ranks = 1;
  int64_t bucketBytes = 0; ///< data-parallel's bucket size; 0: its default
  /// For the ranks of a job in one process (--ranks): the compiled steps
  /// and the data set they share.
  std::shared_ptr<SharedSteps> sharedSteps;
  std::shared_ptr<SharedDataset> sharedData;
};

/// Runs the model; reports problems through `diag` or on stderr and
/// returns the process's exit status.
/// The names of the graphs `selection` shows.
std::vector<std::string> selectedGraphs(GraphSelection selection);

int runModel(const ast::ModelFile &file, const TrainingConfig &config,
             const RunOptions &options, DiagnosticEngine &diag,
             llvm::raw_ostream &out);

} // namespace nnc

#endif
