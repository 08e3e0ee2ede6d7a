//===- FuzzGraphText.cpp - libFuzzer target: graph IR files ---------------===//
//
// Feeds arbitrary bytes to the graph IR parser, as nnc-opt reads them, and
// runs the passes on every module that parses and verifies: the cleanup
// passes with fusion, and the training pipeline (autodiff, Adam, cleanup,
// fusion). Malformed input must end in diagnostics, never in a crash, an
// assertion or undefined behaviour (the fuzz build runs under
// AddressSanitizer and UBSan). A module that verified must print to text
// that parses back and verifies, before and after the passes.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace nnc;

namespace {

[[noreturn]] void finding(const char *what, const std::string &detail) {
  std::fprintf(stderr, "fuzz-graph-text: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void checkRoundTrip(const Module &m) {
  std::string text;
  llvm::raw_string_ostream printed(text);
  printModule(printed, m);
  DiagnosticEngine diag;
  std::string messages;
  llvm::raw_string_ostream os(messages);
  diag.setHandler([&](const Diagnostic &d) { diag.print(os, d); });
  auto module = parseModule(text, "printed.nnir", diag);
  if (!module || llvm::failed(verify(*module, diag)))
    finding("the printed module does not read back", text + "\n" + messages);
}

/// Parses `text` afresh and runs `pipeline` on it with verification after
/// every pass.
void runPipeline(llvm::StringRef text, llvm::StringRef pipeline) {
  DiagnosticEngine diag;
  diag.setHandler(
      [&diag](const Diagnostic &d) { diag.print(llvm::nulls(), d); });
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
    checkRoundTrip(*module);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  {
    DiagnosticEngine diag;
    diag.setHandler(
        [&diag](const Diagnostic &d) { diag.print(llvm::nulls(), d); });
    auto module = parseModule(text, "fuzz.nnir", diag);
    if (!module || llvm::failed(verify(*module, diag)))
      return 0;
    checkRoundTrip(*module);
  }
  runPipeline(text, "canonicalize,cse,dce,fusion");
  runPipeline(text, "autodiff,canonicalize,cse,dce,adam,canonicalize,cse,dce,"
                    "fusion");
  return 0;
}
