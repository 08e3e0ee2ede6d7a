//===- Printer.h - The textual form of the graph IR -------------*- C++ -*-===//
//
// Prints graphs as `.nnir` text; ir/Parser.h reads it back, and printing the
// parsed text again gives the same text. Values print under their name hint
// (`%logits`) when they have one, made unique with a suffix, and as numbers
// otherwise. The grammar is in docs/ir.md.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_PRINTER_H
#define NNC_IR_PRINTER_H

#include "ir/Graph.h"

#include "llvm/Support/raw_ostream.h"

namespace nnc {

struct PrintOptions {
  /// Appends `loc("file":line:col)` to every op with a known location.
  bool printLocations = false;
};

void printGraph(llvm::raw_ostream &os, const Graph &g,
                const PrintOptions &opts = {});
void printModule(llvm::raw_ostream &os, const Module &m,
                 const PrintOptions &opts = {});
std::string toString(const Graph &g, const PrintOptions &opts = {});

} // namespace nnc

#endif // NNC_IR_PRINTER_H
