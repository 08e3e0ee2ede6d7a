//===- Run.cpp - Compiling and running a model from the command line ------===//
#include "tools/nnc/Run.h"

#include "ir/DotPrinter.h"
#include "ir/Printer.h"
#include "passes/MemoryPlanning.h"
#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/DataParallel.h"
#include "runtime/InProcessRanks.h"
#include "runtime/Prediction.h"
#include "runtime/Profile.h"
#include "runtime/Training.h"
#include "tools/common/DataSetup.h"
#include "tools/common/OutOfMemory.h"
#include "tools/common/StopSignals.h"
#include "tools/common/TrainingPipeline.h"
#include "tools/nnc/Diagnostics.h"
#include "tools/nnc/InProcessJob.h"
#include "tools/nnc/ModelExport.h"
#include "tools/nnc/RunOutputs.h"
#include "tools/nnc/RunTraining.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

namespace nnc {

namespace {

/// Where `mnist` lives when NNC_DATA_DIR is not set: the data/ folder of
/// the source tree the binary was built in (build/bin/nnc -> data/).
std::string defaultDataRoot() {
  std::string exe = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&defaultDataRoot));
  llvm::SmallString<256> root(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(root, "..", "..", "data");
  if (llvm::sys::fs::is_directory(root))
    return std::string(root);
  return "data";
}

/// The number of classes the model predicts: the columns of the logits its
/// cross-entropy reads, or every byte value when it has none.
unsigned classesOf(const Graph &forward) {
  for (const Op &op : forward.ops())
    if (op.is(OpKind::SoftmaxCrossEntropy))
      return unsigned(op.operand(0)->type().dim(1));
  return 256;
}

/// Prints the graphs of `m` that `names` lists (all when empty).
void printSelected(llvm::raw_ostream &out, const Module &m,
                   llvm::ArrayRef<std::string> names) {
  bool first = true;
  for (const Graph &g : m.graphs()) {
    if (!names.empty() && !llvm::is_contained(names, g.name()))
      continue;
    if (!first)
      out << "\n";
    printGraph(out, g);
    first = false;
  }
}

/// --stats: each compiled step's kernels and memory plan, and the memory
/// the run will hold in all.
void printStepStatistics(const TrainingProgram &program,
                         const CompiledProgram &code, uint64_t dataBytes,
                         unsigned threads) {
  for (const CompiledStep &step : code.steps())
    llvm::errs() << fmt::format("step @{}: {} kernels, {} barriers\n",
                                step.graphName, step.kernelNames.size(),
                                step.barriers);
  uint64_t arenas = 0, scratch = 0;
  for (size_t i = 0; i < program.plans.size(); ++i) {
    const MemoryPlan &plan = *program.plans[i];
    llvm::errs() << fmt::format(
        "memory of @{}: arena {} bytes ({} without reuse), {} in-place "
        "updates, {} copies at the end of the step; state {} bytes\n",
        program.module.graph(i)->name(), plan.arenaBytes,
        plan.bytesWithoutReuse, plan.inPlaceAssigns, plan.finalCopies.size(),
        program.layout.byteSize());
  }
  for (const CompiledStep &step : code.steps()) {
    arenas += uint64_t(step.plan->arenaBytes);
    scratch += uint64_t(step.threadScratchBytes) * threads;
  }
  uint64_t state = uint64_t(program.layout.byteSize());
  llvm::errs() << fmt::format(
      "memory in all: {} of variables, {} of arenas, {} of per-thread "
      "scratch, {} of data: {}\n",
      formatByteSize(state), formatByteSize(arenas), formatByteSize(scratch),
      formatByteSize(dataBytes),
      formatByteSize(state + arenas + scratch + dataBytes));
}

} // namespace

std::vector<std::string> selectedGraphs(GraphSelection selection) {
  switch (selection) {
  case GraphSelection::Training:
    return {"train", "eval"};
  case GraphSelection::Train:
    return {"train"};
  case GraphSelection::Eval:
    return {"eval"};
  case GraphSelection::Infer:
    return {"infer"};
  }
  return {};
}

int runModel(const ast::ModelFile &file, const TrainingConfig &fileConfig,
             const RunOptions &options, DiagnosticEngine &diag,
             llvm::raw_ostream &out) {
  // A resumed run takes the seed and shuffling of its checkpoint unless
  // the command line gives them; the seed is read before the graphs are
  // built, since dropout's masks are drawn from it. A checkpoint that
  // cannot be read is reported when it is loaded.
  TrainingConfig config = fileConfig;
  if (!options.resume.empty()) {
    auto index = readCheckpointIndex(options.resume);
    auto saved = index ? readSavedRun(index->metadata, options.resume)
                       : llvm::Expected<SavedRun>(index.takeError());
    if (saved) {
      if (!options.seedGiven)
        config.seed = saved->run.seed;
      if (!options.shuffleGiven)
        config.shuffle = saved->run.shuffle;
    } else {
      llvm::consumeError(saved.takeError());
    }
  }
  // In a data-parallel job rank 0 alone reports; a rank that fails alone
  // says which it is and ends the job, whose other ranks may be waiting
  // for it.
  Communicator *comm = options.communicator;
  bool reports = !comm || comm->rank() == 0;
  llvm::raw_ostream &log = reports ? llvm::errs() : llvm::nulls();
  auto fail = [&](const llvm::Twine &msg) {
    if (comm) {
      printError("rank " + llvm::Twine(comm->rank()) + ": " + msg);
      comm->abortJob(1);
    }
    printError(msg);
    return 1;
  };
  // A failure every rank meets together (they compared notes): rank 0 says
  // it, and all exit.
  auto failTogether = [&](const llvm::Twine &msg) {
    if (reports)
      printError(msg);
    return 1;
  };

  // The model's batch is the global batch; each rank computes its share.
  int64_t ranks = comm ? comm->size() : options.ranks;
  if (config.batchSize % ranks != 0)
    return failTogether(
        "the batch of " + llvm::Twine(config.batchSize) +
        " does not divide among " + llvm::Twine(ranks) +
        " ranks: each rank computes an equal share of every batch, so the "
        "batch must be a multiple of the number of ranks (--batch)");
  int64_t share = config.batchSize / ranks;

  // The files the run writes, locked and checked before anything else is
  // done: rank 0 alone writes them.
  std::vector<OutputFile> outputs;
  if (reports) {
    if (!options.save.empty())
      outputs.push_back({options.save, "--save"});
    if (!options.metrics.empty())
      outputs.push_back({options.metrics, "--metrics"});
    if (!options.lossTrace.empty())
      outputs.push_back({options.lossTrace, "--loss-trace"});
    if (!options.saveBest.empty())
      outputs.push_back({bestCheckpointPath(options.save), "--save-best"});
  }
  auto claimed = claimOutputs(outputs);
  if (!claimed)
    return fail("cannot write " + llvm::toString(claimed.takeError()));
  std::vector<OutputLock> outputLocks = std::move(*claimed);
  auto forwardGraph = [&](int64_t batch, bool training) {
    ModelOptions mopts;
    mopts.batchSize = batch;
    mopts.standardizeInputs = config.standardize;
    mopts.training = training;
    mopts.seed = config.seed;
    return lowerModel(file, mopts, diag);
  };
  ForwardBuilder forward = [&](int64_t batch) {
    return forwardGraph(batch, /*training=*/true);
  };
  ForwardBuilder evaluation = [&](int64_t batch) {
    return forwardGraph(batch, /*training=*/false);
  };
  std::unique_ptr<Graph> probe = forward(share);
  if (!probe)
    return 1;
  bool predicting = !options.predict.empty();
  bool exporting = !options.exportPath.empty();
  bool library = !options.libDir.empty();
  bool inference = predicting || exporting || library ||
                   options.graphs == GraphSelection::Infer;
  OutputKind outputKind = OutputKind::Values;
  ForwardBuilder inferenceGraph = [&](int64_t batch) {
    ModelOptions mopts;
    mopts.batchSize = batch;
    mopts.standardizeInputs = config.standardize;
    return lowerInferenceModel(file, mopts, diag, &outputKind);
  };
  if (inference && !inferenceGraph(config.batchSize))
    return 1;

  // The data is loaded and checked against the model first, and
  // checkpoints are read before anything is compiled, so that bad input
  // fails fast.
  std::shared_ptr<const Dataset> data;
  bool needData = options.train || options.evaluate;
  if (needData) {
    auto load = [&]() -> llvm::Expected<std::shared_ptr<const Dataset>> {
      MemoryActivity loading("loading the data set");
      auto loaded = loadData(dataSourceOf(config), dataRequestOf(*probe),
                             defaultDataRoot());
      if (!loaded)
        return loaded.takeError();
      return std::shared_ptr<const Dataset>(std::move(*loaded));
    };
    auto loaded = options.sharedData ? options.sharedData->get(load) : load();
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    data = std::move(*loaded);
    if (llvm::Error err = checkGraphFitsData(*probe, *data))
      return fail(llvm::toString(std::move(err)));
    if (options.train) {
      auto batches =
          trainingBatches(data->size(Split::Train), config.batchSize);
      if (!batches)
        return fail(llvm::toString(batches.takeError()));
    }
  }

  PipelineOptions popts;
  popts.batch = share;
  popts.ranks = ranks;
  popts.bucketBytes = options.bucketBytes;
  popts.optimizer = optimizerPass(config.optimizer);
  popts.fusion = options.fusion;
  popts.convolutionsAsProducts = options.convolutionsAsProducts;
  popts.instrumentation = options.instrumentation;
  popts.instrumentation.timePasses = options.timePasses;
  popts.instrumentation.statistics = options.statistics;
  popts.evaluation = evaluation;
  if (inference)
    popts.inference = inferenceGraph;
  if (options.emit == Stage::Grad)
    popts.stopAfter = "grad";
  else if (options.emit == Stage::Train)
    popts.stopAfter = "train";
  std::shared_ptr<TrainingProgram> program;
  {
    MemoryActivity building("building the training and evaluation graphs");
    program = buildTrainingProgram(forward, popts, diag);
  }
  if (!program)
    return 1;
  auto reportPasses = [&] {
    for (const auto &pm : program->passManagers)
      pm->printReports(log);
  };
  std::vector<std::string> shown = selectedGraphs(options.graphs);
  if (options.emit == Stage::Grad || options.emit == Stage::Train ||
      options.emit == Stage::Fused) {
    // Before fusion the module holds the training step alone.
    if (options.emit != Stage::Fused)
      shown.clear();
    if (options.dot)
      printModuleDot(out, program->module, shown);
    else
      printSelected(out, program->module, shown);
    reportPasses();
    return 0;
  }

  // The outputs must have room for what the run will write, which is
  // known now: a full disk is found before compiling, not after training.
  {
    // The header: a line of JSON per tensor, and the metadata.
    uint64_t checkpoint = uint64_t(program->layout.byteSize()) + 4096 +
                          192 * program->layout.entries().size();
    int64_t steps = 0;
    if (options.train && data)
      steps =
          options.steps
              ? *options.steps
              : config.epochs * std::max<int64_t>(1, data->size(Split::Train) /
                                                         config.batchSize);
    for (OutputFile &o : outputs)
      o.bytes = o.what == "--save" || o.what == "--save-best" ? checkpoint
                : o.what == "--loss-trace" ? uint64_t(16 * steps + 1)
                                           : 4096;
    if (llvm::Error err = checkOutputSpace(outputs))
      return fail("cannot write " + llvm::toString(std::move(err)));
  }

  // The examples to predict are read and checked before compiling.
  std::optional<PredictionInput> predictInput;
  if (predicting) {
    auto loaded = loadPredictionInput(options.predict, defaultDataRoot(),
                                      classesOf(*probe));
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    if (llvm::Error err = checkGraphFitsInput(*program->infer(), *loaded))
      return fail(llvm::toString(std::move(err)));
    predictInput.emplace(std::move(*loaded));
  }

  auto created = ModelState::create(program->layout);
  if (!created)
    return fail(llvm::toString(created.takeError()));
  ModelState &state = *created;
  if (llvm::Error err = state.initialize(config.seed))
    return fail(llvm::toString(std::move(err)));
  // The run as checkpoints record it, and where it starts.
  RunIdentity identity;
  identity.seed = config.seed;
  identity.shuffle = config.shuffle;
  identity.batch = config.batchSize;
  identity.epochs = config.epochs;
  identity.threads = options.interpret ? 1 : options.threads;
  identity.ranks = ranks;
  identity.optimizer = config.optimizer.str();
  {
    std::string variables;
    for (const StateLayout::Entry &e : program->layout.entries())
      if (!isOptimizerState(e.name))
        variables += e.name + " " + e.type.str() + " " + e.init + "\n";
    identity.model = identityHash(variables);
  }
  if (data)
    identity.data =
        fmt::format("{}: {} train, {} test examples of {}", data->name(),
                    data->size(Split::Train), data->size(Split::Test),
                    shapeStr(data->featureShape()));
  auto starting = loadRunStart(state, options, config, identity, log);
  if (!starting)
    return fail(llvm::toString(starting.takeError()));
  const TrainingProgress &startAt = starting->at;
  if (data)
    if (llvm::Error err =
            setStandardization(state, *data, *probe, starting->restored, log))
      return fail(llvm::toString(std::move(err)));
  // The ranks train the same model on the same data from rank 0's weights,
  // or not at all.
  if (comm && !options.emit) {
    StartingPoint start;
    start.module = &program->module;
    start.options = fmt::format(
        "seed {}, {} epochs, {}shuffled, {} steps, {}{}", config.seed,
        config.epochs, config.shuffle ? "" : "not ",
        options.steps ? std::to_string(*options.steps) : "all",
        options.train ? "training" : "evaluating",
        startAt.globalStep
            ? fmt::format(", resumed at global step {}", startAt.globalStep)
            : "");
    start.data = data.get();
    start.state = &state;
    start.stateOrigin =
        starting->loadedFrom.empty()
            ? fmt::format("initialized from seed {}", config.seed)
            : "loaded from " + starting->loadedFrom;
    if (llvm::Error err = startTogether(*comm, start, state))
      return failTogether(llvm::toString(std::move(err)));
  }

  // Compile, or prepare the interpreter.
  std::shared_ptr<CompiledProgram> code;
  std::unique_ptr<ThreadPool> pool;
  std::vector<std::unique_ptr<GraphExecutor>> executors;
  bool needCode = needData || options.emit || predicting;
  // The graphs to compile: what runs, or what is printed.
  std::vector<std::string> compiled;
  if (options.emit) {
    compiled = shown;
  } else {
    if (needData)
      compiled = {"train", "eval"};
    if (predicting)
      compiled.push_back("infer");
  }
  if (needCode && !options.interpret) {
    CodegenOptions copts;
    copts.profile = options.profile;
    copts.perfMap = options.perfMap;
    copts.fastUpdates = options.fastUpdates;
    copts.specialize = options.specialize;
    copts.preferVectorWidth = options.preferVectorWidth;
    copts.machineOptLevel = options.machineOptLevel;
    if (options.emit == Stage::LLVM)
      copts.printLLVM = &out;
    if (options.emit == Stage::OptimizedLLVM)
      copts.printOptimizedLLVM = &out;
    if (options.emit == Stage::Assembly)
      copts.printAssembly = &out;
    MemoryActivity compiling("compiling the steps");
    if (options.sharedSteps && comm->rank() != 0) {
      std::tie(program, code) = options.sharedSteps->take();
    } else {
      auto built = compileTrainingProgram(*program, copts, compiled);
      if (!built)
        return fail(llvm::toString(built.takeError()));
      code = std::move(*built);
      if (options.sharedSteps)
        options.sharedSteps->publish(program, code);
    }
    const CompiledProgram::Phases &p = code->phases();
    log << fmt::format(
        "compiled {} graph{} for {} in {:.3f} s (graph passes {:.3f} s, LLVM "
        "IR {:.3f} s, optimization and machine code {:.3f} s on {} threads "
        "[{:.3f} s + {:.3f} s of thread time], linking {:.3f} s)\n",
        code->steps().size(), code->steps().size() == 1 ? "" : "s",
        code->cpuName(), program->passSeconds + code->compileSeconds(),
        program->passSeconds, p.emit, p.compile, p.threads,
        p.optimizeThreadSeconds, p.machineCodeThreadSeconds, p.link);
    if (options.emit)
      return 0;
    // Before anything of the run is allocated, so that a run that does
    // not fit can be sized with --stats.
    reportPasses();
    if (options.statistics && reports)
      printStepStatistics(*program, *code, data ? data->byteSize() : 0,
                          options.threads);
    auto started = ThreadPool::create(options.threads);
    if (!started)
      return fail(llvm::toString(started.takeError()));
    pool = std::move(*started);
    for (Graph &g : program->module.graphs()) {
      const CompiledStep *step = code->step(g.name());
      if (!step)
        continue;
      auto exec = JitExecutor::create(g, *step, state, *pool, comm);
      if (!exec)
        return fail(llvm::toString(exec.takeError()) +
                    "; try a smaller --batch");
      executors.push_back(std::move(*exec));
    }
  } else if (needCode) {
    for (Graph &g : program->module.graphs())
      if (llvm::is_contained(compiled, g.name()))
        executors.push_back(
            std::make_unique<InterpreterExecutor>(g, state, comm));
  }
  if (!code)
    reportPasses();

  TrainingExecutors exec;
  GraphExecutor *infer = nullptr;
  for (auto &e : executors) {
    const std::string &name = e->graph().name();
    if (name == "train")
      exec.train = e.get();
    else if (name == "eval")
      exec.eval = e.get();
    else if (name == "infer")
      infer = e.get();
  }

  TrainingReport report;
  if (options.train && (!options.steps || *options.steps > 0)) {
    if (llvm::Error err = checkWatchedFigure(config, options))
      return failTogether(llvm::toString(std::move(err)));
    // Ctrl-C and SIGTERM stop the run after the step in progress.
    StopOnSignals stopOnSignals(/*announce=*/reports);
    auto trained =
        runTraining(exec, *data, state, config, options, identity, startAt,
                    reports, &StopOnSignals::requested(), log);
    if (!trained)
      return fail(llvm::toString(trained.takeError()));
    report = std::move(*trained);
    if (report.stoppedBySignal)
      return finishInterrupted(report, state, identity, probe->name(), options,
                               code ? code->compileSeconds() : 0.0, log);
  }
  if (!report.test && (options.evaluate || (options.train && data))) {
    auto test = evaluate(exec, *data, comm);
    if (!test)
      return fail(llvm::toString(test.takeError()));
    report.test = *test;
  }

  if (report.test) {
    // The headline figure: the first metric, else the loss alone.
    const MetricValues &m = report.test->metrics;
    std::string summary = fmt::format("loss {:.4f}", report.test->loss);
    for (const auto &[name, value] : m.scalars)
      if (name != "loss") {
        summary = formatMetric(name, value) + " (" + summary + ")";
        break;
      }
    log << probe->name() << ": test " << summary;
    if (report.steps)
      log << fmt::format(" after {} steps; training {:.2f} s ({:.3f} s/epoch)",
                         report.steps, report.trainSeconds,
                         report.trainSeconds /
                             std::max<size_t>(1, report.epochs.size()));
    log << "\n";
    printEvaluationDetails(log, *report.test);
  }
  // Predictions read no other rank: rank 0 makes and writes them.
  if (predicting && reports) {
    auto predictions = predict(*infer, *predictInput);
    if (!predictions)
      return fail(llvm::toString(predictions.takeError()));
    bool classifier = outputKind == OutputKind::Logits &&
                      predictions->exampleType.rank() == 1;
    if (!predictInput->conversion.empty())
      printNote(predictInput->name + ": " + predictInput->conversion);
    if (predictions->count == 1 && classifier) {
      ClassScore c = classify(predictions->row(0));
      llvm::errs() << fmt::format("{}: class {} (probability {:.4f})\n",
                                  predictInput->name, c.label, c.probability);
    } else {
      llvm::errs() << fmt::format("predicted {} examples of {}\n",
                                  predictions->count, predictInput->name);
    }
    if (llvm::Error err =
            writePredictions(options.predictOutput, *predictions, classifier))
      return fail(llvm::toString(std::move(err)));
  }
  // Of a job's ranks, rank 0 alone writes what nnc makes of the model.
  if (exporting && reports &&
      !exportModel(inferenceGraph, config.batchSize, probe->name(), state,
                   options.exportPath, diag))
    return 1;
  if (library && reports &&
      !emitLibrary(inferenceGraph, config.batchSize, options.fusion,
                   probe->name(), options.source, state, options, diag))
    return 1;
  if (options.profile && code)
    for (auto &e : executors)
      if (auto *jit = dynamic_cast<JitExecutor *>(e.get()))
        if (jit->runs())
          printProfile(log, *jit);
  // Every rank applied the same updates to the same weights: they must be
  // the same to the bit.
  if (comm && report.steps) {
    auto hashes = weightsOfEveryRank(*comm, state);
    if (!hashes)
      return fail(llvm::toString(hashes.takeError()));
    std::string each;
    for (uint64_t h : *hashes)
      each += fmt::format("{}{:016x}", each.empty() ? "" : " ", h);
    if (llvm::any_of(*hashes, [&](uint64_t h) { return h != (*hashes)[0]; }))
      return failTogether("the ranks' weights differ after training "
                          "(hashes by rank: " +
                          each + ")");
    log << fmt::format("weights identical on {} ranks after training "
                       "(hashes by rank: {})\n",
                       comm->size(), each);
  }
  if (!reports)
    return 0;
  if (!options.save.empty())
    if (llvm::Error err = saveModelState(
            state, options.save,
            trainingMetadata(identity, report.steps ? report.end : startAt)))
      return fail(llvm::toString(std::move(err)));
  if (!options.lossTrace.empty())
    if (llvm::Error err = writeLossTrace(options.lossTrace, report))
      return fail(llvm::toString(std::move(err)));
  if (!options.metrics.empty())
    if (llvm::Error err =
            writeMetrics(options.metrics, probe->name(),
                         code ? code->compileSeconds() : 0.0, report))
      return fail(llvm::toString(std::move(err)));
  return 0;
}

} // namespace nnc
