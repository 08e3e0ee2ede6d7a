//===- FuzzGraphText.cpp - libFuzzer target: graph IR files ---------------===//
//
// Feeds arbitrary bytes to the graph IR parser, as nnc-opt reads them, and
// runs the passes on every module that parses and verifies: the cleanup
// passes with fusion, the evaluation step's pipeline (per-example results,
// cleanup, fusion) and the training pipeline with Adam and with SGD. Malformed
// input must end in diagnostics, never in a crash, an assertion or undefined
// behaviour (the fuzz build runs under AddressSanitizer and UBSan). A module
// that verified must print to text that parses back and verifies, before and
// after the passes.
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"
#include "passes/PassManager.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cstdint>

using namespace nnc;
using namespace nnc::fuzz;

namespace {

std::string printed(const Module &m) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printModule(os, m);
  return text;
}

/// Parses `text` afresh and runs `pipeline` on it with verification after
/// every pass.
void runPipeline(llvm::StringRef text, llvm::StringRef pipeline) {
  DiagnosticEngine diag;
  discardDiagnostics(diag);
  auto module = parseModule(text, "fuzz.nnir", diag);
  if (!module)
    return;
  PassManager pm(diag);
  auto passes = PassRegistry::global().parsePipeline(pipeline);
  if (!passes)
    finding("the pipeline does not parse", llvm::toString(passes.takeError()));
  pm.addPasses(std::move(*passes));
  pm.instrumentation().verifyEach = true;
  if (llvm::succeeded(pm.run(*module)) &&
      llvm::succeeded(verify(*module, diag)))
    checkReadsBack(printed(*module));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  {
    DiagnosticEngine diag;
    discardDiagnostics(diag);
    auto module = parseModule(text, "fuzz.nnir", diag);
    if (!module || llvm::failed(verify(*module, diag)))
      return 0;
    checkReadsBack(printed(*module));
  }
  runPipeline(text, "canonicalize,cse,dce,fusion");
  runPipeline(text, "per-example-results,canonicalize,cse,dce,fusion");
  runPipeline(text, "autodiff,canonicalize,cse,dce,adam,canonicalize,cse,dce,"
                    "fusion");
  runPipeline(text, "autodiff,canonicalize,cse,dce,sgd{momentum=0.9},"
                    "canonicalize,cse,dce,fusion");
  return 0;
}
