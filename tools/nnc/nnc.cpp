//===- nnc.cpp - The model compiler driver --------------------------------===//
//
//   nnc model.nn --train              train with the JIT, as the file says
//   nnc model.nn --emit=ir            print a stage: ast, config, ir, grad,
//                                     train, fused, llvm, llvm-opt, asm
//
// Wiring only: the options and their meaning are in tools/nnc/Options.cpp,
// the work in frontend/, passes/, codegen/ and runtime/, and the sequence
// of it in tools/nnc/Run.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/Frontend.h"
#include "ir/DotPrinter.h"
#include "ir/Printer.h"
#include "ir/VerifyDiagnostics.h"
#include "tools/common/DataSetup.h"
#include "tools/common/InputChunks.h"
#include "tools/common/LLVMFlags.h"
#include "tools/common/OutOfMemory.h"
#include "tools/nnc/Diagnostics.h"
#include "tools/nnc/InProcessJob.h"
#include "tools/nnc/Options.h"
#include "tools/nnc/Run.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <thread>

using namespace nnc;
using namespace nnc::driver;
namespace cl = llvm::cl;

namespace {

void toolError(const llvm::Twine &msg) { printError(msg); }

/// The job mpirun started this process in, if any, and its communicator
/// once joined.
std::optional<LaunchedRank> launched;
std::unique_ptr<Communicator> job;

/// The ranks on this machine: mpirun's, or those --ranks runs in this
/// process.
unsigned localRanks() {
  if (launched)
    return unsigned(std::max(1, launched->localSize));
  if (ranks.getNumOccurrences() && emit == Emit::Nothing)
    return unsigned(std::max<int64_t>(1, ranks));
  return 1;
}

/// The cores of this machine each rank on it may use.
unsigned coresPerRank() {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1u, cores / localRanks());
}

/// Compiles one input and prints what --emit asks for, or runs it; the
/// exit status (0, 1, or 130 and 143 for a run stopped by a signal).
int processChunk(unsigned bufferId, DiagnosticEngine &diag,
                 llvm::raw_ostream &os) {
  auto file = parseModelFile(bufferId, diag);
  if (!file)
    return 1;
  if (emit == Emit::AST) {
    ast::dump(*file, os);
    return 0;
  }
  auto config = readTrainingConfig(*file, diag);
  if (config && !applySettingOverrides(*config, diag))
    return 1;
  if (config) {
    if (llvm::Error err = applyOverrides(*config)) {
      toolError("invalid training option: " + llvm::toString(std::move(err)));
      return 1;
    }
  }
  if (emit == Emit::Config) {
    if (config)
      config->print(os);
    return config.has_value() ? 0 : 1;
  }
  // Lower even when the train block had errors, to report the model's too.
  int64_t batch = config                          ? config->batchSize
                  : batchSize.getNumOccurrences() ? int64_t(batchSize)
                                                  : TrainingConfig().batchSize;
  if (emit == Emit::IR) {
    ModelOptions mopts;
    mopts.batchSize = batch;
    mopts.standardizeInputs = config && config->standardize;
    mopts.training = graphSelection != GraphSelection::Eval;
    if (config)
      mopts.seed = config->seed;
    auto graph = graphSelection == GraphSelection::Infer
                     ? lowerInferenceModel(*file, mopts, diag)
                     : lowerModel(*file, mopts, diag);
    if (!graph || !config)
      return 1;
    if (format == Format::Dot) {
      printGraphDot(os, *graph);
      return 0;
    }
    PrintOptions opts;
    opts.printLocations = printLocations;
    printGraph(os, *graph, opts);
    return 0;
  }
  if (!config) {
    // Report the model's own errors too.
    (void)lowerModel(*file, batch, diag);
    return 1;
  }
  RunOptions options = runOptions(job.get(), coresPerRank());
  if (job || options.ranks == 1 || emit != Emit::Nothing)
    return runModel(*file, *config, options, diag, os);
  return runInProcessRanks(*file, *config, options, diag, os);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  installOutOfMemoryHandler("nnc");
  adoptLLVMReportFlags(engineCategory);
  adoptLLVMThreadsFlag(engineCategory,
                       "Threads that run the steps (default: every core; "
                       "under mpirun, the cores shared among the machine's "
                       "ranks)");
  launched = launchedRank();
  if (launched && launched->size == 1)
    launched.reset(); // mpirun -np 1: a process that runs alone
  cl::HideUnrelatedOptions(
      {&category, &trainCategory, &shipCategory, &engineCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "nnc: the model compiler\n\n"
      "  nnc model.nn --train          train with the JIT, then evaluate\n"
      "  nnc model.nn --emit=ir        print a stage (ast, config, ir, grad,\n"
      "                                train, fused, llvm, llvm-opt, asm)\n"
      "  nnc model.nn --load ckpt.safetensors --predict digit.png\n"
      "                                predict with a trained model\n");

  std::string problem = checkOptions(launched);
  if (!problem.empty()) {
    toolError(problem);
    return 1;
  }
  // Threads wait for each other at every barrier by spinning: with more of
  // them than cores, a step waits for threads that are not running (the
  // seed model's epoch took 0.98 s with 3 threads on 2 cores, 0.11 s with 2).
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (std::optional<int> threads = llvmThreadsFlag();
      threads && unsigned(*threads) > coresPerRank() && !interp &&
      (!launched || launched->rank == 0)) {
    if (localRanks() > 1)
      printWarning(llvm::Twine(localRanks()) + " ranks of --threads " +
                   llvm::Twine(*threads) + " on " + llvm::Twine(cores) +
                   " cores: the threads wait for each other at every "
                   "barrier, so steps will be several times slower than "
                   "with --threads " +
                   llvm::Twine(coresPerRank()));
    else
      printWarning("--threads " + llvm::Twine(*threads) + " on " +
                   llvm::Twine(cores) +
                   " cores: the threads wait for each other at every "
                   "barrier, so steps will be several times slower than "
                   "with --threads " +
                   llvm::Twine(cores));
  }

  // A rank of a data-parallel job joins it before anything else can fail,
  // so that a failure ends the whole job.
  if (launched) {
    auto joined = joinMPIJob();
    if (!joined) {
      toolError(llvm::formatv("rank {0} of the {1} mpirun started: {2}",
                              launched->rank, launched->size,
                              llvm::toString(joined.takeError()))
                    .str());
      return 1;
    }
    job = std::move(*joined);
  }
  // MPI_Finalize on every way out of main.
  auto leaveJob = llvm::make_scope_exit([] { job.reset(); });
  bool reports = !job || job->rank() == 0;

  DiagnosticEngine diag;
  // The ranks compile the same model: rank 0 alone gives its warnings.
  if (!reports)
    diag.setHandler([&diag](const Diagnostic &d) {
      if (d.severity == Severity::Error)
        diag.print(llvm::errs(), d);
    });
  std::unique_ptr<DiagnosticVerifier> verifier;
  if (verifyDiagnostics)
    verifier = std::make_unique<DiagnosticVerifier>(diag);

  auto chunks = readInputChunks(inputFile, splitInput, "# -----", diag);
  if (!chunks) {
    toolError(llvm::toString(chunks.takeError()));
    return 1;
  }
  // Predictions write -o themselves, whole or not at all; of a job's
  // ranks, rank 0 alone writes the output.
  std::string textOutput =
      predictInput.getNumOccurrences() ? std::string("-") : outputFile;
  std::optional<llvm::ToolOutputFile> outFile;
  if (reports) {
    std::error_code ec;
    outFile.emplace(textOutput, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      toolError("cannot write '" + textOutput + "': " + ec.message());
      return 1;
    }
  }
  llvm::raw_ostream &os = outFile ? outFile->os() : llvm::nulls();

  int status = 0;
  for (size_t i = 0; i < chunks->size(); ++i) {
    // IR output splits as nnc-opt reads it; the rest as model files do.
    if (i && format != Format::Dot && emit != Emit::Dot)
      os << (emit == Emit::IR ? "// -----\n" : "# -----\n");
    if (verifier)
      verifier->addExpectations((*chunks)[i]);
    if (int chunkStatus = processChunk((*chunks)[i], diag, os); !status)
      status = chunkStatus;
  }
  if (verifier)
    status = llvm::succeeded(verifier->finish()) ? 0 : 1;
  if (status)
    return status;
  if (outFile)
    outFile->keep();
  return 0;
}
