//===- OperandAnalysis.h - What a graph's operands are likely to hold -----===//
//
// Two analyses of a graph that code generation needs before it emits a
// contraction kernel, because the fastest code depends on what the kernel's
// left operand will hold at run time and how it is laid out, which the
// kernel body alone does not say:
//
// - expectedZeros: how often a value is probably zero, from what defines it
//   (the batch of images is mostly zeros; a relu's output, or a gradient
//   through one, about half). It concludes whether a contraction's tiles
//   should scan for and skip the depths at which their rows of A are zero, a
//   scan that pays only when zeros are common, and which sparse tiles suit.
//
// - argumentsBlockedByOwner: which of the graph's arguments (the batch) may
//   be stored blocked by the threads that own its columns, so that no page
//   holds two threads' elements. It holds when every op that reads the
//   argument is a contraction that reads it as its left operand only in the
//   columns its thread owns; the kernels then index the blocks, and the
//   runtime writes the batch in that layout (CompiledStep::
//   argumentsBlockedByOwner).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_OPERANDANALYSIS_H
#define NNC_CODEGEN_OPERANDANALYSIS_H

#include "codegen/Compiler.h"
#include "codegen/FusedKernels.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <vector>

namespace nnc::codegen {

/// How often a value is probably zero: the graph's arguments (images are
/// mostly zeros), relu outputs and gradients through a relu (about half),
/// seen through reshapes and kernel boundaries.
enum class ExpectedZeros { Rarely, Often, Mostly };
ExpectedZeros expectedZeros(const Value *v);

/// The value a chain of reshapes views.
const Value *throughReshapes(const Value *v);

/// The options a contraction kernel's generator would get, for the
/// analyses that must know how the kernel reads its operands.
using ContractionOptionsOf = llvm::function_ref<ContractionOptions(
    const Op &kernel, const KernelFormInfo &form)>;

/// For each argument of `g`, whether it is stored blocked by owner: only
/// with options.blockArgumentsByOwner and the specialised kernels (only the
/// specialised contraction reads an operand by owner), for an argument in
/// the arena of rank 2 or more whose every reader, through reshapes, is a
/// contraction kernel that reads it as its f32 [rows, columns] left operand
/// by owner (contractionReadsAByOwner) and as nothing else.
std::vector<bool> argumentsBlockedByOwner(const Graph &g,
                                          const MemoryPlan &plan,
                                          const CodegenOptions &options,
                                          ContractionOptionsOf optionsOf);

} // namespace nnc::codegen

#endif
