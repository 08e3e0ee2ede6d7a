//===- Functions.h - The primitive functions of the language ----*- C++ -*-===//
//
// The functions a model calls that map onto graph IR ops: element-wise
// functions (relu, exp, max, ...), matmul, reshape, transpose, reductions,
// argmax, one_hot, cast, and `param`, which creates a trainable parameter.
// Each is a row of one table: its signature and how it lowers. Layers, which
// create their own parameters, are in Layers.h; losses and metrics in
// Objectives.h.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_FUNCTIONS_H
#define NNC_FRONTEND_FUNCTIONS_H

#include "frontend/LoweringContext.h"

namespace nnc::nn {

struct FunctionDef {
  Signature signature;
  std::optional<Operand> (*lower)(CallContext &call);
  llvm::StringRef summary;

  llvm::StringRef name() const { return signature.callee; }
};

llvm::ArrayRef<FunctionDef> allFunctions();
const FunctionDef *lookupFunction(llvm::StringRef name);

/// Checks a parameter or layer name: letters, digits, '_' and '.', not
/// empty. Reports at `at` and returns false otherwise.
bool checkVariableName(llvm::StringRef name, const Location &at,
                       DiagnosticEngine &diag);

} // namespace nnc::nn

#endif // NNC_FRONTEND_FUNCTIONS_H
