//===- OperandAnalysis.cpp - What a graph's operands are likely to hold ---===//
#include "codegen/OperandAnalysis.h"

#include "llvm/ADT/SmallPtrSet.h"

#include <algorithm>
#include <optional>

namespace nnc::codegen {

ExpectedZeros expectedZeros(const Value *v) {
  for (int depth = 0; depth < 64; ++depth) {
    const Op *def = v->definingOp();
    if (!def) {
      const Op *kernel = v->parentGraph()->parentOp();
      if (!kernel)
        return ExpectedZeros::Mostly; // an argument of the graph: the batch
      v = kernel->operand(v->index());
      continue;
    }
    if (def->is(OpKind::Relu))
      return ExpectedZeros::Often;
    // A gradient through a relu: select(x > 0, g, 0).
    if (def->is(OpKind::Select)) {
      const Op *other = def->operand(2)->definingOp();
      return other && other->is(OpKind::Constant) &&
                     other->attrs().getFloat("value") == 0.0
                 ? ExpectedZeros::Often
                 : ExpectedZeros::Rarely;
    }
    // max_pool2d_grad (and its scatter) sends each window's gradient to one
    // element, so at most one in strides[0] * strides[1] is non-zero.
    // (Mostly would pick sparser tiles, which ran no faster on the
    // convnets' products.)
    if (def->is(OpKind::MaxPool2DGrad) || def->is(OpKind::MaxPool2DScatter)) {
      const std::vector<int64_t> &s = def->attrs().getIntList("strides");
      return s[0] * s[1] >= 2 ? ExpectedZeros::Often : ExpectedZeros::Rarely;
    }
    if (def->is(OpKind::Reshape)) {
      v = def->operand(0);
      continue;
    }
    if (def->is(OpKind::Kernel)) {
      v = def->body()->terminator()->operand(v->index());
      continue;
    }
    return ExpectedZeros::Rarely;
  }
  return ExpectedZeros::Rarely;
}

const Value *throughReshapes(const Value *v) {
  while (const Op *def = v->definingOp()) {
    if (!def->is(OpKind::Reshape))
      break;
    v = def->operand(0);
  }
  return v;
}

namespace {

/// Whether every op that reads an argument (or a reshape of it) is a
/// contraction kernel that reads it as its left operand, by owner
/// (contractionReadsAByOwner), and as nothing else.
bool readOnlyByOwner(const Value *arg, const MemoryPlan &plan,
                     ContractionOptionsOf optionsOf) {
  if (plan.slot(arg).storage != Storage::Arena || arg->type().rank() < 2)
    return false;
  int64_t rows = arg->type().dim(0);
  int64_t columns = arg->type().numElements() / std::max<int64_t>(rows, 1);
  llvm::SmallVector<const Value *, 4> views{arg};
  llvm::SmallPtrSet<const Op *, 4> readers;
  for (size_t i = 0; i < views.size(); ++i)
    for (const Use &u : views[i]->uses()) {
      if (u.user->is(OpKind::Reshape))
        views.push_back(u.user->result());
      else
        readers.insert(u.user);
    }
  for (const Op *op : readers) {
    llvm::SmallVector<unsigned, 2> at;
    for (unsigned i = 0; i < op->numOperands(); ++i)
      if (llvm::is_contained(views, op->operand(i)))
        at.push_back(i);
    const Graph *body = op->body();
    std::optional<KernelFormInfo> form =
        body ? classifyKernel(*body) : std::nullopt;
    if (!form || form->form != KernelForm::Contraction || at.size() != 1)
      return false;
    const Value *lhs = form->product->operand(form->shape.lhs);
    if (lhs->parentGraph() != body || lhs->definingOp() ||
        lhs->index() != at[0] || llvm::any_of(lhs->uses(), [&](const Use &u) {
          return u.user != form->product;
        }))
      return false;
    const TensorType &t = lhs->type();
    if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != columns ||
        t.element() != ElementType::F32)
      return false;
    if (!contractionReadsAByOwner(*form, optionsOf(*op, *form)))
      return false;
  }
  return !readers.empty();
}

} // namespace

std::vector<bool> argumentsBlockedByOwner(const Graph &g,
                                          const MemoryPlan &plan,
                                          const CodegenOptions &options,
                                          ContractionOptionsOf optionsOf) {
  std::vector<bool> blocked(g.numArguments(), false);
  // Only the specialised contraction reads an operand by owner.
  if (!options.blockArgumentsByOwner || !options.specialize)
    return blocked;
  for (unsigned i = 0; i < g.numArguments(); ++i)
    blocked[i] = readOnlyByOwner(g.argument(i), plan, optionsOf);
  return blocked;
}

} // namespace nnc::codegen
