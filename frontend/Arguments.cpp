//===- Arguments.cpp - Matching call arguments and reading constants ------===//
#include "frontend/Arguments.h"
#include "frontend/Suggestions.h"
#include "ir/Attributes.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

namespace nnc::nn {

using namespace ast;

std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t total = 1;
  for (int64_t d : shape) {
    if (d <= 0 || d > kMaxDimension || d > kMaxElements / total)
      return std::nullopt;
    total *= d;
  }
  return total;
}

std::string sizeLimits() {
  return "(at most " + std::to_string(kMaxDimension) + " per dimension and " +
         std::to_string(kMaxElements) + " elements)";
}

std::string Signature::str() const {
  std::string s = callee.str() + "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i)
      s += ", ";
    s += params[i].name.str();
    if (!params[i].required)
      s += "=";
  }
  return s + ")";
}

const Expr *BoundArgs::get(llvm::StringRef param) const {
  for (const auto &[name, expr] : args)
    if (name == param)
      return expr;
  return nullptr;
}

std::optional<BoundArgs> bindArguments(const Expr &callOrName,
                                       const Signature &sig,
                                       DiagnosticEngine &diag) {
  BoundArgs bound;
  bound.loc = callOrName.loc();
  auto *call = llvm::dyn_cast<CallExpr>(&callOrName);
  if (!call)
    return bound; // a bare name: a call without arguments
  bool ok = true;
  size_t numPositional = call->getArgs().size();
  if (numPositional > sig.params.size()) {
    size_t required = llvm::count_if(
        sig.params, [](const ParamSpec &p) { return p.required; });
    std::string count = required == sig.params.size()
                            ? std::to_string(required)
                            : "at most " + std::to_string(sig.params.size());
    diag.error(call->getArgs()[sig.params.size()]->loc(),
               "'" + sig.callee + "' takes " + count + " argument" +
                   (sig.params.size() == 1 ? "" : "s") + ", got " +
                   llvm::Twine(numPositional) + ": " + sig.str());
    return std::nullopt;
  }
  // Where each parameter was given, for "given twice".
  std::vector<Location> givenAt(sig.params.size());
  for (size_t i = 0; i < numPositional; ++i) {
    bound.args.push_back({sig.params[i].name, call->getArgs()[i].get()});
    givenAt[i] = call->getArgs()[i]->loc();
  }
  for (const KeywordArg &kw : call->getKeywordArgs()) {
    auto it = llvm::find_if(
        sig.params, [&](const ParamSpec &p) { return p.name == kw.name; });
    if (it == sig.params.end()) {
      std::vector<std::string> names;
      for (const ParamSpec &p : sig.params)
        names.push_back(p.name.str());
      diag.error(kw.loc, "'" + sig.callee + "' has no argument '" + kw.name +
                             "'" + didYouMean(kw.name, names) + " (it takes " +
                             sig.str() + ")");
      ok = false;
      continue;
    }
    size_t index = it - sig.params.begin();
    if (!givenAt[index].isUnknown()) {
      diag.error(kw.loc, "argument '" + kw.name + "' of '" + sig.callee +
                             "' is given twice");
      diag.note(givenAt[index], "first given here");
      ok = false;
      continue;
    }
    givenAt[index] = kw.loc;
    bound.args.push_back({it->name, kw.value.get()});
  }
  for (size_t i = 0; i < sig.params.size(); ++i)
    if (sig.params[i].required && givenAt[i].isUnknown()) {
      diag.error(call->loc(), "missing argument '" + sig.params[i].name +
                                  "' in the call to " + sig.str());
      ok = false;
    }
  if (!ok)
    return std::nullopt;
  return bound;
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

std::string describeExpr(const Expr &e) {
  switch (e.kind()) {
  case Expr::Kind::Number:
    return "the number " + llvm::cast<NumberExpr>(e).getSpelling();
  case Expr::Kind::String:
    return "a string";
  case Expr::Kind::Name:
    return "the name '" + llvm::cast<NameExpr>(e).getName() + "'";
  case Expr::Kind::Batch:
    return "'batch'";
  case Expr::Kind::Bool:
    return llvm::cast<BoolExpr>(e).getValue() ? "'true'" : "'false'";
  case Expr::Kind::Negate:
    return "a negation";
  case Expr::Kind::Binary:
    return "a '" + spelling(llvm::cast<BinaryExpr>(e).getOp()).str() +
           "' expression";
  case Expr::Kind::Call:
    return "a call to '" + llvm::cast<CallExpr>(e).getCallee() + "'";
  case Expr::Kind::List:
    return "a list";
  }
  return "an expression";
}

void ConstantReader::mismatch(const Expr &e, const llvm::Twine &expected,
                              const llvm::Twine &what) {
  diag.error(e.loc(), "expected " + expected + " for " + what + ", got " +
                          describeExpr(e));
}

std::optional<double>
ConstantReader::fold(const Expr &e, const llvm::Twine &what, bool wantInteger) {
  const char *expected = wantInteger ? "an integer" : "a number";
  switch (e.kind()) {
  case Expr::Kind::Number: {
    auto &n = llvm::cast<NumberExpr>(e);
    if (wantInteger && !n.isInteger()) {
      mismatch(e, expected, what);
      return std::nullopt;
    }
    return n.getValue();
  }
  case Expr::Kind::Batch:
    if (!batch) {
      diag.error(e.loc(), "'batch' has no value here (it is the batch size "
                          "of a model's inputs)");
      return std::nullopt;
    }
    return double(*batch);
  case Expr::Kind::Negate: {
    auto v = fold(llvm::cast<NegateExpr>(e).getOperand(), what, wantInteger);
    if (!v)
      return std::nullopt;
    return -*v;
  }
  case Expr::Kind::Binary: {
    auto &bin = llvm::cast<BinaryExpr>(e);
    if (bin.getOp() == BinaryOp::MatMul ||
        (wantInteger && bin.getOp() == BinaryOp::Div)) {
      mismatch(e, expected, what);
      return std::nullopt;
    }
    auto a = fold(bin.getLHS(), what, wantInteger);
    if (!a)
      return std::nullopt;
    auto b = fold(bin.getRHS(), what, wantInteger);
    if (!b)
      return std::nullopt;
    double r = 0;
    switch (bin.getOp()) {
    case BinaryOp::Add:
      r = *a + *b;
      break;
    case BinaryOp::Sub:
      r = *a - *b;
      break;
    case BinaryOp::Mul:
      r = *a * *b;
      break;
    default:
      r = *a / *b;
      break;
    }
    if (!std::isfinite(r) ||
        (wantInteger && std::abs(r) > 9007199254740992.0 /* 2^53 */)) {
      diag.error(e.loc(),
                 "constant expression for " + what + " is out of range");
      return std::nullopt;
    }
    return r;
  }
  default:
    mismatch(e, expected, what);
    return std::nullopt;
  }
}

std::optional<int64_t> ConstantReader::integer(const Expr &e,
                                               const llvm::Twine &what) {
  // A literal keeps its exact value even beyond 2^53.
  if (auto *n = llvm::dyn_cast<NumberExpr>(&e); n && n->isInteger())
    return n->getInteger();
  auto v = fold(e, what, /*wantInteger=*/true);
  if (!v)
    return std::nullopt;
  return int64_t(*v);
}

std::optional<double> ConstantReader::number(const Expr &e,
                                             const llvm::Twine &what) {
  return fold(e, what, /*wantInteger=*/false);
}

std::optional<bool> ConstantReader::boolean(const Expr &e,
                                            const llvm::Twine &what) {
  if (auto *b = llvm::dyn_cast<BoolExpr>(&e))
    return b->getValue();
  mismatch(e, "true or false", what);
  return std::nullopt;
}

std::optional<std::string> ConstantReader::string(const Expr &e,
                                                  const llvm::Twine &what) {
  if (auto *s = llvm::dyn_cast<StringExpr>(&e))
    return s->getValue();
  mismatch(e, "a string in double quotes", what);
  return std::nullopt;
}

std::optional<std::string>
ConstantReader::choice(const Expr &e, llvm::ArrayRef<std::string> choices,
                       const llvm::Twine &what) {
  std::string options = joinAlternatives(choices);
  auto *name = llvm::dyn_cast<NameExpr>(&e);
  if (!name) {
    mismatch(e, options, what);
    return std::nullopt;
  }
  if (llvm::is_contained(choices, name->getName()))
    return name->getName();
  diag.error(e.loc(), "'" + name->getName() + "' is not a valid " + what +
                          didYouMean(name->getName(), choices) + " (expected " +
                          options + ")");
  return std::nullopt;
}

std::optional<std::vector<int64_t>>
ConstantReader::integerList(const Expr &e, const llvm::Twine &what,
                            bool allowScalar) {
  auto *list = llvm::dyn_cast<ListExpr>(&e);
  if (!list) {
    if (!allowScalar) {
      mismatch(e, "a list such as [0, 1]", what);
      return std::nullopt;
    }
    auto v = integer(e, what);
    if (!v)
      return std::nullopt;
    return std::vector<int64_t>{*v};
  }
  std::vector<int64_t> values;
  for (const ExprPtr &element : list->getElements()) {
    auto v = integer(*element, what);
    if (!v)
      return std::nullopt;
    values.push_back(*v);
  }
  return values;
}

std::optional<Shape>
ConstantReader::shape(const Expr &e, const llvm::Twine &what, bool inferOne) {
  auto *list = llvm::dyn_cast<ListExpr>(&e);
  if (!list) {
    mismatch(e, "a shape such as [batch, 784]", what);
    return std::nullopt;
  }
  Shape dims;
  const Expr *inferred = nullptr;
  for (const ExprPtr &element : list->getElements()) {
    auto d = integer(*element, what);
    if (!d)
      return std::nullopt;
    if (*d == -1 && inferOne) {
      if (inferred) {
        diag.error(element->loc(),
                   "only one dimension of a shape can be -1 (inferred)");
        diag.note(inferred->loc(), "the first -1 is here");
        return std::nullopt;
      }
      inferred = element.get();
    } else if (*d <= 0) {
      diag.error(
          element->loc(),
          "dimensions must be positive, got " + llvm::Twine(*d) +
              (inferOne ? " (-1 asks for the dimension to be inferred)" : ""));
      return std::nullopt;
    } else if (*d > kMaxDimension) {
      diag.error(element->loc(), "dimension " + llvm::Twine(*d) +
                                     " is too large (at most " +
                                     llvm::Twine(kMaxDimension) + ")");
      return std::nullopt;
    }
    dims.push_back(*d);
  }
  Shape known;
  for (int64_t d : dims)
    if (d != -1)
      known.push_back(d);
  if (!checkedNumElements(known)) {
    diag.error(e.loc(),
               "shape " + shapeStr(dims) + " is too large " + sizeLimits());
    return std::nullopt;
  }
  return dims;
}

std::optional<Initializer> ConstantReader::initializer(const Expr &e) {
  // Spell the initializer the way the IR does, then let the IR check it.
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto *name = llvm::dyn_cast<NameExpr>(&e)) {
    os << name->getName();
  } else if (auto *call = llvm::dyn_cast<CallExpr>(&e)) {
    if (!call->getKeywordArgs().empty()) {
      diag.error(call->getKeywordArgs().front().loc,
                 "initializer arguments are positional, as in normal(0.05)");
      return std::nullopt;
    }
    os << call->getCallee() << "(";
    for (size_t i = 0; i < call->getArgs().size(); ++i) {
      auto v = number(*call->getArgs()[i],
                      "an argument of '" + call->getCallee() + "'");
      if (!v)
        return std::nullopt;
      if (i)
        os << ", ";
      printFloat(os, *v);
    }
    os << ")";
  } else {
    mismatch(e, "an initializer such as glorot_uniform or normal(0.05)",
             "'init'");
    return std::nullopt;
  }
  auto init = parseInitializer(text);
  if (!init) {
    diag.error(e.loc(), llvm::toString(init.takeError()));
    return std::nullopt;
  }
  return *init;
}

} // namespace nnc::nn
