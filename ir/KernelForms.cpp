//===- KernelForms.cpp - The shapes of fused kernel bodies ----------------===//
#include "ir/KernelForms.h"

#include "llvm/ADT/DenseSet.h"

namespace nnc {

namespace {

/// A kernel body, outlined or not yet: its ops in program order, which of
/// them they are, and the values it hands out.
struct BodyView {
  std::vector<const Op *> ops;
  llvm::DenseSet<const Op *> members;
  std::vector<const Value *> outputs;

  /// Whether the body computes `v`; otherwise `v` is a kernel input.
  bool computes(const Value *v) const {
    const Op *d = v->definingOp();
    return d && members.contains(d);
  }
};

/// Constants and scalar element-wise ops, computed once per invocation.
bool isScalarPhase(const Op &op) {
  return (op.is(OpKind::Constant) && op.result()->type().isScalar()) ||
         isScalarElementwise(op);
}

std::optional<KernelFormInfo> classifyElementwise(const BodyView &body) {
  if (body.outputs.empty())
    return std::nullopt;
  KernelFormInfo info;
  info.form = KernelForm::Elementwise;
  info.space = Shape(body.outputs[0]->type().shape());
  for (const Value *v : body.outputs)
    if (v->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
  for (const Op *op : body.ops) {
    if (isScalarPhase(*op)) {
      info.phase[op] = ValuePhase::Scalar;
      continue;
    }
    bool constant = op->is(OpKind::Constant);
    if ((!isElementwise(*op) && !constant) ||
        !broadcastsTo(op->result()->type().shape(), info.space))
      return std::nullopt;
    info.phase[op] = ValuePhase::Space;
  }
  return info;
}

std::optional<KernelFormInfo> classifyContraction(const BodyView &body) {
  KernelFormInfo info;
  info.form = KernelForm::Contraction;
  for (const Op *op : body.ops) {
    std::optional<Product> p = matchProduct(*op);
    if (!p)
      continue;
    if (info.product)
      return std::nullopt; // one product per kernel
    info.product = op;
    info.shape = *p;
  }
  if (!info.product)
    return std::nullopt;
  for (const Value *v : info.product->operands())
    if (body.computes(v))
      return std::nullopt;
  if (info.shape.transposeB && info.shape.depth > kMaxPackedDepth)
    return std::nullopt;
  info.space = Shape(info.product->result()->type().shape());
  for (const Op *op : body.ops) {
    if (op == info.product) {
      info.phase[op] = ValuePhase::Space;
      continue;
    }
    if (isScalarPhase(*op)) {
      info.phase[op] = ValuePhase::Scalar;
      continue;
    }
    if (!isElementwise(*op) ||
        op->result()->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
    for (const Value *o : op->operands())
      if (!broadcastsTo(o->type().shape(), info.space))
        return std::nullopt;
    info.phase[op] = ValuePhase::Space;
  }
  for (const Value *v : body.outputs)
    if (!body.computes(v) ||
        v->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
  return info;
}

std::optional<KernelFormInfo> classifyRowwise(const BodyView &body) {
  KernelFormInfo info;
  info.form = KernelForm::Rowwise;
  // The space comes from the first op that works on rows or reduces rows.
  for (const Op *op : body.ops) {
    if (auto s = rowSpaceOf(*op)) {
      info.space = {s->first, s->second};
      break;
    }
    if (isBatchReduction(*op)) {
      const TensorType &in = op->operand(0)->type();
      info.space = {in.dim(0), in.rank() == 2 ? in.dim(1) : 1};
      break;
    }
  }
  if (info.space.empty())
    return std::nullopt;
  int64_t rows = info.space[0], cols = info.space[1];
  auto isRowShape = [&](llvm::ArrayRef<int64_t> s) {
    return s == llvm::ArrayRef<int64_t>{rows, cols} ||
           s == llvm::ArrayRef<int64_t>{rows} ||
           s == llvm::ArrayRef<int64_t>{rows, 1};
  };
  auto isPostShape = [&](llvm::ArrayRef<int64_t> s) {
    return s.empty() || s == llvm::ArrayRef<int64_t>{cols};
  };
  auto phaseOf = [&](const Value *v) -> std::optional<ValuePhase> {
    if (body.computes(v))
      return info.phase.lookup(v->definingOp());
    return std::nullopt; // a kernel input: read as its shape says
  };
  for (const Op *op : body.ops) {
    if (isScalarPhase(*op)) {
      info.phase[op] = ValuePhase::Scalar;
      continue;
    }
    // Inputs of each phase: row values, scalars, and kernel inputs of a
    // row shape or [cols] for the row phase; post values, scalars and
    // kernel inputs of a post shape for the post phase.
    bool anyRow = false, anyPost = false;
    for (const Value *o : op->operands()) {
      auto p = phaseOf(o);
      anyRow |= p == ValuePhase::Row;
      anyPost |= p == ValuePhase::Post;
    }
    if (anyRow && anyPost)
      return std::nullopt;
    const TensorType &result = op->result()->type();
    if (isBatchReduction(*op)) {
      const TensorType &in = op->operand(0)->type();
      if (anyPost || in.dim(0) != rows || (in.rank() == 2 && in.dim(1) != cols))
        return std::nullopt;
      info.phase[op] = ValuePhase::Post;
      continue;
    }
    if (auto s = rowSpaceOf(*op)) {
      if (*s != std::make_pair(rows, cols) || anyPost)
        return std::nullopt;
      info.phase[op] = ValuePhase::Row;
      continue;
    }
    if (auto s = rowExpansionOf(*op)) {
      if (*s != std::make_pair(rows, cols) || anyPost)
        return std::nullopt;
      info.phase[op] = ValuePhase::Row;
      continue;
    }
    if (!isElementwise(*op) && !op->is(OpKind::Constant))
      return std::nullopt;
    // An element-wise op reading only kernel inputs takes its phase from
    // its shape; [cols] is post unless a row value is read.
    bool row = anyRow || (!anyPost && isRowShape(result.shape()) &&
                          !isPostShape(result.shape()));
    if (row) {
      if (!isRowShape(result.shape()))
        return std::nullopt;
      for (const Value *o : op->operands()) {
        if (o->type().isScalar())
          continue;
        // A per-row vector [rows] next to [rows, cols] would broadcast
        // along the columns (NumPy), so a row op reads [rows] values only
        // into other [rows] values.
        if (phaseOf(o) == ValuePhase::Row && o->type().rank() == 1 &&
            result.rank() == 2)
          return std::nullopt;
        if (!phaseOf(o) && !isRowShape(o->type().shape()) &&
            o->type().shape() != llvm::ArrayRef<int64_t>{cols})
          return std::nullopt;
      }
      info.phase[op] = ValuePhase::Row;
    } else {
      if (!isPostShape(result.shape()))
        return std::nullopt;
      for (const Value *o : op->operands())
        if (!isPostShape(o->type().shape()))
          return std::nullopt;
      info.phase[op] = ValuePhase::Post;
    }
  }
  return info;
}

std::optional<KernelFormInfo> classify(const BodyView &body) {
  bool hasProduct = false, hasRowwise = false;
  for (const Op *op : body.ops) {
    hasProduct |= matchProduct(*op).has_value();
    hasRowwise |= rowSpaceOf(*op).has_value() || isBatchReduction(*op) ||
                  rowExpansionOf(*op).has_value();
  }
  if (hasProduct)
    return hasRowwise ? std::nullopt : classifyContraction(body);
  if (hasRowwise)
    return classifyRowwise(body);
  return classifyElementwise(body);
}

} // namespace

std::optional<KernelFormInfo> classifyKernel(const Graph &body) {
  const Op *yield = body.terminator();
  if (!yield)
    return std::nullopt;
  BodyView view;
  for (const Op &op : body.ops())
    if (&op != yield) {
      view.ops.push_back(&op);
      view.members.insert(&op);
    }
  view.outputs.assign(yield->operands().begin(), yield->operands().end());
  return classify(view);
}

std::optional<KernelFormInfo> classifyOps(llvm::ArrayRef<const Op *> ops) {
  BodyView view;
  view.ops.assign(ops.begin(), ops.end());
  view.members.insert(ops.begin(), ops.end());
  for (const Op *op : ops)
    for (const Value *r : op->results())
      if (llvm::any_of(r->uses(), [&](const Use &u) {
            return !view.members.contains(u.user);
          }))
        view.outputs.push_back(r);
  return classify(view);
}

} // namespace nnc
