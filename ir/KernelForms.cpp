//===- KernelForms.cpp - The shapes of fused kernel bodies ----------------===//
#include "ir/KernelForms.h"

namespace nnc {

namespace {

bool isElementwise(const Op &op) {
  return op.def().fusion == FusionClass::Elementwise;
}

/// Constants and scalar element-wise ops, computed once per invocation.
bool isScalarPhase(const Op &op) {
  return (op.is(OpKind::Constant) && op.result()->type().isScalar()) ||
         isScalarElementwise(op);
}

std::optional<KernelFormInfo> classifyElementwise(const Graph &body) {
  const Op *yield = body.terminator();
  if (!yield || yield->numOperands() == 0)
    return std::nullopt;
  KernelFormInfo info;
  info.form = KernelForm::Elementwise;
  info.space = Shape(yield->operand(0)->type().shape());
  for (const Value *v : yield->operands())
    if (v->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
  for (const Op &op : body.ops()) {
    if (&op == yield)
      continue;
    if (isScalarPhase(op)) {
      info.phase[&op] = ValuePhase::Scalar;
      continue;
    }
    bool constant = op.is(OpKind::Constant);
    if ((!isElementwise(op) && !constant) ||
        !broadcastsTo(op.result()->type().shape(), info.space))
      return std::nullopt;
    info.phase[&op] = ValuePhase::Space;
  }
  return info;
}

std::optional<KernelFormInfo> classifyContraction(const Graph &body) {
  KernelFormInfo info;
  info.form = KernelForm::Contraction;
  const Op *yield = body.terminator();
  for (const Op &op : body.ops()) {
    if (!op.is(OpKind::MatMul))
      continue;
    if (info.matmul)
      return std::nullopt; // one product per kernel
    info.matmul = &op;
  }
  if (!info.matmul)
    return std::nullopt;
  for (const Value *v : info.matmul->operands())
    if (!v->isArgument())
      return std::nullopt;
  const TensorType &lhs = info.matmul->operand(0)->type();
  int64_t depth =
      info.matmul->attrs().getBool("transpose_a") ? lhs.dim(0) : lhs.dim(1);
  if (info.matmul->attrs().getBool("transpose_b") && depth > kMaxPackedDepth)
    return std::nullopt;
  info.space = Shape(info.matmul->result()->type().shape());
  for (const Op &op : body.ops()) {
    if (&op == yield)
      continue;
    if (&op == info.matmul) {
      info.phase[&op] = ValuePhase::Space;
      continue;
    }
    if (isScalarPhase(op)) {
      info.phase[&op] = ValuePhase::Scalar;
      continue;
    }
    if (!isElementwise(op) ||
        op.result()->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
    for (const Value *o : op.operands())
      if (!broadcastsTo(o->type().shape(), info.space))
        return std::nullopt;
    info.phase[&op] = ValuePhase::Space;
  }
  for (const Value *v : yield->operands())
    if (v->isArgument() ||
        v->type().shape() != llvm::ArrayRef<int64_t>(info.space))
      return std::nullopt;
  return info;
}

std::optional<std::pair<int64_t, int64_t>> rowSpaceOf(const Op &op) {
  if (op.numOperands() == 0)
    return std::nullopt;
  const TensorType &in = op.operand(0)->type();
  // The row-wise kernel accumulates in float; integer rows (an i32 sum)
  // take the generic path.
  if (in.rank() != 2 || !isFloat(in.element()))
    return std::nullopt;
  switch (op.kind()) {
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::SoftmaxCrossEntropy:
    return std::make_pair(in.dim(0), in.dim(1));
  case OpKind::ArgMax:
    if (op.attrs().getInt("axis") == 1)
      return std::make_pair(in.dim(0), in.dim(1));
    return std::nullopt;
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
    if (!op.attrs().getBool("keepdims"))
      return std::make_pair(in.dim(0), in.dim(1));
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

std::optional<KernelFormInfo> classifyRowwise(const Graph &body) {
  KernelFormInfo info;
  info.form = KernelForm::Rowwise;
  // The space comes from the first op that works on rows or reduces rows.
  for (const Op &op : body.ops()) {
    if (auto s = rowSpaceOf(op)) {
      info.space = {s->first, s->second};
      break;
    }
    if (isBatchReduction(op) && op.operand(0)->type().rank() == 1) {
      info.space = {op.operand(0)->type().dim(0), 1};
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
    if (const Op *d = v->definingOp())
      return info.phase.lookup(d);
    return std::nullopt; // a kernel input: read as its shape says
  };
  const Op *yield = body.terminator();
  for (const Op &op : body.ops()) {
    if (&op == yield)
      continue;
    if (isScalarPhase(op)) {
      info.phase[&op] = ValuePhase::Scalar;
      continue;
    }
    // Inputs of each phase: row values, scalars, and kernel inputs of a
    // row shape or [cols] for the row phase; post values, scalars and
    // kernel inputs of a post shape for the post phase.
    bool anyRow = false, anyPost = false;
    for (const Value *o : op.operands()) {
      auto p = phaseOf(o);
      anyRow |= p == ValuePhase::Row;
      anyPost |= p == ValuePhase::Post;
    }
    if (anyRow && anyPost)
      return std::nullopt;
    const TensorType &result = op.result()->type();
    if (isBatchReduction(op)) {
      const TensorType &in = op.operand(0)->type();
      if (anyPost || in.dim(0) != rows || (in.rank() == 2 && in.dim(1) != cols))
        return std::nullopt;
      info.phase[&op] = ValuePhase::Post;
      continue;
    }
    if (auto s = rowSpaceOf(op)) {
      if (*s != std::make_pair(rows, cols) || anyPost)
        return std::nullopt;
      info.phase[&op] = ValuePhase::Row;
      continue;
    }
    if (op.is(OpKind::OneHot)) {
      if (anyPost ||
          op.operand(0)->type().shape() != llvm::ArrayRef<int64_t>{rows} ||
          result.dim(1) != cols)
        return std::nullopt;
      info.phase[&op] = ValuePhase::Row;
      continue;
    }
    if (!isElementwise(op) && !op.is(OpKind::Constant))
      return std::nullopt;
    // An element-wise op reading only kernel inputs takes its phase from
    // its shape; [cols] is post unless a row value is read.
    bool row = anyRow || (!anyPost && isRowShape(result.shape()) &&
                          !isPostShape(result.shape()));
    if (row) {
      if (!isRowShape(result.shape()))
        return std::nullopt;
      for (const Value *o : op.operands()) {
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
      info.phase[&op] = ValuePhase::Row;
    } else {
      if (!isPostShape(result.shape()))
        return std::nullopt;
      for (const Value *o : op.operands())
        if (!isPostShape(o->type().shape()))
          return std::nullopt;
      info.phase[&op] = ValuePhase::Post;
    }
  }
  return info;
}

} // namespace

bool isScalarElementwise(const Op &op) {
  return isElementwise(op) && op.numResults() == 1 &&
         op.result()->type().isScalar() &&
         llvm::all_of(op.operands(),
                      [](const Value *v) { return v->type().isScalar(); });
}

bool isBatchReduction(const Op &op) {
  bool reduce = op.is(OpKind::ReduceSum) || op.is(OpKind::ReduceMean) ||
                op.is(OpKind::ReduceMax);
  return reduce && !op.attrs().getBool("keepdims") &&
         op.attrs().getIntList("axes") == std::vector<int64_t>{0} &&
         op.operand(0)->type().rank() <= 2;
}

std::optional<KernelFormInfo> classifyKernel(const Graph &body) {
  bool hasMatmul = false, hasRowwise = false;
  for (const Op &op : body.ops()) {
    hasMatmul |= op.is(OpKind::MatMul);
    hasRowwise |= rowSpaceOf(op).has_value() || isBatchReduction(op) ||
                  op.is(OpKind::OneHot);
  }
  if (hasMatmul)
    return hasRowwise ? std::nullopt : classifyContraction(body);
  if (hasRowwise)
    return classifyRowwise(body);
  return classifyElementwise(body);
}

} // namespace nnc
