//===- TrainingPipeline.cpp - From a forward graph to runnable steps ------===//
#include "tools/common/TrainingPipeline.h"

#include "passes/MemoryPlanning.h"

#include <fmt/format.h>

#include <chrono>

namespace nnc {

namespace {

/// Runs `pipeline` on a module holding only `g`, then returns the graph.
std::unique_ptr<Graph> runPasses(std::unique_ptr<Graph> g,
                                 llvm::StringRef pipeline,
                                 const PipelineOptions &options,
                                 DiagnosticEngine &diag,
                                 TrainingProgram &program) {
  Module m;
  m.addGraph(std::move(g));
  auto pm = std::make_unique<PassManager>(diag);
  auto passes = PassRegistry::global().parsePipeline(pipeline);
  if (!passes) {
    diag.error(Location(), llvm::toString(passes.takeError()));
    return nullptr;
  }
  pm->addPasses(std::move(*passes));
  pm->instrumentation() = options.instrumentation;
  auto start = std::chrono::steady_clock::now();
  llvm::LogicalResult result = pm->run(m);
  program.passSeconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  program.passManagers.push_back(std::move(pm));
  if (llvm::failed(result))
    return nullptr;
  return m.takeGraph(0);
}

} // namespace

std::string optimizerPass(const OptimizerConfig &o) {
  std::string decay =
      o.weightDecay != 0 ? fmt::format(",weight_decay={}", o.weightDecay) : "";
  // The schedule, as the pass's options (passes/Optimizers.cpp).
  const LearningRateSchedule &s = o.schedule;
  if (s.warmup)
    decay += fmt::format(",warmup={}", s.warmup);
  if (s.decay == LearningRateSchedule::Decay::Step)
    decay += fmt::format(",decay=step,decay_every={},decay_factor={}", s.every,
                         s.factor);
  if (s.decay == LearningRateSchedule::Decay::Cosine)
    decay += fmt::format(",decay=cosine,decay_steps={},decay_alpha={}",
                         s.decaySteps, s.alpha);
  if (o.kind == OptimizerConfig::Kind::SGD)
    return fmt::format("sgd{{lr={},momentum={}{}}}", o.learningRate, o.momentum,
                       decay);
  return fmt::format("adam{{lr={},beta1={},beta2={},eps={}{}}}", o.learningRate,
                     o.beta1, o.beta2, o.epsilon, decay);
}

std::unique_ptr<TrainingProgram>
buildTrainingProgram(const ForwardBuilder &forward,
                     const PipelineOptions &options, DiagnosticEngine &diag) {
  auto program = std::make_unique<TrainingProgram>();
  const char *cleanup = "canonicalize,cse,dce";
  std::string fuse = options.fusion ? ",fusion" : "";
  // Before the last cleanup, which merges the patches that a convolution
  // and its filter gradient both extract.
  std::string gemm = options.convolutionsAsProducts ? "conv-to-gemm," : "";

  std::unique_ptr<Graph> train = forward(options.batch);
  if (!train)
    return nullptr;
  std::string trainPipeline = "autodiff," + std::string(cleanup);
  if (options.stopAfter != "grad") {
    if (options.ranks > 1)
      trainPipeline +=
          fmt::format(",data-parallel{{ranks={}{}}}", options.ranks,
                      options.bucketBytes
                          ? fmt::format(",bucket-bytes={}", options.bucketBytes)
                          : "");
    trainPipeline +=
        "," + options.optimizer + "," +
        (options.stopAfter.empty() ? gemm + "max-pool-taps," : "") + cleanup;
  }
  if (options.stopAfter.empty())
    trainPipeline += fuse;
  train = runPasses(std::move(train), trainPipeline, options, diag, *program);
  if (!train)
    return nullptr;
  train->setName("train");
  program->module.addGraph(std::move(train));
  if (!options.stopAfter.empty())
    return program;

  std::unique_ptr<Graph> eval = options.evaluation
                                    ? options.evaluation(options.batch)
                                    : forward(options.batch);
  if (!eval)
    return nullptr;
  eval =
      runPasses(std::move(eval), "per-example-results," + gemm + cleanup + fuse,
                options, diag, *program);
  if (!eval)
    return nullptr;
  eval->setName("eval");
  program->module.addGraph(std::move(eval));

  if (options.inference) {
    std::unique_ptr<Graph> infer = options.inference(options.batch);
    if (!infer)
      return nullptr;
    infer = runPasses(std::move(infer), gemm + cleanup + fuse, options, diag,
                      *program);
    if (!infer)
      return nullptr;
    infer->setName("infer");
    program->module.addGraph(std::move(infer));
  }

  auto layout = StateLayout::fromModule(program->module);
  if (!layout) {
    diag.error(Location(), llvm::toString(layout.takeError()));
    return nullptr;
  }
  program->layout = std::move(*layout);
  return program;
}

std::unique_ptr<Graph> buildInferenceGraph(const ForwardBuilder &inference,
                                           int64_t batch, bool fusion,
                                           DiagnosticEngine &diag,
                                           bool convolutionsAsProducts) {
  std::unique_ptr<Graph> g = inference(batch);
  if (!g)
    return nullptr;
  TrainingProgram scratch;
  // Exports (unfused) keep their convolutions as convolutions.
  std::string pipeline = fusion
                             ? (convolutionsAsProducts ? "conv-to-gemm," : "") +
                                   std::string("canonicalize,cse,dce,fusion")
                             : "canonicalize,cse,dce";
  g = runPasses(std::move(g), pipeline, PipelineOptions(), diag, scratch);
  if (g)
    g->setName("infer");
  return g;
}

const MemoryPlan *TrainingProgram::plan(llvm::StringRef name) const {
  for (size_t i = 0; i < plans.size() && i < module.numGraphs(); ++i)
    if (module.graph(i)->name() == name)
      return plans[i].get();
  return nullptr;
}

llvm::Expected<std::unique_ptr<CompiledProgram>>
compileTrainingProgram(TrainingProgram &program, const CodegenOptions &codegen,
                       llvm::ArrayRef<std::string> only) {
  std::vector<const Graph *> graphs;
  std::vector<const MemoryPlan *> plans;
  program.plans.clear();
  for (const Graph &g : program.module.graphs()) {
    auto plan = planMemory(g, program.layout);
    if (!plan)
      return plan.takeError();
    program.plans.push_back(std::make_unique<MemoryPlan>(std::move(*plan)));
    if (!only.empty() && !llvm::is_contained(only, g.name()))
      continue;
    graphs.push_back(&g);
    plans.push_back(program.plans.back().get());
  }
  return CompiledProgram::compile(graphs, plans, codegen);
}

} // namespace nnc
