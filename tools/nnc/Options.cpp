//===- Options.cpp - nnc's command line -----------------------------------===//
//
// Every option of nnc, grouped as --help shows them, and what they mean
// for a run: the checks of their combinations, the train block's
// overrides, and the run's settings.
//
//===----------------------------------------------------------------------===//
#include "tools/nnc/Options.h"
#include "tools/common/DataSetup.h"
#include "tools/common/LLVMFlags.h"

#include "llvm/Support/Process.h"

namespace nnc::driver {

cl::OptionCategory category("nnc options");
cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.nn>"),
                               cl::init("-"), cl::cat(category));
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("What to print"), cl::init(Emit::Nothing),
    cl::values(clEnumValN(Emit::AST, "ast", "the syntax tree"),
               clEnumValN(Emit::Config, "config",
                          "the training configuration, after the "
                          "command-line overrides"),
               clEnumValN(Emit::IR, "ir", "the forward graph as .nnir"),
               clEnumValN(Emit::Grad, "grad",
                          "the forward graph with its gradients"),
               clEnumValN(Emit::Train, "train",
                          "the training step, with the optimizer's "
                          "update"),
               clEnumValN(Emit::Fused, "fused",
                          "the training and evaluation steps as fused "
                          "kernels"),
               clEnumValN(Emit::Dot, "dot",
                          "the fused steps as a Graphviz picture (same as "
                          "--emit=fused --format=dot)"),
               clEnumValN(Emit::LLVM, "llvm",
                          "the LLVM IR of the steps, before optimization"),
               clEnumValN(Emit::OptimizedLLVM, "llvm-opt",
                          "the LLVM IR of the steps, optimized"),
               clEnumValN(Emit::Assembly, "asm", "the steps' machine code")),
    cl::cat(category));
cl::opt<GraphSelection> graphSelection(
    "graph", cl::desc("Which graphs --emit shows"),
    cl::init(GraphSelection::Training),
    cl::values(
        clEnumValN(GraphSelection::Train, "train",
                   "the training step (--emit=ir: the forward graph it is "
                   "made from)"),
        clEnumValN(GraphSelection::Eval, "eval",
                   "the evaluation step (--emit=ir: the forward graph)"),
        clEnumValN(GraphSelection::Infer, "infer",
                   "the inference graph: the model's output, no label, no "
                   "loss")),
    cl::cat(category));
cl::opt<Format> format(
    "format", cl::desc("How --emit=ir, grad, train and fused print graphs"),
    cl::init(Format::Text),
    cl::values(clEnumValN(Format::Text, "text", "as .nnir (the default)"),
               clEnumValN(Format::Dot, "dot",
                          "as a Graphviz picture: dot -Tsvg draws it")),
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
cl::opt<std::string> dataArg(
    "data",
    cl::desc("The data: mnist, fashion_mnist, a directory of IDX files, a "
             ".csv or .npz file, or a train block's data value such as "
             "'csv(\"t.csv\", target=\"price\")'"),
    cl::value_desc("DATA"), cl::cat(trainCategory));
cl::opt<std::string> optimizerArg(
    "optimizer",
    cl::desc("The optimizer, as the train block writes it: adam, "
             "'sgd(lr=0.1, momentum=0.9)', 'adamw(weight_decay=1e-4)'"),
    cl::value_desc("OPTIMIZER"), cl::cat(trainCategory));
cl::opt<double> weightDecay(
    "weight-decay",
    cl::desc("Decoupled weight decay of the optimizer (as AdamW's)"),
    cl::value_desc("X"), cl::cat(trainCategory));
cl::opt<double> validationSplit(
    "validation-split",
    cl::desc("Hold out this fraction of the training data as the test "
             "split (for data without one)"),
    cl::value_desc("F"), cl::cat(trainCategory));
cl::opt<bool> standardize(
    "standardize",
    cl::desc("Standardise the inputs with the training data's mean and "
             "standard deviation per feature"),
    cl::cat(trainCategory));
cl::opt<bool> train("train", cl::desc("Train the model, then evaluate it"),
                    cl::cat(trainCategory));
cl::opt<bool> evaluateOnly("eval",
                           cl::desc("Evaluate on the test set (with --load)"),
                           cl::cat(trainCategory));
cl::opt<int64_t> steps("steps",
                       cl::desc("Stop once N optimizer steps have been made "
                                "since initialization, counting those "
                                "before a --resume (0: only initialize, "
                                "e.g. to --save)"),
                       cl::value_desc("N"), cl::cat(trainCategory));
cl::opt<int64_t> logEvery("log-every",
                          cl::desc("Print every Nth epoch's line (and the "
                                   "last)"),
                          cl::value_desc("N"), cl::init(1),
                          cl::cat(trainCategory));
cl::opt<std::string> loadPath("load",
                              cl::desc("Start from a safetensors checkpoint"),
                              cl::value_desc("FILE"), cl::cat(trainCategory));
cl::opt<std::string> savePath("save",
                              cl::desc("Save a safetensors checkpoint at the "
                                       "end (and at every --checkpoint-every)"),
                              cl::value_desc("FILE"), cl::cat(trainCategory));
cl::opt<std::string> resumePath(
    "resume",
    cl::desc("Continue the training run that wrote this checkpoint, from "
             "its epoch and step, exactly as if it had not stopped"),
    cl::value_desc("FILE"), cl::cat(trainCategory));
cl::opt<std::string> loadWeightsPath(
    "load-weights",
    cl::desc("Start a new run from a checkpoint's weights alone (no "
             "optimizer state, from epoch 1)"),
    cl::value_desc("FILE"), cl::cat(trainCategory));
cl::opt<std::string> checkpointEvery(
    "checkpoint-every",
    cl::desc("Write the --save checkpoint every N steps, or every epoch"),
    cl::value_desc("N|epoch"), cl::cat(trainCategory));
cl::opt<std::string> saveBest(
    "save-best",
    cl::desc("Keep the checkpoint of the best epoch by METRIC (test_loss, "
             "test_accuracy, ...) as NAME.best.safetensors beside --save"),
    cl::value_desc("METRIC"), cl::cat(trainCategory));
cl::opt<int64_t>
    keepCheckpoints("keep-checkpoints",
                    cl::desc("Also keep the K latest periodic checkpoints as "
                             "NAME.step-NNNNNN.safetensors beside --save"),
                    cl::value_desc("K"), cl::cat(trainCategory));
cl::opt<std::string> metricsPath("metrics",
                                 cl::desc("Write the run's figures as JSON"),
                                 cl::value_desc("FILE"),
                                 cl::cat(trainCategory));
cl::opt<std::string>
    lossTracePath("loss-trace",
                  cl::desc("Write each training step's loss, one a line"),
                  cl::value_desc("FILE"), cl::cat(trainCategory));

// Using a trained model.
cl::OptionCategory shipCategory("nnc prediction and export options");
cl::opt<std::string> predictInput(
    "predict",
    cl::desc("Run the inference graph over an image (PNG, PGM), an IDX file "
             "of images or a data set's test split (mnist, fashion_mnist, a "
             "directory), writing one row per example to -o (CSV, or .npy)"),
    cl::value_desc("INPUT"), cl::cat(shipCategory));

cl::opt<std::string> exportPath(
    "export",
    cl::desc("Write the inference graph with the weights as an ONNX model "
             "(opset 13)"),
    cl::value_desc("model.onnx"), cl::cat(shipCategory));
cl::opt<std::string> libDir(
    "emit-lib",
    cl::desc("Compile the inference graph with the weights into DIR/<model>.o "
             "and write DIR/<model>.h, a C library needing only libc and "
             "libm"),
    cl::value_desc("DIR"), cl::cat(shipCategory));
cl::opt<std::string>
    targetTriple("target",
                 cl::desc("Target triple of --emit-lib (default: the host)"),
                 cl::value_desc("triple"), cl::cat(shipCategory));
cl::opt<std::string>
    targetCpu("mcpu",
              cl::desc("CPU of --emit-lib (default: the host's, or generic "
                       "for another --target)"),
              cl::value_desc("cpu"), cl::cat(shipCategory));
cl::opt<std::string> targetFeatures("mattr",
                                    cl::desc("Target features of --emit-lib"),
                                    cl::value_desc("+a,-b"),
                                    cl::cat(shipCategory));

cl::OptionCategory engineCategory("nnc engine options");
cl::opt<bool> jit("jit", cl::desc("Compile the steps with LLVM (the default)"),
                  cl::cat(engineCategory));
cl::opt<bool> interp("interp",
                     cl::desc("Run the steps in the reference interpreter"),
                     cl::cat(engineCategory));
cl::opt<bool> noFusion("no-fusion",
                       cl::desc("Compile every op as a kernel of its own"),
                       cl::cat(engineCategory));
cl::opt<bool> noSpecialize(
    "no-specialize",
    cl::desc("Compile every kernel with the generic loop-nest generator, "
             "not the specialised element-wise, row-wise and contraction "
             "kernels"),
    cl::cat(engineCategory));
cl::opt<bool> directConvolutions(
    "direct-convolutions",
    cl::desc("Compile convolutions as loop nests of their own, not as "
             "matrix products over image patches (conv-to-gemm)"),
    cl::cat(engineCategory));
cl::opt<bool> fastUpdates(
    "fast-updates",
    cl::desc("Compute the optimizer's square roots and divisions from "
             "hardware estimates refined by a Newton step"),
    cl::cat(engineCategory));
cl::opt<bool> profile("profile",
                      cl::desc("Report each kernel's time, FLOPs and bytes"),
                      cl::cat(engineCategory));
cl::opt<bool> perfMap(
    "perf-map",
    cl::desc("Name the compiled kernels in /tmp/perf-<pid>.map, so that "
             "Linux perf (perf record, perf report) attributes time to them"),
    cl::cat(engineCategory));
cl::opt<char> machineOptLevel(
    "O",
    cl::desc("How hard the code generator works: -O0, -O1, -O2 or -O3 (the "
             "default); every level computes the same results"),
    cl::Prefix, cl::init('3'), cl::value_desc("level"),
    cl::cat(engineCategory));
cl::opt<unsigned> vectorWidth(
    "prefer-vector-width",
    cl::desc("Widest vectors the compiled code uses, in bits (256, 512)"),
    cl::value_desc("bits"), cl::cat(engineCategory));
cl::opt<int64_t> ranks(
    "ranks",
    cl::desc("Train as a data-parallel job of N ranks in this process, a "
             "thread each (as mpirun -np N would in N processes); with --emit, "
             "print the stages of such a job"),
    cl::value_desc("N"), cl::cat(engineCategory));
cl::opt<int64_t> bucketBytes(
    "bucket-bytes",
    cl::desc("Most bytes of gradients one exchange of a data-parallel step "
             "sums (default 1 MiB)"),
    cl::value_desc("N"), cl::cat(engineCategory));
cl::list<std::string> printBefore("print-ir-before",
                                  cl::desc("Print IR before the named pass"),
                                  cl::value_desc("pass"), cl::CommaSeparated,
                                  cl::cat(engineCategory));
cl::list<std::string> printAfter("print-ir-after",
                                 cl::desc("Print IR after the named pass"),
                                 cl::value_desc("pass"), cl::CommaSeparated,
                                 cl::cat(engineCategory));
cl::opt<bool> printAfterAll("print-ir-after-all",
                            cl::desc("Print IR after every pass"),
                            cl::cat(engineCategory));
cl::opt<bool> verifyEach("verify-each",
                         cl::desc("Verify the IR after every pass"),
                         cl::init(true), cl::cat(engineCategory));

bool applySettingOverrides(TrainingConfig &config, DiagnosticEngine &diag) {
  bool ok = true;
  if (optimizerArg.getNumOccurrences())
    ok &= readTrainSetting("optimizer", optimizerArg, "--optimizer", config,
                           diag);
  if (dataArg.getNumOccurrences())
    ok &= readTrainSetting("data", dataSettingOf(dataArg), "--data", config,
                           diag);
  return ok;
}

llvm::Error applyOverrides(TrainingConfig &config) {
  if (batchSize.getNumOccurrences())
    config.batchSize = batchSize;
  if (epochs.getNumOccurrences())
    config.epochs = epochs;
  if (learningRate.getNumOccurrences())
    config.optimizer.learningRate = learningRate;
  if (weightDecay.getNumOccurrences())
    config.optimizer.weightDecay = weightDecay;
  if (seed.getNumOccurrences())
    config.seed = seed;
  if (noShuffle)
    config.shuffle = false;
  if (validationSplit.getNumOccurrences())
    config.validationSplit = validationSplit;
  if (standardize)
    config.standardize = true;
  return checkTrainingConfig(config);
}

RunOptions runOptions(Communicator *job, unsigned defaultThreads) {
  RunOptions o;
  o.interpret = interp;
  o.train = train;
  o.evaluate = evaluateOnly;
  switch (emit) {
  case Emit::Grad:
    o.emit = Stage::Grad;
    break;
  case Emit::Train:
    o.emit = Stage::Train;
    break;
  case Emit::Fused:
  case Emit::Dot:
    o.emit = Stage::Fused;
    break;
  case Emit::LLVM:
    o.emit = Stage::LLVM;
    break;
  case Emit::OptimizedLLVM:
    o.emit = Stage::OptimizedLLVM;
    break;
  case Emit::Assembly:
    o.emit = Stage::Assembly;
    break;
  default:
    break;
  }
  if (steps.getNumOccurrences())
    o.steps = steps;
  std::optional<int> threads = llvmThreadsFlag();
  o.threads = threads ? unsigned(*threads) : defaultThreads;
  o.fusion = !noFusion;
  o.profile = profile;
  o.perfMap = perfMap;
  o.fastUpdates = fastUpdates;
  o.specialize = !noSpecialize;
  o.convolutionsAsProducts = !directConvolutions;
  o.preferVectorWidth = vectorWidth;
  o.machineOptLevel = unsigned(machineOptLevel - '0');
  o.load = loadPath;
  o.save = savePath;
  o.resume = resumePath;
  o.loadWeights = loadWeightsPath;
  o.seedGiven = seed.getNumOccurrences() > 0;
  o.shuffleGiven = noShuffle;
  if (checkpointEvery == "epoch")
    o.checkpointEachEpoch = true;
  else if (!checkpointEvery.empty())
    llvm::StringRef(checkpointEvery).getAsInteger(10, o.checkpointEvery);
  o.keepCheckpoints = keepCheckpoints;
  o.saveBest = saveBest;
  o.metrics = metricsPath;
  o.lossTrace = lossTracePath;
  o.graphs = graphSelection;
  o.dot = format == Format::Dot || emit == Emit::Dot;
  o.predict = predictInput;
  o.predictOutput = outputFile;
  o.exportPath = exportPath;
  o.libDir = libDir;
  o.target = targetTriple;
  o.cpu = targetCpu;
  o.features = targetFeatures;
  o.source = inputFile;
  o.progressBar = llvm::sys::Process::StandardErrIsDisplayed();
  o.logEvery = logEvery;
  ReportFlags reports = takeLLVMReportFlags();
  o.timePasses = reports.timePasses;
  o.statistics = reports.statistics;
  for (const std::string &p : printBefore)
    o.instrumentation.printBefore.insert(p);
  for (const std::string &p : printAfter)
    o.instrumentation.printAfter.insert(p);
  o.instrumentation.printAfterAll = printAfterAll;
  o.instrumentation.verifyEach = verifyEach;
  o.communicator = job;
  o.ranks = job ? job->size() : ranks.getNumOccurrences() ? int64_t(ranks) : 1;
  o.bucketBytes = bucketBytes;
  return o;
}

std::string checkOptions(const std::optional<LaunchedRank> &launched) {
  if (jit && interp)
    return "--jit and --interp exclude each other";
  if (std::optional<int> threads = llvmThreadsFlag(); threads && *threads < 1)
    return "--threads must be at least 1";
  if (steps.getNumOccurrences() && steps < 0)
    return "--steps must not be negative";
  if (logEvery < 1)
    return "--log-every must be at least 1";
  if (evaluateOnly && train)
    return "--eval evaluates without training; --train evaluates after "
           "training: use one";
  int loads = (loadPath.getNumOccurrences() > 0) +
              (resumePath.getNumOccurrences() > 0) +
              (loadWeightsPath.getNumOccurrences() > 0);
  if (loads > 1)
    return "--resume, --load and --load-weights each start from a "
           "checkpoint: give one";
  if (evaluateOnly && !loads)
    return "--eval scores the weights of a checkpoint: give it with --load "
           "FILE (without one it would score the random initial weights)";
  if (checkpointEvery.getNumOccurrences()) {
    int64_t n = 0;
    if (checkpointEvery != "epoch" &&
        (llvm::StringRef(checkpointEvery).getAsInteger(10, n) || n < 1))
      return "--checkpoint-every takes a number of steps (at least 1) or "
             "'epoch', not '" +
             checkpointEvery + "'";
    if (!savePath.getNumOccurrences())
      return "--checkpoint-every writes the --save checkpoint: give --save "
             "FILE";
    if (!train)
      return "--checkpoint-every checkpoints training: add --train";
  }
  if (saveBest.getNumOccurrences()) {
    llvm::StringRef metric = saveBest;
    if (!metric.starts_with("test_") && !metric.starts_with("train_"))
      return "--save-best takes a figure of the run, test_ or train_ and the "
             "metric: test_loss, test_accuracy (not '" +
             saveBest + "')";
    if (!savePath.getNumOccurrences() || !train)
      return "--save-best writes NAME.best.safetensors beside the --save "
             "checkpoint of a training run: give --train and --save FILE";
  }
  if (keepCheckpoints.getNumOccurrences()) {
    if (keepCheckpoints < 1)
      return "--keep-checkpoints must be at least 1";
    if (!checkpointEvery.getNumOccurrences())
      return "--keep-checkpoints keeps periodic checkpoints: add "
             "--checkpoint-every N|epoch";
  }
  if (emit != Emit::Nothing && (train || evaluateOnly))
    return std::string("--emit prints a stage and stops; it does not ") +
           (train ? "train" : "evaluate") + ": drop --emit, or --" +
           (train ? "train" : "eval");
  if (machineOptLevel < '0' || machineOptLevel > '3')
    return "-O takes 0, 1, 2 or 3 (-O" + std::string(1, machineOptLevel) +
           " given)";
  if (vectorWidth.getNumOccurrences() && vectorWidth != 256 &&
      vectorWidth != 512)
    return "--prefer-vector-width must be 256 or 512";
  if (ranks.getNumOccurrences() && ranks < 1)
    return "--ranks must be at least 1";
  if (ranks.getNumOccurrences() && launched && ranks != launched->size)
    return "--ranks " + std::to_string(ranks) + " in a job of " +
           std::to_string(launched->size) +
           " ranks: mpirun's -np sets the ranks";
  if (ranks.getNumOccurrences() && ranks > 1 && !launched &&
      emit == Emit::Nothing &&
      (predictInput.getNumOccurrences() || exportPath.getNumOccurrences() ||
       libDir.getNumOccurrences()))
    return "--ranks " + std::to_string(ranks) +
           " trains and evaluates as a data-parallel job; predictions and "
           "exports run in one process: leave --ranks out";
  if (bucketBytes.getNumOccurrences() && bucketBytes < 1)
    return "--bucket-bytes must be at least 1";
  bool printing = emit != Emit::Nothing;
  bool predicting = predictInput.getNumOccurrences();
  bool exporting = exportPath.getNumOccurrences() || libDir.getNumOccurrences();
  if (!printing && !train && !evaluateOnly && !savePath.getNumOccurrences() &&
      !predicting && !exporting)
    return "nothing to do: train with --train, evaluate with --eval, predict "
           "with --predict, export with --export or --emit-lib, or print a "
           "stage with --emit (ast, config, ir, grad, train, fused, llvm, "
           "llvm-opt, asm)";
  if (printing && exporting)
    return "--emit prints and stops: export without it";
  if ((targetTriple.getNumOccurrences() || targetCpu.getNumOccurrences() ||
       targetFeatures.getNumOccurrences()) &&
      !libDir.getNumOccurrences())
    return "--target, --mcpu and --mattr choose the code of --emit-lib";
  if (printing && predicting)
    return "--emit and --predict both write to -o: use one";
  if (predicting && splitInput)
    return "--predict runs one model: --split-input-file does not apply";
  if (format == Format::Dot && emit != Emit::IR && emit != Emit::Grad &&
      emit != Emit::Train && emit != Emit::Fused && emit != Emit::Dot)
    return "--format=dot draws graphs: use it with --emit=ir, grad, train or "
           "fused";
  if (graphSelection.getNumOccurrences() && !printing)
    return "--graph selects what --emit prints";
  if (graphSelection == GraphSelection::Infer &&
      (emit == Emit::Grad || emit == Emit::Train))
    return "the inference graph has no gradients and no training step: "
           "--graph=infer prints with --emit=ir, fused, llvm, llvm-opt or asm";
  return "";
}

} // namespace nnc::driver
