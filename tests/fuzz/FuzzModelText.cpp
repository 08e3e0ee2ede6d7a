//===- FuzzModelText.cpp - libFuzzer target: model files ------------------===//
//
// Feeds arbitrary bytes to the frontend as a model file and, when it
// accepts them, runs the driver's whole graph pipeline on the model:
// lowering, autodiff, the optimizer, cleanup, fusion, the evaluation step,
// memory planning and the LLVM IR of both steps (for an AVX-512 target,
// whatever the host; nothing is compiled or run). Malformed input must end in
// diagnostics, never in a crash, an assertion or undefined behaviour (the fuzz
// build runs under AddressSanitizer and UBSan). Two properties are checked
// beyond that: every graph the frontend accepts verifies, and its printed form
// parses back to a graph that verifies; every module the code generator writes
// passes LLVM's verifier.
//
//===----------------------------------------------------------------------===//
#include "codegen/StepCodegen.h"
#include "frontend/Frontend.h"
#include "frontend/TrainingConfig.h"
#include "ir/Printer.h"
#include "passes/MemoryPlanning.h"
#include "tests/fuzz/FuzzSupport.h"
#include "tools/common/TrainingPipeline.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

using namespace nnc;
using namespace nnc::fuzz;

namespace {

/// Writes the step's LLVM IR, as the JIT would before optimizing it, and
/// verifies every module. Errors the generator reports are fine (it
/// rejects what it cannot compile); invalid IR is a finding. `variant`
/// picks the options, so that the corpus covers them all.
void checkCodegen(const Graph &g, const MemoryPlan &plan, unsigned variant) {
  llvm::LLVMContext context;
  std::vector<std::unique_ptr<llvm::Module>> modules;
  auto newModule = [&](llvm::StringRef name) -> llvm::Module & {
    modules.push_back(std::make_unique<llvm::Module>(name, context));
    return *modules.back();
  };
  codegen::TargetInfo target{"znver4",
                             "+avx,+avx2,+fma,+f16c,+avx512f,+avx512vl,"
                             "+avx512bw,+avx512dq,+avx512cd"};
  CodegenOptions options;
  options.preferVectorWidth = variant & 1 ? 256 : 0;
  options.fastUpdates = variant & 2;
  options.skipZeros = !(variant & 4);
  options.blockArgumentsByOwner = !(variant & 8);
  CompiledStep step;
  llvm::Module &stepModule = newModule(g.name());
  auto fn =
      codegen::emitStep(stepModule, newModule, g, plan, options, target, step);
  if (!fn) {
    llvm::consumeError(fn.takeError());
    return;
  }
  for (const auto &m : modules) {
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (llvm::verifyModule(*m, &os))
      finding("the code generator wrote invalid LLVM IR",
              toString(g) + "\n" + errors);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  DiagnosticEngine diag;
  discardDiagnostics(diag);
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto file = parseModelFile(text, "fuzz.nn", diag);
  if (!file)
    return 0;
  auto config = readTrainingConfig(*file, diag);
  if (!config)
    return 0;
  // Small batches keep an execution fast; the shapes' rules do not depend
  // on the batch beyond its being positive.
  int64_t batch = std::min<int64_t>(config->batchSize, 4);
  auto forward = lowerModel(*file, batch, diag);
  if (!forward)
    return 0;
  if (llvm::failed(verify(*forward, diag)))
    finding("the frontend built a graph that does not verify",
            toString(*forward));
  checkReadsBack(toString(*forward));

  PipelineOptions options;
  options.batch = batch;
  options.optimizer = optimizerPass(config->optimizer);
  options.instrumentation.verifyEach = true;
  options.evaluation = [&](int64_t b) {
    ModelOptions mopts;
    mopts.batchSize = b;
    mopts.training = false;
    return lowerModel(*file, mopts, diag);
  };
  auto program = buildTrainingProgram(
      [&](int64_t b) { return lowerModel(*file, b, diag); }, options, diag);
  if (!program)
    return 0;
  for (const Graph &g : program->module.graphs()) {
    checkReadsBack(toString(g));
    auto plan = planMemory(g, program->layout);
    if (!plan) {
      llvm::consumeError(plan.takeError());
      continue;
    }
    checkCodegen(g, *plan, unsigned(size));
  }
  return 0;
}
