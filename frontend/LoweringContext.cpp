//===- LoweringContext.cpp - What functions and layers lower with ---------===//
#include "frontend/LoweringContext.h"

namespace nnc::nn {

std::optional<Operand> CallContext::tensor(llvm::StringRef param) {
  const ast::Expr *e = arg(param);
  assert(e && "tensor arguments are required parameters");
  return lc.lowerTensor(*e);
}

std::optional<int64_t> CallContext::integer(llvm::StringRef param,
                                            std::optional<int64_t> fallback) {
  const ast::Expr *e = arg(param);
  if (!e)
    return fallback;
  return lc.constants().integer(*e, describeArg(param));
}

std::optional<bool> CallContext::boolean(llvm::StringRef param, bool fallback) {
  const ast::Expr *e = arg(param);
  if (!e)
    return fallback;
  return lc.constants().boolean(*e, describeArg(param));
}

std::optional<double> CallContext::number(llvm::StringRef param,
                                          double fallback) {
  const ast::Expr *e = arg(param);
  if (!e)
    return fallback;
  return lc.constants().number(*e, describeArg(param));
}

std::optional<Operand> CallContext::constant(double value,
                                             const TensorType &type) {
  AttrDict attrs;
  attrs.set("value", value);
  return emit(OpKind::Constant, {}, std::move(attrs), {type});
}

std::optional<Operand> CallContext::constant(llvm::ArrayRef<double> values,
                                             const TensorType &type) {
  AttrDict attrs;
  attrs.set("values", std::vector<double>(values.begin(), values.end()));
  return emit(OpKind::Constant, {}, std::move(attrs), {type});
}

void CallContext::errorAt(llvm::StringRef param, const Operand &value,
                          const llvm::Twine &msg) {
  const ast::Expr *e = arg(param);
  lc.diag().error(e ? e->loc() : loc(), msg);
  if (!value.origin.loc.isUnknown())
    lc.diag().note(value.origin.loc, value.value->type().str() + " is " +
                                         value.origin.description);
}

std::optional<std::string>
CallContext::choice(llvm::StringRef param, llvm::ArrayRef<std::string> choices,
                    llvm::StringRef fallback) {
  const ast::Expr *e = arg(param);
  if (!e)
    return fallback.str();
  return lc.constants().choice(*e, choices, describeArg(param));
}

std::optional<int64_t> normalizeAxisAt(int64_t axis, const Operand &x,
                                       const ast::Expr &at,
                                       DiagnosticEngine &diag) {
  const TensorType &type = x.value->type();
  if (auto a = normalizeAxis(axis, type.rank()))
    return int64_t(*a);
  diag.error(at.loc(), "axis " + llvm::Twine(axis) + " is out of range for " +
                           type.str() + " (rank " + llvm::Twine(type.rank()) +
                           ")");
  if (!x.origin.loc.isUnknown())
    diag.note(x.origin.loc, type.str() + " is " + x.origin.description);
  return std::nullopt;
}

} // namespace nnc::nn
