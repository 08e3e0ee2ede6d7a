//===- nnc.cpp - The model compiler driver --------------------------------===//
//
// Reads a `.nn` model file and prints what was asked for: its syntax tree,
// its training configuration, or its forward graph as `.nnir` (which nnc-opt
// reads). Options and wiring only; the work is in frontend/.
//
//===----------------------------------------------------------------------===//
#include "frontend/Frontend.h"
#include "ir/Printer.h"
#include "ir/VerifyDiagnostics.h"
#include "tools/common/InputChunks.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace nnc;
namespace cl = llvm::cl;

namespace {

enum class Emit { Nothing, AST, Config, IR };

cl::OptionCategory category("nnc options");
cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.nn>"),
                               cl::init("-"), cl::cat(category));
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<Emit>
    emit("emit", cl::desc("What to print"), cl::init(Emit::Nothing),
         cl::values(clEnumValN(Emit::AST, "ast", "the syntax tree"),
                    clEnumValN(Emit::Config, "config",
                               "the training configuration, after the "
                               "command-line overrides"),
                    clEnumValN(Emit::IR, "ir", "the forward graph as .nnir")),
         cl::cat(category));
cl::opt<int64_t> batchSize("batch",
                           cl::desc("Batch size (overrides the train block)"),
                           cl::value_desc("N"), cl::cat(category));
cl::opt<bool> printLocations("print-locations",
                             cl::desc("Print op locations with --emit=ir"),
                             cl::cat(category));
cl::opt<bool>
    splitInput("split-input-file",
               cl::desc("Process each part between '# -----' lines separately"),
               cl::cat(category));
cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check diagnostics against expected-error comments"),
    cl::cat(category));

// Training settings: they override the train block in the configuration.
cl::OptionCategory trainCategory("nnc training options");
cl::opt<int64_t> epochs("epochs", cl::desc("Number of epochs"),
                        cl::value_desc("N"), cl::cat(trainCategory));
cl::opt<double> learningRate("lr", cl::desc("Learning rate"),
                             cl::value_desc("X"), cl::cat(trainCategory));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of initialization and shuffling"),
                       cl::value_desc("N"), cl::cat(trainCategory));
cl::opt<bool> noShuffle("no-shuffle",
                        cl::desc("Keep the data set's order in every epoch"),
                        cl::cat(trainCategory));
cl::opt<std::string>
    dataDir("data", cl::desc("Train on the IDX files in this directory"),
            cl::value_desc("DIR"), cl::cat(trainCategory));
// Not available yet; declared so that asking for them gets a clear answer.
cl::opt<bool> train("train", cl::desc("Train the model"), cl::Hidden);
cl::opt<bool> jit("jit", cl::desc("Compile the training step natively"),
                  cl::Hidden);

void toolError(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "nnc") << msg << "\n";
}

/// Applies the command-line training settings to `config`.
llvm::Error applyOverrides(TrainingConfig &config) {
  if (batchSize.getNumOccurrences())
    config.batchSize = batchSize;
  if (epochs.getNumOccurrences())
    config.epochs = epochs;
  if (learningRate.getNumOccurrences())
    config.optimizer.learningRate = learningRate;
  if (seed.getNumOccurrences())
    config.seed = seed;
  if (noShuffle)
    config.shuffle = false;
  if (dataDir.getNumOccurrences())
    config.data = DatasetSpec{DatasetSpec::Kind::IDX, dataDir};
  return checkTrainingConfig(config);
}

/// Compiles one input and prints what --emit asks for; false on failure.
bool processChunk(unsigned bufferId, DiagnosticEngine &diag,
                  llvm::raw_ostream &os) {
  auto file = parseModelFile(bufferId, diag);
  if (!file)
    return false;
  if (emit == Emit::AST) {
    ast::dump(*file, os);
    return true;
  }
  auto config = readTrainingConfig(*file, diag);
  if (config) {
    if (llvm::Error err = applyOverrides(*config)) {
      toolError("invalid training option: " + llvm::toString(std::move(err)));
      return false;
    }
  }
  if (emit == Emit::Config) {
    if (config)
      config->print(os);
    return config.has_value();
  }
  // Lower even when the train block had errors, to report the model's too.
  int64_t batch = config                          ? config->batchSize
                  : batchSize.getNumOccurrences() ? int64_t(batchSize)
                                                  : TrainingConfig().batchSize;
  auto graph = lowerModel(*file, batch, diag);
  if (!graph || !config)
    return false;
  PrintOptions opts;
  opts.printLocations = printLocations;
  printGraph(os, *graph, opts);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &trainCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "nnc: the model compiler\n\n"
      "  nnc model.nn --emit=ir      the forward graph as .nnir\n"
      "  nnc model.nn --emit=ast     the syntax tree\n"
      "  nnc model.nn --emit=config  the training configuration\n");

  if (train || jit) {
    toolError(llvm::Twine(train ? "--train" : "--jit") +
              " is not available yet; nnc can print a model's syntax tree, "
              "training configuration or forward graph (--emit=ast, "
              "--emit=config, --emit=ir)");
    return 1;
  }
  if (emit == Emit::Nothing) {
    toolError("nothing to do: choose what to print with --emit=ast, "
              "--emit=config or --emit=ir (training is not available yet)");
    return 1;
  }

  DiagnosticEngine diag;
  std::unique_ptr<DiagnosticVerifier> verifier;
  if (verifyDiagnostics)
    verifier = std::make_unique<DiagnosticVerifier>(diag);

  auto chunks = readInputChunks(inputFile, splitInput, "# -----", diag);
  if (!chunks) {
    toolError(llvm::toString(chunks.takeError()));
    return 1;
  }
  std::error_code ec;
  llvm::ToolOutputFile out(outputFile, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    toolError("cannot write '" + outputFile + "': " + ec.message());
    return 1;
  }

  bool allOk = true;
  for (size_t i = 0; i < chunks->size(); ++i) {
    // IR output splits as nnc-opt reads it; the rest as model files do.
    if (i)
      out.os() << (emit == Emit::IR ? "// -----\n" : "# -----\n");
    if (verifier)
      verifier->addExpectations((*chunks)[i]);
    allOk &= processChunk((*chunks)[i], diag, out.os());
  }
  if (verifier)
    allOk = llvm::succeeded(verifier->finish());
  if (!allOk)
    return 1;
  out.keep();
  return 0;
}
