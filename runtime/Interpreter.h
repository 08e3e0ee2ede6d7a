//===- Interpreter.h - Reference execution of graph IR ----------*- C++ -*-===//
//
// Runs any graph op by op with each op's reference semantics (ir/ops/), on
// host tensors, in plain code. It is the oracle the JIT and the passes are
// checked against, and `nnc --interp` trains with it.
//
// In F32 mode every f32 result is rounded to float after each op, as compiled
// code would store it; in F64 mode nothing is rounded, which is what gradient
// checks against finite differences want.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_INTERPRETER_H
#define NNC_RUNTIME_INTERPRETER_H

#include "ir/Graph.h"
#include "ir/HostTensor.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace nnc {

/// The values of a graph's variables (param and state), by name.
using VariableValues = llvm::StringMap<HostTensor>;

enum class Precision { F32, F64 };

/// Runs `g` once on `arguments`. Variables are read from `variables` (each
/// must be present with the variable's type) and, for those the graph
/// assigns, updated after the run. Returns the graph's results in order.
/// Errors (a label out of range, say) name the op and its location.
/// An `allreduce` sums its operands, laid end to end, through
/// `sumOverRanks`; without it the process is the only rank, and the sums
/// are the operands.
using SumOverRanks =
    llvm::function_ref<llvm::Error(llvm::MutableArrayRef<double> values)>;
llvm::Expected<std::vector<HostTensor>>
interpret(const Graph &g, llvm::ArrayRef<HostTensor> arguments,
          VariableValues &variables, Precision precision = Precision::F32,
          SumOverRanks sumOverRanks = {});

} // namespace nnc

#endif // NNC_RUNTIME_INTERPRETER_H
