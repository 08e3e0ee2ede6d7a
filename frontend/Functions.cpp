//===- Functions.cpp - The primitive functions of the language ------------===//
#include "frontend/Functions.h"

#include "llvm/ADT/StringExtras.h"

#include <numeric>

namespace nnc::nn {

namespace {

template <OpKind Kind> std::optional<Operand> lowerUnary(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  return c.emit(Kind, {*x});
}

template <OpKind Kind> std::optional<Operand> lowerBinary(CallContext &c) {
  auto operands = c.lowering().lowerOperands(*c.arg("a"), *c.arg("b"));
  if (!operands)
    return std::nullopt;
  return c.emit(Kind, {operands->first, operands->second});
}

std::optional<Operand> lowerMatMul(CallContext &c) {
  auto a = c.tensor("a");
  if (!a)
    return std::nullopt;
  auto b = c.tensor("b");
  if (!b)
    return std::nullopt;
  return c.emit(OpKind::MatMul, {*a, *b});
}

std::optional<Operand> lowerTranspose(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  unsigned rank = x->value->type().rank();
  std::vector<int64_t> perm(rank);
  if (const ast::Expr *e = c.arg("perm")) {
    auto given = c.lowering().constants().integerList(*e, c.describeArg("perm"),
                                                      /*allowScalar=*/false);
    if (!given)
      return std::nullopt;
    perm = *given;
    if (perm.size() == rank)
      for (int64_t &p : perm) {
        auto axis = normalizeAxisAt(p, *x, *e, c.lowering().diag());
        if (!axis)
          return std::nullopt;
        p = *axis;
      }
  } else {
    // Like NumPy: without a permutation, reverse the axes.
    for (unsigned i = 0; i < rank; ++i)
      perm[i] = rank - 1 - i;
  }
  AttrDict attrs;
  attrs.set("perm", perm);
  return c.emit(OpKind::Transpose, {*x}, std::move(attrs));
}

/// An integer per axis of `x`: a list of its rank, or one integer for all.
std::optional<std::vector<int64_t>> perAxis(CallContext &c, const Operand &x,
                                            llvm::StringRef param) {
  const ast::Expr *e = c.arg(param);
  auto given = c.lowering().constants().integerList(*e, c.describeArg(param),
                                                    /*allowScalar=*/true);
  if (!given)
    return std::nullopt;
  unsigned rank = x.value->type().rank();
  if (given->size() == 1 && rank != 1)
    given->assign(rank, (*given)[0]);
  return given;
}

template <OpKind Kind> std::optional<Operand> lowerPadOrSlice(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  bool pad = Kind == OpKind::Pad;
  auto first = perAxis(c, *x, pad ? "low" : "start");
  auto second = perAxis(c, *x, pad ? "high" : "sizes");
  if (!first || !second)
    return std::nullopt;
  AttrDict attrs;
  attrs.set(pad ? "low" : "start", *first);
  attrs.set(pad ? "high" : "sizes", *second);
  if (pad)
    if (const ast::Expr *e = c.arg("value")) {
      auto v = c.lowering().constants().number(*e, c.describeArg("value"));
      if (!v)
        return std::nullopt;
      attrs.set("value", *v);
    }
  return c.emit(Kind, {*x}, std::move(attrs));
}

std::optional<Operand> lowerReshape(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  const ast::Expr &shapeExpr = *c.arg("shape");
  auto shape = c.lowering().constants().shape(shapeExpr, c.describeArg("shape"),
                                              /*inferOne=*/true);
  if (!shape)
    return std::nullopt;
  const TensorType &type = x->value->type();
  auto inferred = llvm::find(*shape, -1);
  if (inferred != shape->end()) {
    int64_t known = 1;
    for (int64_t d : *shape)
      if (d != -1)
        known *= d;
    if (type.numElements() % known != 0) {
      c.lowering().diag().error(
          shapeExpr.loc(),
          "cannot infer the -1 in " + shapeStr(*shape) + ": " + type.str() +
              " has " + llvm::Twine(type.numElements()) +
              " elements, which is not a multiple of " + llvm::Twine(known));
      return std::nullopt;
    }
    *inferred = type.numElements() / known;
  }
  return c.emit(OpKind::Reshape, {*x}, {}, {type.withShape(*shape)});
}

/// The axes of a reduction: all of them by default, negative ones counted
/// from the end.
std::optional<std::vector<int64_t>> reductionAxes(CallContext &c,
                                                  const Operand &x) {
  unsigned rank = x.value->type().rank();
  const ast::Expr *e = c.arg("axes");
  if (!e) {
    std::vector<int64_t> all(rank);
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  auto axes = c.lowering().constants().integerList(*e, c.describeArg("axes"),
                                                   /*allowScalar=*/true);
  if (!axes)
    return std::nullopt;
  for (int64_t &axis : *axes) {
    auto a = normalizeAxisAt(axis, x, *e, c.lowering().diag());
    if (!a)
      return std::nullopt;
    axis = *a;
  }
  return axes;
}

template <OpKind Kind> std::optional<Operand> lowerReduction(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  auto axes = reductionAxes(c, *x);
  if (!axes)
    return std::nullopt;
  auto keepdims = c.boolean("keepdims", false);
  if (!keepdims)
    return std::nullopt;
  AttrDict attrs;
  attrs.set("axes", *axes);
  attrs.set("keepdims", *keepdims);
  return c.emit(Kind, {*x}, std::move(attrs));
}

/// l1(x) = sum |x|, l2(x) = sum x^2 over every element: weight penalties,
/// as Keras's regularizers compute them (without their factor).
template <bool Squared> std::optional<Operand> lowerPenalty(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  if (!isFloat(x->value->type().element())) {
    c.errorAt("x", *x,
              "'" + c.callee() + "' takes f32 values, got " +
                  x->value->type().str());
    return std::nullopt;
  }
  auto magnitude =
      Squared ? c.emit(OpKind::Mul, {*x, *x}) : c.emit(OpKind::Abs, {*x});
  if (!magnitude)
    return std::nullopt;
  std::vector<int64_t> all(x->value->type().rank());
  std::iota(all.begin(), all.end(), 0);
  AttrDict attrs;
  attrs.set("axes", all);
  return c.emit(OpKind::ReduceSum, {*magnitude}, std::move(attrs));
}

std::optional<Operand> lowerArgMax(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  auto axis = c.integer("axis", -1);
  if (!axis)
    return std::nullopt;
  if (x->value->type().rank() > 0) {
    const ast::Expr *at = c.arg("axis") ? c.arg("axis") : &c.expr();
    auto a = normalizeAxisAt(*axis, *x, *at, c.lowering().diag());
    if (!a)
      return std::nullopt;
    axis = *a;
  }
  AttrDict attrs;
  attrs.set("axis", *axis);
  return c.emit(OpKind::ArgMax, {*x}, std::move(attrs));
}

std::optional<Operand> lowerOneHot(CallContext &c) {
  auto labels = c.tensor("labels");
  if (!labels)
    return std::nullopt;
  auto depth = c.integer("depth");
  if (!depth)
    return std::nullopt;
  if (*depth < 1 || *depth > INT32_MAX) {
    c.lowering().diag().error(c.arg("depth")->loc(),
                              "the depth of 'one_hot' must be between 1 and " +
                                  llvm::Twine(INT32_MAX) + ", got " +
                                  llvm::Twine(*depth));
    return std::nullopt;
  }
  AttrDict attrs;
  attrs.set("depth", *depth);
  return c.emit(OpKind::OneHot, {*labels}, std::move(attrs));
}

std::optional<Operand> lowerCast(CallContext &c) {
  auto x = c.tensor("x");
  if (!x)
    return std::nullopt;
  auto to = c.choice("dtype", {"f32", "i32"}, "");
  if (!to)
    return std::nullopt;
  ElementType elt = *parseElementType(*to);
  return c.emit(OpKind::Cast, {*x}, {}, {x->value->type().withElement(elt)});
}

std::optional<Operand> lowerParam(CallContext &c) {
  LoweringContext &lc = c.lowering();
  auto shape = lc.constants().shape(*c.arg("shape"), c.describeArg("shape"));
  if (!shape)
    return std::nullopt;
  Initializer init;
  init.kind = Initializer::Kind::GlorotUniform;
  if (const ast::Expr *e = c.arg("init")) {
    auto given = lc.constants().initializer(*e);
    if (!given)
      return std::nullopt;
    init = *given;
  }
  std::string name = lc.boundName().str();
  Location nameLoc = c.loc();
  if (const ast::Expr *e = c.arg("name")) {
    auto given = lc.constants().string(*e, c.describeArg("name"));
    if (!given)
      return std::nullopt;
    name = *given;
    nameLoc = e->loc();
  } else if (name.empty()) {
    c.error("this 'param' needs a name, as in param([10], name=\"bias\"): it "
            "is not bound to one");
    return std::nullopt;
  }
  if (!checkVariableName(name, nameLoc, lc.diag()))
    return std::nullopt;
  return lc.createParam(name, TensorType(ElementType::F32, *shape), init,
                        c.loc());
}

std::vector<FunctionDef> makeFunctions() {
  using P = ParamSpec;
  const P x{"x"}, a{"a"}, b{"b"};
  std::vector<FunctionDef> fns = {
      {{"relu", {x}}, lowerUnary<OpKind::Relu>, "max(x, 0)"},
      {{"sigmoid", {x}}, lowerUnary<OpKind::Sigmoid>, "1 / (1 + exp(-x))"},
      {{"tanh", {x}}, lowerUnary<OpKind::Tanh>, "hyperbolic tangent"},
      {{"exp", {x}}, lowerUnary<OpKind::Exp>, "e^x"},
      {{"expm1", {x}}, lowerUnary<OpKind::Expm1>, "exp(x) - 1, exact near 0"},
      {{"log", {x}}, lowerUnary<OpKind::Log>, "natural logarithm"},
      {{"sqrt", {x}}, lowerUnary<OpKind::Sqrt>, "square root"},
      {{"rsqrt", {x}}, lowerUnary<OpKind::Rsqrt>, "1 / sqrt(x)"},
      {{"abs", {x}}, lowerUnary<OpKind::Abs>, "|x|"},
      {{"neg", {x}}, lowerUnary<OpKind::Neg>, "-x"},
      {{"softmax", {x}},
       lowerUnary<OpKind::Softmax>,
       "exp(x) / sum(exp(x)) along the last axis"},
      {{"log_softmax", {x}},
       lowerUnary<OpKind::LogSoftmax>,
       "x - log(sum(exp(x))) along the last axis"},
      {{"max", {a, b}}, lowerBinary<OpKind::Max>, "element-wise maximum"},
      {{"min", {a, b}}, lowerBinary<OpKind::Min>, "element-wise minimum"},
      {{"pow", {a, b}}, lowerBinary<OpKind::Pow>, "a^b element-wise"},
      {{"matmul", {a, b}}, lowerMatMul, "matrix product, as a @ b"},
      {{"transpose", {x, {"perm", false}}},
       lowerTranspose,
       "permutes axes (reverses them without perm)"},
      {{"reshape", {x, {"shape"}}},
       lowerReshape,
       "same elements, new shape; one dimension may be -1"},
      {{"pad", {x, {"low"}, {"high"}, {"value", false}}},
       lowerPadOrSlice<OpKind::Pad>,
       "low[d] and high[d] elements of value (0) around each axis"},
      {{"slice", {x, {"start"}, {"sizes"}}},
       lowerPadOrSlice<OpKind::Slice>,
       "the block of sizes[d] elements from start[d]"},
      {{"reduce_sum", {x, {"axes", false}, {"keepdims", false}}},
       lowerReduction<OpKind::ReduceSum>,
       "sum over axes (all by default)"},
      {{"reduce_mean", {x, {"axes", false}, {"keepdims", false}}},
       lowerReduction<OpKind::ReduceMean>,
       "mean over axes (all by default)"},
      {{"reduce_max", {x, {"axes", false}, {"keepdims", false}}},
       lowerReduction<OpKind::ReduceMax>,
       "maximum over axes (all by default)"},
      {{"l1", {x}}, lowerPenalty<false>, "sum of |x| (a weight penalty)"},
      {{"l2", {x}}, lowerPenalty<true>, "sum of x^2 (a weight penalty)"},
      {{"argmax", {x, {"axis", false}}},
       lowerArgMax,
       "index of the maximum along an axis (the last by default)"},
      {{"one_hot", {{"labels"}, {"depth"}}},
       lowerOneHot,
       "i32 labels to f32 rows with a 1 at each label"},
      {{"cast", {x, {"dtype"}}}, lowerCast, "converts to f32 or i32"},
      {{"param", {{"shape"}, {"init", false}, {"name", false}}},
       lowerParam,
       "a trainable f32 parameter"},
  };
  return fns;
}

} // namespace

llvm::ArrayRef<FunctionDef> allFunctions() {
  static const std::vector<FunctionDef> functions = makeFunctions();
  return functions;
}

const FunctionDef *lookupFunction(llvm::StringRef name) {
  for (const FunctionDef &fn : allFunctions())
    if (fn.name() == name)
      return &fn;
  return nullptr;
}

bool checkVariableName(llvm::StringRef name, const Location &at,
                       DiagnosticEngine &diag) {
  if (name.empty()) {
    diag.error(at, "names of parameters and layers cannot be empty");
    return false;
  }
  for (char ch : name)
    if (!llvm::isAlnum(ch) && ch != '_' && ch != '.') {
      std::string shown;
      llvm::raw_string_ostream os(shown);
      os.write_escaped(name);
      diag.error(at, "name \"" + shown +
                         "\" may only contain ASCII letters, digits, '_' and "
                         "'.'");
      return false;
    }
  return true;
}

} // namespace nnc::nn
