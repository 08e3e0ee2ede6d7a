//===- Diagnostics.cpp - Errors that point at the user's text -------------===//
#include "ir/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

namespace nnc {

DiagnosticEngine::DiagnosticEngine() {
  handler = [this](const Diagnostic &d) { print(llvm::errs(), d); };
}

unsigned
DiagnosticEngine::addBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  return srcMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
}

void DiagnosticEngine::emit(Severity severity, const Location &loc,
                            const llvm::Twine &msg) {
  if (severity == Severity::Error)
    ++errors;
  handler(Diagnostic{severity, loc, msg.str()});
}

Location DiagnosticEngine::locationOf(llvm::SMLoc loc) {
  unsigned id = srcMgr.FindBufferContainingLoc(loc);
  if (!id)
    return {};
  auto [line, col] = srcMgr.getLineAndColumn(loc, id);
  return Location(srcMgr.getMemoryBuffer(id)->getBufferIdentifier().str(), line,
                  col);
}

llvm::SMLoc DiagnosticEngine::toSMLoc(const Location &loc) {
  if (loc.isUnknown())
    return {};
  unsigned id = 0;
  for (unsigned i = 1; i <= srcMgr.getNumBuffers(); ++i)
    if (srcMgr.getMemoryBuffer(i)->getBufferIdentifier() == loc.file) {
      id = i;
      // Split-input chunks share a file name; pick the one holding the line.
      if (srcMgr.FindLocForLineAndColumn(i, loc.line, loc.col).isValid())
        break;
    }
  if (!id) {
    auto file = llvm::MemoryBuffer::getFile(loc.file, /*IsText=*/true);
    if (!file)
      return {};
    id = addBuffer(std::move(*file));
  }
  return srcMgr.FindLocForLineAndColumn(id, loc.line, loc.col);
}

void DiagnosticEngine::print(llvm::raw_ostream &os, const Diagnostic &d) {
  llvm::SourceMgr::DiagKind kind =
      d.severity == Severity::Error     ? llvm::SourceMgr::DK_Error
      : d.severity == Severity::Warning ? llvm::SourceMgr::DK_Warning
                                        : llvm::SourceMgr::DK_Note;
  llvm::SMLoc sm = toSMLoc(d.loc);
  if (sm.isValid()) {
    srcMgr.PrintMessage(os, sm, kind, d.message, {}, {}, os.has_colors());
    return;
  }
  // No source text to show: still say where.
  llvm::SMDiagnostic diag(d.loc.isUnknown() ? programName : d.loc.str(), kind,
                          d.message);
  diag.print(nullptr, os, os.has_colors());
}

} // namespace nnc
