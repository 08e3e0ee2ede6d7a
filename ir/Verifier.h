//===- Verifier.h - Checking a graph against the IR's rules -----*- C++ -*-===//
//
// The verifier checks every op against its definition (operand count,
// attributes, the type rule) and the structure of each graph: operands
// defined before use (which also rules out cycles), one terminator at the end,
// variables with unique names assigned at most once, kernels whose bodies
// match their signatures. Each error names the op and points at its location.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_VERIFIER_H
#define NNC_IR_VERIFIER_H

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include "llvm/Support/LogicalResult.h"

namespace nnc {

llvm::LogicalResult verify(const Graph &g, DiagnosticEngine &diag);
llvm::LogicalResult verify(const Module &m, DiagnosticEngine &diag);

} // namespace nnc

#endif // NNC_IR_VERIFIER_H
