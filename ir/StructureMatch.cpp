//===- StructureMatch.cpp - What an op's loop structure is ----------------===//
#include "ir/StructureMatch.h"

#include "ir/Structured.h"

namespace nnc {

namespace {

/// Whether `o` reads its tensor NumPy-broadcast into a domain of `rank`
/// whose leading dimensions are the result's.
bool readsBroadcast(const StageOperand &o, size_t rank) {
  if (o.padding || o.map.size() > rank)
    return false;
  size_t lead = rank - o.map.size();
  for (size_t i = 0; i < o.map.size(); ++i) {
    const AffineExpr &e = o.map[i];
    if (auto d = e.asDim(); d && *d == lead + i)
      continue;
    if (e.isConstant() && e.offset == 0 && o.view[i] == 1)
      continue;
    return false;
  }
  return true;
}

/// Whether `o` reads its tensor at exactly the domain dimensions `dims`.
bool readsDims(const StageOperand &o, llvm::ArrayRef<unsigned> dims) {
  if (o.padding || o.map.size() != dims.size())
    return false;
  for (size_t i = 0; i < dims.size(); ++i)
    if (o.map[i].asDim() != std::optional<unsigned>(dims[i]))
      return false;
  return true;
}

bool readsPosition(const ScalarBody &body) {
  return llvm::any_of(body.nodes(), [](const ScalarNode &n) {
    return n.op == ScalarOp::Index || n.op == ScalarOp::Uniform;
  });
}

/// The single stage of a one-result op's description.
std::optional<StructuredStage> singleStage(const Op &op) {
  if (op.numResults() != 1)
    return std::nullopt;
  std::optional<StructuredOp> s = describe(op);
  if (!s || s->stages.size() != 1 || s->stages[0].result != 0)
    return std::nullopt;
  return std::move(s->stages[0]);
}

bool isShape(llvm::ArrayRef<int64_t> s, std::initializer_list<int64_t> dims) {
  return s == llvm::ArrayRef<int64_t>(dims);
}

} // namespace

bool isElementwise(const Op &op) {
  std::optional<StructuredStage> st = singleStage(op);
  if (!st || st->combiner != Combiner::None ||
      st->parallel != st->domain.size() ||
      llvm::ArrayRef<int64_t>(st->domain) != op.result()->type().shape())
    return false;
  for (const StageOperand &o : st->operands)
    // A reshape reads its operand flat, through another view.
    if (o.operand == StageOperand::kNone ||
        llvm::ArrayRef<int64_t>(o.view) !=
            op.operand(o.operand)->type().shape() ||
        !readsBroadcast(o, st->domain.size()))
      return false;
  return !readsPosition(st->body);
}

bool isScalarElementwise(const Op &op) {
  return op.numResults() == 1 && op.result()->type().isScalar() &&
         llvm::all_of(op.operands(),
                      [](const Value *v) { return v->type().isScalar(); }) &&
         isElementwise(op);
}

std::optional<Product> matchProduct(const Op &op) {
  std::optional<StructuredStage> st = singleStage(op);
  if (!st || st->combiner != Combiner::Sum || st->domain.size() != 3 ||
      st->parallel != 2 || st->type != ElementType::F32 ||
      st->operands.size() != 2)
    return std::nullopt;
  const TensorType &result = op.result()->type();
  if (!isFloat(result.element()) ||
      result.shape() != llvm::ArrayRef<int64_t>(st->domain).take_front(2))
    return std::nullopt;
  // The body multiplies the two operands as they are read.
  const ScalarNode &mul = st->body.node(st->body.result());
  if (mul.op != ScalarOp::Mul || mul.args.size() != 2)
    return std::nullopt;
  for (unsigned i = 0; i < 2; ++i) {
    const ScalarNode &in = st->body.node(mul.args[i]);
    if (in.op != ScalarOp::Input || in.slot != int64_t(i))
      return std::nullopt;
  }
  Product p;
  p.m = st->domain[0];
  p.n = st->domain[1];
  p.depth = st->domain[2];
  bool haveA = false, haveB = false;
  for (const StageOperand &o : st->operands) {
    if (o.operand == StageOperand::kNone ||
        op.operand(o.operand)->type().element() != ElementType::F32)
      return std::nullopt;
    if (!haveA && (readsDims(o, {0, 2}) || readsDims(o, {2, 0}))) {
      p.lhs = unsigned(o.operand);
      p.transposeA = readsDims(o, {2, 0});
      haveA = true;
    } else if (!haveB && (readsDims(o, {2, 1}) || readsDims(o, {1, 2}))) {
      p.rhs = unsigned(o.operand);
      p.transposeB = readsDims(o, {1, 2});
      haveB = true;
    } else {
      return std::nullopt;
    }
  }
  return p;
}

std::optional<std::pair<int64_t, int64_t>> rowSpaceOf(const Op &op) {
  if (op.numOperands() == 0 || op.numResults() != 1)
    return std::nullopt;
  const TensorType &in = op.operand(0)->type();
  // The row-wise kernel accumulates in float; integer rows (an i32 sum)
  // take the generic path.
  if (in.rank() != 2 || !isFloat(in.element()))
    return std::nullopt;
  int64_t rows = in.dim(0), cols = in.dim(1);
  llvm::ArrayRef<int64_t> result = op.result()->type().shape();
  if (!isShape(result, {rows, cols}) && !isShape(result, {rows}))
    return std::nullopt;
  std::optional<StructuredOp> s = describe(op);
  if (!s)
    return std::nullopt;
  bool reduces = false;
  for (const StructuredStage &st : s->stages) {
    bool full = isShape(st.domain, {rows, cols});
    bool rowReduction = full && st.parallel == 1;
    bool rowMap = full && st.parallel == 2;
    bool finish = isShape(st.domain, {rows}) && st.parallel == 1;
    if (!rowReduction && !((rowMap || finish) && st.combiner == Combiner::None))
      return std::nullopt;
    reduces |= rowReduction;
    for (const StageOperand &o : st.operands) {
      bool rowValue =
          full && isShape(o.view, {rows, cols}) && readsDims(o, {0, 1});
      bool perRow = isShape(o.view, {rows}) && readsDims(o, {0});
      if (!rowValue && !perRow)
        return std::nullopt;
    }
  }
  if (!reduces)
    return std::nullopt;
  return std::make_pair(rows, cols);
}

std::optional<std::pair<int64_t, int64_t>> rowExpansionOf(const Op &op) {
  if (op.numOperands() == 0 || op.numResults() != 1 ||
      op.result()->type().rank() != 2)
    return std::nullopt;
  std::optional<StructuredStage> st = singleStage(op);
  if (!st || st->combiner != Combiner::None || st->parallel != 2 ||
      llvm::ArrayRef<int64_t>(st->domain) != op.result()->type().shape())
    return std::nullopt;
  int64_t rows = st->domain[0], cols = st->domain[1];
  bool perRow = false;
  for (const StageOperand &o : st->operands) {
    if (o.operand == StageOperand::kNone)
      return std::nullopt;
    if (isShape(o.view, {rows}) && readsDims(o, {0}))
      perRow = true;
    else if (!readsBroadcast(o, 2))
      return std::nullopt;
  }
  if (!perRow)
    return std::nullopt;
  return std::make_pair(rows, cols);
}

bool isBatchReduction(const Op &op) {
  if (op.numOperands() != 1 || op.numResults() != 1)
    return false;
  const TensorType &in = op.operand(0)->type();
  llvm::ArrayRef<int64_t> result = op.result()->type().shape();
  if (in.rank() == 0 || in.rank() > 2 || result != in.shape().drop_front())
    return false;
  std::optional<StructuredOp> s = describe(op);
  if (!s || s->stages.empty())
    return false;
  // The reduction: the rows in the innermost loop, under the columns.
  const StructuredStage &sum = s->stages[0];
  bool rank2 = in.rank() == 2;
  if ((sum.combiner != Combiner::Sum && sum.combiner != Combiner::Max) ||
      sum.operands.size() != 1 || sum.operands[0].operand != 0 ||
      sum.parallel != result.size() || sum.domain.size() != in.rank() ||
      !(rank2 ? readsDims(sum.operands[0], {1, 0})
              : readsDims(sum.operands[0], {0})))
    return false;
  // Then at most an element-wise finish of each result element.
  for (const StructuredStage &st : llvm::drop_begin(s->stages)) {
    if (st.combiner != Combiner::None ||
        llvm::ArrayRef<int64_t>(st.domain) != result)
      return false;
    for (const StageOperand &o : st.operands)
      if (o.stage == StageOperand::kNone || !readsBroadcast(o, result.size()))
        return false;
  }
  return true;
}

} // namespace nnc
