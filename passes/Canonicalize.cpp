//===- Canonicalize.cpp - Folding constants and local identities ----------===//
//
// Repeats, until nothing changes: evaluate ops whose operands are all
// constants (through the op's reference semantics, rounded to its element
// type), apply each op's own fold rule (x * 1, x + 0, transpose of transpose,
// a transpose feeding matmul, ...), and erase what became dead.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/HostTensor.h"
#include "ir/StructureMatch.h"

#include <cmath>

namespace nnc {

namespace {

/// Constants larger than this stay unfolded unless every element is equal.
constexpr int64_t kMaxDenseConstant = 16;
/// Ops with results larger than this are not evaluated at compile time.
constexpr int64_t kMaxFoldedElements = 1 << 16;

HostTensor constantValue(const Op &constant) {
  HostTensor t(constant.result()->type());
  if (const Attribute *v = constant.attrs().get("value"))
    std::fill(t.data.begin(), t.data.end(), v->getFloat());
  else
    t.data = constant.attrs().get("values")->getFloatList();
  return t;
}

/// Evaluates `op` if all its operands are constants; returns the constant
/// that replaces its result, or null.
Value *foldConstants(Op &op, Builder &b) {
  const OpDef &def = op.def();
  if (!def.eval || def.hasSideEffects || op.is(OpKind::Constant) ||
      op.numResults() != 1 || op.numOperands() == 0)
    return nullptr;
  const TensorType &type = op.result()->type();
  if (type.numElements() > kMaxFoldedElements)
    return nullptr;
  std::vector<HostTensor> operands;
  for (Value *v : op.operands()) {
    Op *d = v->definingOp();
    if (!d || !d->is(OpKind::Constant))
      return nullptr;
    operands.push_back(constantValue(*d));
  }
  llvm::SmallVector<const HostTensor *, 3> ptrs;
  for (const HostTensor &t : operands)
    ptrs.push_back(&t);
  llvm::SmallVector<HostTensor, 1> results{HostTensor(type)};
  if (llvm::Error err = def.eval(op, ptrs, results)) {
    // Left for run time, which reports it with the data that caused it.
    llvm::consumeError(std::move(err));
    return nullptr;
  }
  HostTensor &r = results[0];
  r.roundToElementType();
  AttrDict attrs;
  if (!r.data.empty() && llvm::all_equal(r.data))
    attrs.set("value", r.data.front());
  else if (r.size() <= kMaxDenseConstant)
    attrs.set("values", r.data);
  else
    return nullptr;
  return b.createValue(OpKind::Constant, {}, std::move(attrs), {type});
}

/// Element-wise ops broadcast their operands themselves, so an operand need
/// not be broadcast beforehand: a `broadcast` op feeding one is bypassed, and
/// a splat constant shrinks to a scalar, whenever the other operands still
/// give the result its shape. Returns whether an operand was replaced.
bool dropRedundantBroadcasts(Op &op, Builder &b) {
  if (op.numOperands() < 2 || !isElementwise(op))
    return false;
  bool changed = false;
  for (unsigned i = 0; i < op.numOperands(); ++i) {
    Value *v = op.operand(i);
    Op *def = v->definingOp();
    auto splat = getSplatConstant(v);
    Value *input =
        def && def->is(OpKind::Broadcast) ? def->operand(0) : nullptr;
    if (!input && (!splat || v->type().isScalar()))
      continue;
    Shape shape(input ? input->type().shape() : llvm::ArrayRef<int64_t>());
    for (unsigned j = 0; j < op.numOperands(); ++j)
      if (j != i)
        shape = *broadcastShapes(shape, op.operand(j)->type().shape());
    if (llvm::ArrayRef<int64_t>(shape) != op.result()->type().shape())
      continue;
    op.setOperand(
        i, input ? input
                 : b.constant(*splat, TensorType(v->type().element(), {})));
    changed = true;
  }
  return changed;
}

/// A constant holds elements of its type: an f32 constant written as 0.1
/// holds 0.1f. Storing the rounded value lets equal constants compare equal
/// (for CSE) however they were computed.
bool roundConstantToItsType(Op &op) {
  if (!op.is(OpKind::Constant) ||
      op.result()->type().element() != ElementType::F32)
    return false;
  auto round = [](double d) { return double(float(d)); };
  if (const Attribute *v = op.attrs().get("value")) {
    double r = round(v->getFloat());
    if (r == v->getFloat() || std::isnan(r))
      return false;
    op.attrs().set("value", r);
    return true;
  }
  std::vector<double> values = op.attrs().get("values")->getFloatList();
  bool changed = false;
  for (double &d : values)
    if (round(d) != d && !std::isnan(d)) {
      d = round(d);
      changed = true;
    }
  if (changed)
    op.attrs().set("values", std::move(values));
  return changed;
}

class Canonicalize : public GraphPass {
public:
  llvm::StringRef name() const override { return "canonicalize"; }
  llvm::StringRef description() const override {
    return "fold constants and simplify local identities (x*1, x+0, "
           "transpose of transpose, ...)";
  }
  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    simplify(g);
    return llvm::success();
  }

private:
  void simplify(Graph &g) {
    Builder b(g);
    // Every rewrite removes an op or moves toward constants, so this
    // terminates; the bound guards against a rule that undoes another.
    for (unsigned iteration = 0; iteration < 32; ++iteration) {
      bool changed = false;
      std::vector<Op *> order;
      for (Op &op : g.ops())
        order.push_back(&op);
      for (Op *op : order) {
        if (Graph *body = op->body())
          simplify(*body);
        if (roundConstantToItsType(*op))
          changed = true;
        if (!op->hasUses())
          continue;
        b.setInsertionPoint(op);
        b.setLoc(op->loc());
        if (dropRedundantBroadcasts(*op, b)) {
          ++numSimplified;
          changed = true;
        }
        if (Value *c = foldConstants(*op, b)) {
          op->result()->replaceAllUsesWith(c);
          ++numConstantFolded;
          changed = true;
        } else if (op->def().fold) {
          if (Value *v = op->def().fold(*op, b)) {
            assert(v->type() == op->result()->type() &&
                   "fold changed the type");
            op->result()->replaceAllUsesWith(v);
            ++numSimplified;
            changed = true;
          }
        }
      }
      numErased += eraseDeadOps(g);
      if (!changed)
        break;
    }
  }

  Statistic numConstantFolded{this, "constants-folded",
                              "ops evaluated at compile time"};
  Statistic numSimplified{this, "ops-simplified",
                          "ops replaced by a simpler equivalent"};
  Statistic numErased{this, "ops-erased", "dead ops erased"};
};
} // namespace

std::unique_ptr<Pass> createCanonicalizePass() {
  return std::make_unique<Canonicalize>();
}

} // namespace nnc
