//===- DotPrinter.h - Graphs as Graphviz pictures ---------------*- C++ -*-===//
//
// `--emit=dot` writes graphs in Graphviz's DOT language, for `dot -Tsvg`:
// one node per op, an edge per use labelled with the value's type, fused
// kernels as boxed clusters named after the kernel, the batch's arguments,
// parameters, optimizer state and constants each drawn their own way, and
// the in-place updates of a training step as dashed red edges back to the
// variable they write. The text is deterministic, so tests can check it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_DOTPRINTER_H
#define NNC_IR_DOTPRINTER_H

#include "ir/Graph.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace nnc {

/// One `digraph` of `g`.
void printGraphDot(llvm::raw_ostream &os, const Graph &g);

/// One `digraph` of the graphs of `m` that `names` lists (all of them when
/// empty): a graph alone is drawn as printGraphDot draws it, several each
/// in a cluster of its own.
void printModuleDot(llvm::raw_ostream &os, const Module &m,
                    llvm::ArrayRef<std::string> names = {});

} // namespace nnc

#endif
