//===- LowerExpressions.cpp - Expressions to ops, and their errors --------===//
//
// The second half of ModelLowering: an expression of the model language
// (a name, a call, an operator, a number) becomes ops of the graph, each
// built through its type rule; a rule that fails is reported in the
// user's words ("cannot multiply A by B") at the operator, with notes at
// where each operand came from. Statements and the graph around them are
// in Lowering.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/Functions.h"
#include "frontend/Lowering.h"
#include "frontend/Objectives.h"
#include "frontend/Suggestions.h"

#include "llvm/ADT/SmallSet.h"

#include <cfloat>

namespace nnc::nn {

using namespace ast;

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::optional<Operand> ModelLowering::lowerTensor(const Expr &e) {
  if (auto lit = asLiteral(e))
    return lowerLiteral(*lit, ElementType::F32);
  switch (e.kind()) {
  case Expr::Kind::Name:
    return lowerName(llvm::cast<NameExpr>(e));
  case Expr::Kind::Call:
    return lowerCall(llvm::cast<CallExpr>(e));
  case Expr::Kind::Binary:
    return lowerBinary(llvm::cast<BinaryExpr>(e));
  case Expr::Kind::Negate: {
    auto x = lowerTensor(llvm::cast<NegateExpr>(e).getOperand());
    if (!x)
      return std::nullopt;
    return emit(OpKind::Neg, {*x}, e.loc(), "'-'");
  }
  case Expr::Kind::List:
    diagnostics.error(e.loc(), "expected a tensor, got a list (lists give "
                               "shapes, axes and permutations)");
    return std::nullopt;
  default:
    diagnostics.error(e.loc(), "expected a tensor, got " + describeExpr(e));
    return std::nullopt;
  }
}

std::optional<Operand> ModelLowering::lowerName(const NameExpr &e) {
  const std::string &name = e.getName();
  auto it = scope.find(name);
  if (it != scope.end()) {
    if (!it->second.value)
      return std::nullopt; // its definition failed, and said so
    return Operand{it->second.value, it->second.origin};
  }
  if (auto param = paramValues.find(name); param != paramValues.end())
    return Operand{param->second, Origin{paramNames.lookup(name),
                                         "'" + name + "', created here"}};
  if (lookupFunction(name) || lookupLayer(name) || lookupObjective(name)) {
    diagnostics.error(e.loc(), "'" + name + "' is a function; call it, as in " +
                                   name + "(...)");
    return std::nullopt;
  }
  auto later = definitions.find(name);
  if (later != definitions.end()) {
    diagnostics.error(e.loc(), "'" + name + "' is used before it is defined");
    diagnostics.note(later->second, "'" + name + "' is defined here");
    return std::nullopt;
  }
  std::vector<std::string> known;
  for (const auto &entry : scope)
    known.push_back(entry.getKey().str());
  for (const auto &entry : paramNames)
    known.push_back(entry.getKey().str());
  llvm::sort(known);
  if (llvm::StringRef(name).contains('.')) {
    // Parameters are created as their layers are lowered: a loss names
    // dense_1.weight after the dense layer.
    diagnostics.error(
        e.loc(),
        "unknown parameter '" + name + "'" + didYouMean(name, known) +
            (paramNames.empty() ? std::string()
                                : " (parameters are known once the statement "
                                  "creating them is lowered)"));
    return std::nullopt;
  }
  diagnostics.error(e.loc(),
                    "unknown name '" + name + "'" + didYouMean(name, known));
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerCall(const CallExpr &e) {
  const std::string &callee = e.getCallee();
  if (const LayerDef *layer = lookupLayer(callee))
    return lowerLayerCall(*layer, e, *this, namer);
  if (const FunctionDef *fn = lookupFunction(callee)) {
    auto args = bindArguments(e, fn->signature, diagnostics);
    if (!args)
      return std::nullopt;
    CallContext context(*this, e, std::move(*args));
    return fn->lower(context);
  }
  if (const ObjectiveDef *objective = lookupObjective(callee)) {
    // Losses are functions; metrics are finished by the runtime over a
    // whole data set, so they exist only as `metric` statements.
    if (!objective->isLoss) {
      diagnostics.error(e.loc(), "'" + callee +
                                     "' can only be used in a 'metric' "
                                     "statement");
      return std::nullopt;
    }
    auto args = bindArguments(e, objective->signature, diagnostics);
    if (!args)
      return std::nullopt;
    CallContext context(*this, e, std::move(*args));
    return objective->lower(context);
  }
  if (scope.count(callee)) {
    diagnostics.error(e.loc(), "'" + callee + "' is a value, not a function");
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (const FunctionDef &fn : allFunctions())
    names.push_back(fn.name().str());
  for (const LayerDef &layer : allLayers())
    names.push_back(layer.kind.str());
  for (const ObjectiveDef &o : allObjectives())
    if (o.isLoss)
      names.push_back(o.name().str());
  diagnostics.error(e.loc(), "unknown function '" + callee + "'" +
                                 didYouMean(callee, names));
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerBinary(const BinaryExpr &e) {
  auto operands = lowerOperands(e.getLHS(), e.getRHS());
  if (!operands)
    return std::nullopt;
  OpKind kind = OpKind::MatMul;
  switch (e.getOp()) {
  case BinaryOp::Add:
    kind = OpKind::Add;
    break;
  case BinaryOp::Sub:
    kind = OpKind::Sub;
    break;
  case BinaryOp::Mul:
    kind = OpKind::Mul;
    break;
  case BinaryOp::Div:
    kind = OpKind::Div;
    break;
  case BinaryOp::MatMul:
    break;
  }
  return emit(kind, {operands->first, operands->second}, e.loc(),
              "'" + spelling(e.getOp()).str() + "'");
}

std::optional<std::pair<Operand, Operand>>
ModelLowering::lowerOperands(const Expr &a, const Expr &b) {
  auto litA = asLiteral(a), litB = asLiteral(b);
  if (litA && !litB) {
    auto rhs = lowerTensor(b);
    if (!rhs)
      return std::nullopt;
    auto lhs = lowerLiteral(*litA, rhs->value->type().element());
    if (!lhs)
      return std::nullopt;
    return std::make_pair(*lhs, *rhs);
  }
  auto lhs = lowerTensor(a);
  if (!lhs)
    return std::nullopt;
  auto rhs =
      litB ? lowerLiteral(*litB, lhs->value->type().element()) : lowerTensor(b);
  if (!rhs)
    return std::nullopt;
  return std::make_pair(*lhs, *rhs);
}

std::optional<ModelLowering::Literal>
ModelLowering::asLiteral(const Expr &e) const {
  if (auto *n = llvm::dyn_cast<NumberExpr>(&e))
    return Literal{n->getValue(), n->isInteger(), n->getSpelling(), e.loc()};
  if (llvm::isa<BatchExpr>(e))
    return Literal{double(batch), true, "batch", e.loc()};
  if (auto *neg = llvm::dyn_cast<NegateExpr>(&e))
    if (auto inner = asLiteral(neg->getOperand()))
      return Literal{-inner->value, inner->isInteger, "-" + inner->spelling,
                     e.loc()};
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerLiteral(const Literal &lit,
                                                   ElementType elt) {
  if (elt == ElementType::I32) {
    if (!lit.isInteger) {
      diagnostics.error(lit.loc, "the number " + lit.spelling +
                                     " is not an integer, but the other "
                                     "operand is i32");
      return std::nullopt;
    }
    if (lit.value < INT32_MIN || lit.value > INT32_MAX) {
      diagnostics.error(lit.loc,
                        "the number " + lit.spelling + " does not fit in i32");
      return std::nullopt;
    }
  } else if (std::abs(lit.value) > FLT_MAX) {
    diagnostics.error(lit.loc, "the number " + lit.spelling +
                                   " is too large for " + elementTypeName(elt));
    return std::nullopt;
  }
  AttrDict attrs;
  attrs.set("value", lit.value);
  auto value = emit(OpKind::Constant, {}, lit.loc, "", std::move(attrs),
                    {TensorType(elt, {})});
  if (value)
    value->origin.description = "the number " + lit.spelling + " here";
  return value;
}

//===----------------------------------------------------------------------===//
// Creating ops, and their errors
//===----------------------------------------------------------------------===//

std::optional<Operand>
ModelLowering::emit(OpKind kind, llvm::ArrayRef<Operand> operands,
                    const Location &loc, llvm::StringRef what, AttrDict attrs,
                    llvm::ArrayRef<TensorType> declared) {
  llvm::SmallVector<Value *, 3> values;
  for (const Operand &o : operands)
    values.push_back(o.value);
  builder.setLoc(loc);
  auto op = builder.tryCreate(kind, values, std::move(attrs), declared);
  if (!op) {
    reportOpError(kind, operands, declared, loc,
                  llvm::toString(op.takeError()));
    return std::nullopt;
  }
  Value *result = (*op)->result();
  if (!checkedNumElements(result->type().shape())) {
    diagnostics.error(loc, "the result of " + what + ", " +
                               result->type().str() + ", is too large " +
                               sizeLimits());
    for (const Operand &o : operands)
      noteOrigin(o);
    return std::nullopt;
  }
  return Operand{result, Origin{loc, "the result of " + what.str() + " here"}};
}

/// "cannot multiply A by B": the operation in the user's words.
static std::string describeOperation(OpKind kind,
                                     llvm::ArrayRef<TensorType> operands,
                                     llvm::ArrayRef<TensorType> declared) {
  auto op = [&](unsigned i) {
    return i < operands.size() ? operands[i].str() : std::string("?");
  };
  std::string target = declared.empty() ? "" : declared[0].str();
  switch (kind) {
  case OpKind::MatMul:
    return "cannot multiply " + op(0) + " by " + op(1);
  case OpKind::Add:
    return "cannot add " + op(0) + " and " + op(1);
  case OpKind::Sub:
    return "cannot subtract " + op(1) + " from " + op(0);
  case OpKind::Mul:
    return "cannot multiply " + op(0) + " and " + op(1) + " element-wise";
  case OpKind::Div:
    return "cannot divide " + op(0) + " by " + op(1);
  case OpKind::Pow:
    return "cannot raise " + op(0) + " to the power " + op(1);
  case OpKind::Compare:
    return "cannot compare " + op(0) + " and " + op(1);
  case OpKind::SoftmaxCrossEntropy:
    return "cannot compute the cross-entropy of logits " + op(0) +
           " and labels " + op(1);
  case OpKind::Reshape:
    return "cannot reshape " + op(0) + " to " + target;
  case OpKind::Cast:
    return "cannot cast " + op(0) + " to " + target;
  case OpKind::Transpose:
    return "cannot transpose " + op(0);
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
    return "cannot reduce " + op(0);
  default:
    break;
  }
  std::string s = "cannot apply '" + getOpDef(kind).name.str() + "' to ";
  for (size_t i = 0; i < operands.size(); ++i)
    s += (i ? " and " : "") + operands[i].str();
  return s;
}

void ModelLowering::reportOpError(OpKind kind, llvm::ArrayRef<Operand> operands,
                                  llvm::ArrayRef<TensorType> declared,
                                  const Location &loc,
                                  const std::string &ruleMessage) {
  llvm::SmallVector<TensorType, 3> types;
  for (const Operand &o : operands)
    types.push_back(o.value->type());
  // A type rule that already says what cannot be done ("cannot broadcast
  // f32[4] and f32[3]: ...") is clear on its own at the operator.
  std::string message =
      llvm::StringRef(ruleMessage).starts_with("cannot ")
          ? ruleMessage
          : describeOperation(kind, types, declared) + ": " + ruleMessage;
  diagnostics.error(loc, message);
  llvm::SmallSet<std::pair<Value *, std::string>, 4> noted;
  for (const Operand &o : operands)
    if (noted.insert({o.value, o.origin.loc.str()}).second)
      noteOrigin(o);
}

void ModelLowering::noteOrigin(const Operand &operand) {
  if (operand.origin.loc.isUnknown())
    return;
  diagnostics.note(operand.origin.loc, operand.value->type().str() + " is " +
                                           operand.origin.description);
}

} // namespace nnc::nn
