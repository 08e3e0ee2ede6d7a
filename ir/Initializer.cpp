//===- Initializer.cpp - How parameters and state start out ---------------===//
#include "ir/Initializer.h"
#include "ir/Attributes.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <limits>

namespace nnc {

namespace {
struct NamedKind {
  const char *name;
  Initializer::Kind kind;
  unsigned minArgs, maxArgs;
};
const NamedKind kKinds[] = {
    {"zeros", Initializer::Kind::Zeros, 0, 0},
    {"ones", Initializer::Kind::Ones, 0, 0},
    {"constant", Initializer::Kind::Constant, 1, 1},
    {"uniform", Initializer::Kind::Uniform, 2, 2},
    {"normal", Initializer::Kind::Normal, 1, 2},
    {"glorot_uniform", Initializer::Kind::GlorotUniform, 0, 0},
    {"glorot_normal", Initializer::Kind::GlorotNormal, 0, 0},
    {"he_uniform", Initializer::Kind::HeUniform, 0, 0},
    {"he_normal", Initializer::Kind::HeNormal, 0, 0},
};
} // namespace

llvm::Expected<Initializer> parseInitializer(llvm::StringRef text) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "bad initializer '" + text + "': " + why);
  };
  llvm::StringRef name = text.take_until([](char c) { return c == '('; });
  llvm::StringRef rest = text.drop_front(name.size()).trim();
  name = name.trim();
  const NamedKind *found = nullptr;
  for (const NamedKind &k : kKinds)
    if (name == k.name)
      found = &k;
  if (!found) {
    std::string names;
    for (const NamedKind &k : kKinds)
      names += (names.empty() ? "" : ", ") + std::string(k.name);
    return fail("expected one of " + names);
  }
  llvm::SmallVector<double, 2> args;
  if (!rest.empty()) {
    if (!rest.consume_front("(") || !rest.consume_back(")"))
      return fail("arguments must be written as (a, b)");
    llvm::SmallVector<llvm::StringRef, 2> parts;
    rest.split(parts, ',');
    for (llvm::StringRef p : parts) {
      double d;
      if (p.trim().getAsDouble(d))
        return fail("'" + p.trim() + "' is not a number");
      // Every initializer's values are floats: an argument a float cannot
      // hold would make the weights infinite or NaN before the first step.
      if (!(std::abs(d) <= std::numeric_limits<float>::max()))
        return fail("'" + p.trim() + "' is out of the range of f32");
      args.push_back(d);
    }
  }
  if (args.size() < found->minArgs || args.size() > found->maxArgs)
    return fail(llvm::Twine(found->name) + " takes " +
                (found->minArgs == found->maxArgs
                     ? llvm::Twine(found->minArgs)
                     : llvm::Twine(found->minArgs) + " or " +
                           llvm::Twine(found->maxArgs)) +
                " argument(s)");
  Initializer init;
  init.kind = found->kind;
  if (init.kind == Initializer::Kind::Normal) {
    init.a = args.size() == 2 ? args[0] : 0.0;
    init.b = args.back();
    if (!(init.b >= 0))
      return fail("the standard deviation must be non-negative");
  } else {
    if (args.size() > 0)
      init.a = args[0];
    if (args.size() > 1)
      init.b = args[1];
    if (init.kind == Initializer::Kind::Uniform && !(init.a <= init.b))
      return fail("the lower bound exceeds the upper bound");
  }
  return init;
}

std::string Initializer::str() const {
  const char *name = "?";
  for (const NamedKind &k : kKinds)
    if (k.kind == kind)
      name = k.name;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << name;
  auto num = [&](double d) {
    if (std::abs(d) < 1e15 && d == std::trunc(d))
      os << int64_t(d);
    else
      printFloat(os, d);
  };
  switch (kind) {
  case Kind::Constant:
    os << '(';
    num(a);
    os << ')';
    break;
  case Kind::Uniform:
  case Kind::Normal:
    os << '(';
    if (kind == Kind::Uniform || a != 0) {
      num(a);
      os << ", ";
    }
    num(b);
    os << ')';
    break;
  default:
    break;
  }
  return s;
}

std::pair<double, double> computeFans(llvm::ArrayRef<int64_t> shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    receptive *= shape[i];
  return {receptive * shape[shape.size() - 2],
          receptive * shape[shape.size() - 1]};
}

} // namespace nnc
