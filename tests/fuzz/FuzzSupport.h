//===- FuzzSupport.h - What the libFuzzer targets share ---------*- C++ -*-===//
//
// Reporting a finding, silencing diagnostics, and the property every target
// of graphs checks: printed IR reads back and verifies.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TESTS_FUZZ_FUZZSUPPORT_H
#define NNC_TESTS_FUZZ_FUZZSUPPORT_H

#include "ir/Diagnostics.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace nnc::fuzz {

/// Reports what broke and aborts, which libFuzzer records as a finding.
[[noreturn]] inline void finding(const char *what, const std::string &detail) {
  std::fprintf(stderr, "fuzz finding: %s\n%s\n", what, detail.c_str());
  std::abort();
}

/// Prints diagnostics to nowhere, so that the printing of every message
/// with its source line and caret runs too.
inline void discardDiagnostics(DiagnosticEngine &diag) {
  diag.setHandler(
      [&diag](const Diagnostic &d) { diag.print(llvm::nulls(), d); });
}

/// The printer's text of accepted IR must parse and verify again.
inline void checkReadsBack(const std::string &printed) {
  DiagnosticEngine diag;
  std::string messages;
  llvm::raw_string_ostream os(messages);
  diag.setHandler([&](const Diagnostic &d) { diag.print(os, d); });
  auto module = parseModule(printed, "printed.nnir", diag);
  if (!module || llvm::failed(verify(*module, diag)))
    finding("printed IR does not read back", printed + "\n" + messages);
}

} // namespace nnc::fuzz

#endif // NNC_TESTS_FUZZ_FUZZSUPPORT_H
