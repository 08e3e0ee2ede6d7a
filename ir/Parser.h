//===- Parser.h - Reading `.nnir` text --------------------------*- C++ -*-===//
//
// Parses the text ir/Printer.h writes. The parser checks syntax, names and
// attributes; types and structure are the verifier's job, so an IR file with
// a shape error parses and then fails verification at the op that has it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_PARSER_H
#define NNC_IR_PARSER_H

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include <memory>

namespace nnc {

/// Parses the buffer `bufferId` of the engine's source manager. Returns null
/// after reporting the first error.
std::unique_ptr<Module> parseModule(unsigned bufferId, DiagnosticEngine &diag);

/// Convenience for tests and tools: registers `text` under `name` and parses
/// it.
std::unique_ptr<Module> parseModule(llvm::StringRef text, llvm::StringRef name,
                                    DiagnosticEngine &diag);

} // namespace nnc

#endif // NNC_IR_PARSER_H
