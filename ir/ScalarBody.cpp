//===- ScalarBody.cpp - Scalar bodies and their reference semantics -------===//
#include "ir/ScalarBody.h"

#include "ir/CounterRandom.h"

#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace nnc {

llvm::StringRef scalarOpName(ScalarOp op) {
  switch (op) {
#define NNC_SCALAR(Name, Spelling, Arity)                                      \
  case ScalarOp::Name:                                                         \
    return Spelling;
#include "ir/ScalarOps.def"
  case ScalarOp::Input:
    return "in";
  case ScalarOp::Index:
    return "index";
  case ScalarOp::Constant:
    return "const";
  case ScalarOp::Compare:
    return "cmp";
  case ScalarOp::Cast:
    return "cast";
  case ScalarOp::Uniform:
    return "uniform";
  }
  llvm_unreachable("unknown scalar op");
}

static const char *const kPredicateNames[] = {"eq", "ne", "lt",
                                              "le", "gt", "ge"};

llvm::StringRef predicateName(Predicate p) {
  return kPredicateNames[unsigned(p)];
}

std::optional<Predicate> parsePredicate(llvm::StringRef name) {
  for (unsigned i = 0; i < 6; ++i)
    if (name == kPredicateNames[i])
      return Predicate(i);
  return std::nullopt;
}

unsigned ScalarBody::add(ScalarNode n) {
  for (unsigned a : n.args)
    assert(a < nodeList.size() && "a scalar node's operand comes first");
  nodeList.push_back(std::move(n));
  return unsigned(nodeList.size()) - 1;
}

unsigned ScalarBody::input(unsigned operand, ElementType type) {
  return add({ScalarOp::Input, type, {}, operand});
}

unsigned ScalarBody::index(unsigned dimension) {
  return add({ScalarOp::Index, ElementType::I32, {}, dimension});
}

unsigned ScalarBody::constant(double value, ElementType type) {
  ScalarNode n{ScalarOp::Constant, type, {}};
  n.value = value;
  return add(n);
}

unsigned ScalarBody::apply(ScalarOp op, llvm::ArrayRef<unsigned> args) {
  // Select takes its type from its branches, every other primitive from its
  // first operand.
  ElementType type = nodeList[args[op == ScalarOp::Select ? 1 : 0]].type;
  return add({op, type, llvm::SmallVector<unsigned, 3>(args)});
}

unsigned ScalarBody::compare(Predicate p, unsigned a, unsigned b) {
  ScalarNode n{ScalarOp::Compare, ElementType::I1, {a, b}};
  n.predicate = p;
  return add(n);
}

unsigned ScalarBody::cast(unsigned a, ElementType to) {
  return add({ScalarOp::Cast, to, {a}});
}

unsigned ScalarBody::uniform(int64_t seed, unsigned step, unsigned index) {
  return add({ScalarOp::Uniform, ElementType::F32, {step, index}, seed});
}

/// Float-to-integer conversion saturates at the target's range and sends NaN
/// to 0, like LLVM's fptosi.sat, so that it is defined for every input.
static double saturate(double x, ElementType to) {
  if (std::isnan(x))
    return 0;
  double lo = 0, hi = 0;
  switch (to) {
  case ElementType::I32:
    lo = -2147483648.0, hi = 2147483647.0;
    break;
  case ElementType::U8:
    lo = 0, hi = 255;
    break;
  default:
    return x;
  }
  return std::clamp(std::trunc(x), lo, hi);
}

static double castValue(double x, ElementType from, ElementType to) {
  if (to == ElementType::I1)
    return x != 0;
  if (isFloat(from) && !isFloat(to))
    return saturate(x, to);
  if (to == ElementType::U8) // integer narrowing wraps, as in LLVM
    return double(uint8_t(int64_t(x)));
  return x;
}

double evaluateScalar(const ScalarNode &n, llvm::ArrayRef<double> a,
                      ElementType from) {
  switch (n.op) {
  case ScalarOp::Neg:
    return -a[0];
  case ScalarOp::Abs:
    return std::abs(a[0]);
  case ScalarOp::Exp:
    return std::exp(a[0]);
  case ScalarOp::Expm1:
    return std::expm1(a[0]);
  case ScalarOp::Log:
    return std::log(a[0]);
  case ScalarOp::Sqrt:
    return std::sqrt(a[0]);
  case ScalarOp::Rsqrt:
    return 1.0 / std::sqrt(a[0]);
  case ScalarOp::Relu: // NaN is not > 0: relu(NaN) = 0
    return a[0] > 0 ? a[0] : 0.0;
  case ScalarOp::Sigmoid:
    return 1.0 / (1.0 + std::exp(-a[0]));
  case ScalarOp::Tanh:
    return std::tanh(a[0]);
  case ScalarOp::Add:
    return a[0] + a[1];
  case ScalarOp::Sub:
    return a[0] - a[1];
  case ScalarOp::Mul:
    return a[0] * a[1];
  case ScalarOp::Div: // integers divide toward zero, as sdiv does
    return isFloat(n.type) ? a[0] / a[1] : std::trunc(a[0] / a[1]);
  case ScalarOp::Max: // ties and NaN in b pick a
    return a[0] >= a[1] ? a[0] : a[1];
  case ScalarOp::Min:
    return a[0] <= a[1] ? a[0] : a[1];
  case ScalarOp::Pow:
    return std::pow(a[0], a[1]);
  case ScalarOp::Select:
    return a[0] != 0 ? a[1] : a[2];
  case ScalarOp::Compare:
    switch (n.predicate) {
    case Predicate::EQ:
      return a[0] == a[1];
    case Predicate::NE:
      return a[0] != a[1];
    case Predicate::LT:
      return a[0] < a[1];
    case Predicate::LE:
      return a[0] <= a[1];
    case Predicate::GT:
      return a[0] > a[1];
    case Predicate::GE:
      return a[0] >= a[1];
    }
    break;
  case ScalarOp::Cast:
    return castValue(a[0], from, n.type);
  case ScalarOp::Constant:
    return n.value;
  case ScalarOp::Uniform:
    return counter_random::uniform(counter_random::key(n.slot, int64_t(a[0])),
                                   uint64_t(int64_t(a[1])));
  case ScalarOp::Input:
  case ScalarOp::Index:
    break;
  }
  llvm_unreachable("leaf nodes are evaluated by ScalarBody::evaluate");
}

double ScalarBody::evaluate(llvm::ArrayRef<double> inputs,
                            llvm::ArrayRef<int64_t> indices) const {
  llvm::SmallVector<double, 16> values(nodeList.size());
  for (unsigned i = 0; i < nodeList.size(); ++i) {
    const ScalarNode &n = nodeList[i];
    if (n.op == ScalarOp::Input) {
      values[i] = inputs[n.slot];
      continue;
    }
    if (n.op == ScalarOp::Index) {
      values[i] = double(indices[n.slot]);
      continue;
    }
    llvm::SmallVector<double, 3> args;
    for (unsigned a : n.args)
      args.push_back(values[a]);
    ElementType from = n.args.empty() ? n.type : nodeList[n.args[0]].type;
    values[i] = evaluateScalar(n, args, from);
  }
  return values.back();
}

std::string ScalarBody::str() const {
  std::vector<std::string> text(nodeList.size());
  for (unsigned i = 0; i < nodeList.size(); ++i) {
    const ScalarNode &n = nodeList[i];
    std::string s;
    switch (n.op) {
    case ScalarOp::Input:
      s = "in" + std::to_string(n.slot);
      break;
    case ScalarOp::Index:
      s = "i" + std::to_string(n.slot);
      break;
    case ScalarOp::Constant: {
      char buf[32];
      snprintf(buf, sizeof buf, "%g", n.value);
      s = buf;
      break;
    }
    default: {
      s = scalarOpName(n.op).str();
      if (n.op == ScalarOp::Compare)
        s += "." + predicateName(n.predicate).str();
      if (n.op == ScalarOp::Cast)
        s += "." + elementTypeName(n.type).str();
      s += "(";
      for (unsigned k = 0; k < n.args.size(); ++k)
        s += (k ? ", " : "") + text[n.args[k]];
      s += ")";
    }
    }
    text[i] = std::move(s);
  }
  return text.empty() ? "" : text.back();
}

} // namespace nnc
