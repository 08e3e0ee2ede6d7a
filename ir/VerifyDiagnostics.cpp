//===- VerifyDiagnostics.cpp - Checking diagnostics against the source ----===//
#include "ir/VerifyDiagnostics.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

namespace nnc {

DiagnosticVerifier::DiagnosticVerifier(DiagnosticEngine &diag) : diag(diag) {
  diag.setHandler([this](const Diagnostic &d) { produced.push_back(d); });
}

void DiagnosticVerifier::addExpectations(unsigned bufferId) {
  const llvm::MemoryBuffer *buf = diag.sourceMgr().getMemoryBuffer(bufferId);
  llvm::StringRef text = buf->getBuffer();
  std::string file = buf->getBufferIdentifier().str();
  llvm::Regex pattern(
      "expected-(error|warning|note)(@[+-][0-9]+)? *\\{\\{(.*)\\}\\}");
  unsigned lineNo = 0;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    ++lineNo;
    llvm::SmallVector<llvm::StringRef, 4> m;
    if (!pattern.match(line, &m))
      continue;
    Expectation e;
    e.severity = m[1] == "error"     ? Severity::Error
                 : m[1] == "warning" ? Severity::Warning
                                     : Severity::Note;
    int offset = 0;
    if (!m[2].empty()) { // "@+1" or "@-2"
      m[2].drop_front(2).getAsInteger(10, offset);
      if (m[2][1] == '-')
        offset = -offset;
    }
    e.loc = Location(file, unsigned(int(lineNo) + offset), 0);
    e.writtenAt =
        Location(file, lineNo, unsigned(m[0].data() - line.data()) + 1);
    e.text = m[3].str();
    expectations.push_back(std::move(e));
  }
}

llvm::LogicalResult DiagnosticVerifier::finish() {
  // From here on, diagnostics are printed again.
  diag.setHandler([this](const Diagnostic &d) { diag.print(llvm::errs(), d); });
  bool ok = true;
  for (const Diagnostic &d : produced) {
    auto it = llvm::find_if(expectations, [&](const Expectation &e) {
      return !e.matched && e.severity == d.severity &&
             e.loc.file == d.loc.file && e.loc.line == d.loc.line &&
             llvm::StringRef(d.message).contains(e.text);
    });
    if (it != expectations.end()) {
      it->matched = true;
      continue;
    }
    ok = false;
    diag.print(llvm::errs(), Diagnostic{Severity::Error, d.loc,
                                        "unexpected diagnostic: " + d.message});
  }
  for (const Expectation &e : expectations)
    if (!e.matched) {
      ok = false;
      diag.print(llvm::errs(),
                 Diagnostic{Severity::Error, e.writtenAt,
                            "expected diagnostic was not produced: \"" +
                                e.text + "\""});
    }
  return llvm::success(ok);
}

} // namespace nnc
