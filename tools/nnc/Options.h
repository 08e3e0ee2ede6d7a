//===- Options.h - nnc's command line ---------------------------*- C++ -*-===//
//
// What a user can ask of nnc: the options (llvm::cl, registered when the
// program starts), the checks of their combinations, and their
// translation into a run's settings (RunOptions) and the train block's
// overrides. nnc.cpp reads the few options that steer what it does with
// each input; the rest reach the run through runOptions().
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_OPTIONS_H
#define NNC_TOOLS_NNC_OPTIONS_H

#include "frontend/TrainingConfig.h"
#include "ir/Diagnostics.h"
#include "runtime/Communicator.h"
#include "tools/nnc/Run.h"

#include "llvm/Support/CommandLine.h"

#include <optional>
#include <string>

namespace nnc::driver {

enum class Emit {
  Nothing,
  AST,
  Config,
  IR,
  Grad,
  Train,
  Fused,
  Dot,
  LLVM,
  OptimizedLLVM,
  Assembly
};

enum class Format { Text, Dot };

namespace cl = llvm::cl;

// The option categories, which --help lists.
extern cl::OptionCategory category, trainCategory, shipCategory, engineCategory;

// The options nnc.cpp reads itself.
extern cl::opt<std::string> inputFile, outputFile, predictInput;
extern cl::opt<Emit> emit;
extern cl::opt<GraphSelection> graphSelection;
extern cl::opt<Format> format;
extern cl::opt<int64_t> batchSize, ranks;
extern cl::opt<bool> printLocations, splitInput, verifyDiagnostics, interp;

/// Applies the command-line training settings to `config`. --data and
/// --optimizer take the train block's syntax and report their errors as it
/// does; false after one.
bool applySettingOverrides(TrainingConfig &config, DiagnosticEngine &diag);

/// Applies the numeric command-line settings to `config` and checks it.
llvm::Error applyOverrides(TrainingConfig &config);

/// The settings of a run, in the data-parallel job `job` (null alone), on
/// `defaultThreads` threads unless --threads says otherwise.
RunOptions runOptions(Communicator *job, unsigned defaultThreads);

/// Checks the combination of options, in the job mpirun started (if any);
/// an error message or "".
std::string checkOptions(const std::optional<LaunchedRank> &launched);

} // namespace nnc::driver

#endif // NNC_TOOLS_NNC_OPTIONS_H
