//===- VerifyDiagnostics.h - Checking diagnostics against the source ------===//
//
// For `--verify-diagnostics`: the input says which diagnostics it expects, in
// MLIR's syntax, and the tool checks that exactly those were produced:
//
//   // expected-error@+1 {{contracting dimensions differ}}
//   %1 = matmul %a, %b : f32[2,2]
//
// `@+N` / `@-N` name a line relative to the comment; without it the comment's
// own line. The text between {{ }} must occur in the message. Only the
// `expected-...` part is read, so the comment may start with `//` (IR) or
// `#` (model files).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_VERIFYDIAGNOSTICS_H
#define NNC_IR_VERIFYDIAGNOSTICS_H

#include "ir/Diagnostics.h"

#include "llvm/Support/LogicalResult.h"

namespace nnc {

class DiagnosticVerifier {
public:
  /// Captures every diagnostic `diag` emits from now on.
  explicit DiagnosticVerifier(DiagnosticEngine &diag);

  /// Reads the expectations written in a buffer.
  void addExpectations(unsigned bufferId);

  /// Reports, as errors on stderr, every diagnostic that was not expected and
  /// every expectation that was not met. Fails if there was either.
  llvm::LogicalResult finish();

private:
  struct Expectation {
    Severity severity;
    Location loc; ///< The line the diagnostic must be on.
    Location writtenAt;
    std::string text;
    bool matched = false;
  };

  DiagnosticEngine &diag;
  std::vector<Expectation> expectations;
  std::vector<Diagnostic> produced;
};

} // namespace nnc

#endif
