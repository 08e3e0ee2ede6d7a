//===- Diagnostics.h - Errors that point at the user's text -----*- C++ -*-===//
//
// Every error nnc reports about a model or IR file is printed by llvm's
// SourceMgr as `file:line:col: error: message`, followed by the source line
// and a caret. Locations are file/line/column triples, so a diagnostic about
// an op lowered from a `.nn` file points into that file, which is loaded on
// demand if it is not already open.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_DIAGNOSTICS_H
#define NNC_IR_DIAGNOSTICS_H

#include "ir/Location.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

#include <functional>
#include <memory>
#include <vector>

namespace nnc {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  Location loc;
  std::string message;
};

class DiagnosticEngine {
public:
  DiagnosticEngine();

  llvm::SourceMgr &sourceMgr() { return srcMgr; }

  /// Registers a buffer (a file read or a `// -----` chunk of one); returns
  /// its id in the source manager.
  unsigned addBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);

  void emit(Severity severity, const Location &loc, const llvm::Twine &msg);
  void error(const Location &loc, const llvm::Twine &msg) {
    emit(Severity::Error, loc, msg);
  }
  void warning(const Location &loc, const llvm::Twine &msg) {
    emit(Severity::Warning, loc, msg);
  }
  void note(const Location &loc, const llvm::Twine &msg) {
    emit(Severity::Note, loc, msg);
  }

  unsigned numErrors() const { return errors; }
  void resetErrorCount() { errors = 0; }

  /// Routes diagnostics to `handler` instead of printing them.
  void setHandler(std::function<void(const Diagnostic &)> handler) {
    this->handler = std::move(handler);
  }

  /// Prints a diagnostic with its source line and caret.
  void print(llvm::raw_ostream &os, const Diagnostic &d);

  /// What a diagnostic without a location names instead: the tool.
  void setProgramName(llvm::StringRef name) { programName = name.str(); }

  /// Location of a pointer into a registered buffer.
  Location locationOf(llvm::SMLoc loc);

  /// The source position of a location; invalid if its file is unreadable.
  llvm::SMLoc toSMLoc(const Location &loc);

private:
  llvm::SourceMgr srcMgr;
  std::function<void(const Diagnostic &)> handler;
  unsigned errors = 0;
  std::string programName = "nnc";
};

} // namespace nnc

#endif // NNC_IR_DIAGNOSTICS_H
