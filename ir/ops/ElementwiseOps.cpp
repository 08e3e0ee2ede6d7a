//===- ElementwiseOps.cpp - Unary, binary and ternary element-wise ops ----===//
//
// Operands broadcast NumPy-style: shapes align from the right and a dimension
// of 1 stretches. A gradient flowing into a broadcast operand is summed back
// over the stretched axes (GradContext::unbroadcast).
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

#include <cmath>

namespace nnc {
using namespace ops;

//===----------------------------------------------------------------------===//
// Type rules
//===----------------------------------------------------------------------===//

static llvm::Expected<ResultTypes> inferUnaryFloat(const OpSignature &sig) {
  if (llvm::Error err = requireFloat(sig.operands[0], "the operand"))
    return err;
  return result(sig.operands[0]);
}

static llvm::Expected<ResultTypes> inferUnaryNumeric(const OpSignature &sig) {
  ElementType e = sig.operands[0].element();
  if (e == ElementType::I1 || e == ElementType::U8)
    return opError("needs a signed numeric operand, got " +
                   sig.operands[0].str());
  return result(sig.operands[0]);
}

/// The broadcast shape of all operands, or an error naming every shape.
static llvm::Expected<Shape> broadcastAll(llvm::ArrayRef<TensorType> types) {
  Shape shape(types[0].shape());
  for (size_t i = 1; i < types.size(); ++i) {
    auto joined = broadcastShapes(shape, types[i].shape());
    if (!joined) {
      std::string all;
      for (const TensorType &t : types)
        all += (all.empty() ? "" : " and ") + t.str();
      return opError("cannot broadcast " + all +
                     ": dimensions must be equal or 1 when aligned from the "
                     "right");
    }
    shape = *joined;
  }
  return shape;
}

static llvm::Expected<ResultTypes> inferBinary(const OpSignature &sig) {
  const TensorType &a = sig.operands[0], &b = sig.operands[1];
  if (a.element() != b.element())
    return opError("operand element types differ: " + a.str() + " and " +
                   b.str());
  if (a.element() == ElementType::I1 || a.element() == ElementType::U8)
    return opError("needs numeric operands, got " + a.str());
  auto shape = broadcastAll(sig.operands);
  if (!shape)
    return shape.takeError();
  return result(TensorType(a.element(), *shape));
}

static llvm::Expected<ResultTypes> inferBinaryFloat(const OpSignature &sig) {
  if (llvm::Error err = requireFloat(sig.operands[0], "the operands"))
    return err;
  return inferBinary(sig);
}

static llvm::Expected<ResultTypes> inferCompare(const OpSignature &sig) {
  llvm::StringRef pred = sig.attrs.getString("predicate");
  if (!parsePredicate(pred))
    return opError("unknown predicate \"" + pred +
                   "\" (expected eq, ne, lt, le, gt or ge)");
  const TensorType &a = sig.operands[0], &b = sig.operands[1];
  if (a.element() != b.element())
    return opError("operand element types differ: " + a.str() + " and " +
                   b.str());
  auto shape = broadcastAll(sig.operands);
  if (!shape)
    return shape.takeError();
  return result(TensorType(ElementType::I1, *shape));
}

static llvm::Expected<ResultTypes> inferSelect(const OpSignature &sig) {
  if (sig.operands[0].element() != ElementType::I1)
    return opError("condition must be i1, got " + sig.operands[0].str());
  if (sig.operands[1].element() != sig.operands[2].element())
    return opError("the two branches differ in element type: " +
                   sig.operands[1].str() + " and " + sig.operands[2].str());
  auto shape = broadcastAll(sig.operands);
  if (!shape)
    return shape.takeError();
  return result(TensorType(sig.operands[1].element(), *shape));
}

static llvm::Expected<ResultTypes> inferCast(const OpSignature &sig) {
  const TensorType &in = sig.operands[0], &out = sig.declared[0];
  if (in.shape() != out.shape())
    return opError("cannot change the shape: " + in.str() + " to " + out.str() +
                   " (use reshape)");
  return result(out);
}

//===----------------------------------------------------------------------===//
// Structure: one stage over the result's shape, operands broadcast into it,
// the op's primitive as the body. It is also the reference semantics.
//===----------------------------------------------------------------------===//

static ScalarOp primitiveOf(OpKind kind) {
  switch (kind) {
#define NNC_SCALAR(Name, Spelling, Arity)                                      \
  case OpKind::Name:                                                           \
    return ScalarOp::Name;
#include "ir/ScalarOps.def"
  default:
    break;
  }
  llvm_unreachable("an element-wise op without a primitive");
}

static std::optional<StructuredOp> describeElementwise(const Op &op) {
  ScalarBody body;
  llvm::SmallVector<unsigned, 3> in;
  for (unsigned i = 0; i < op.numOperands(); ++i)
    in.push_back(body.input(i, op.operand(i)->type().element()));
  if (op.is(OpKind::Compare))
    body.compare(*parsePredicate(op.attrs().getString("predicate")), in[0],
                 in[1]);
  else if (op.is(OpKind::Cast))
    body.cast(in[0], op.result()->type().element());
  else
    body.apply(primitiveOf(op.kind()), in);
  StructuredOp s;
  s.stages.push_back(structured::elementwise(op, std::move(body)));
  return s;
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

static Value *zerosLike(Builder &b, Value *v) {
  return b.constant(0.0, TensorType(v->type().element(), {}));
}

static void gradNeg(GradContext &c) { c.setGrad(0, c.b.neg(c.resultGrad())); }
static void gradAbs(GradContext &c) {
  Value *g = c.resultGrad(), *x = c.operand(0);
  Value *negative = c.b.compare("lt", x, zerosLike(c.b, x));
  c.setGrad(0, c.b.select(negative, c.b.neg(g), g));
}
static void gradExp(GradContext &c) {
  c.setGrad(0, c.b.mul(c.resultGrad(), c.result()));
}
static void gradExpm1(GradContext &c) {
  // d (e^x - 1) = e^x = expm1(x) + 1
  c.setGrad(0, c.b.mul(c.resultGrad(), c.b.add(c.result(), c.b.scalar(1.0))));
}
static void gradLog(GradContext &c) {
  c.setGrad(0, c.b.div(c.resultGrad(), c.operand(0)));
}
static void gradSqrt(GradContext &c) {
  // d sqrt(x) = 1 / (2 sqrt(x))
  Value *twice = c.b.mul(c.result(), c.b.scalar(2.0));
  c.setGrad(0, c.b.div(c.resultGrad(), twice));
}
static void gradRsqrt(GradContext &c) {
  // d x^-1/2 = -x^-3/2 / 2 = -y^3 / 2
  Value *y = c.result();
  Value *y3 = c.b.mul(c.b.mul(y, y), y);
  c.setGrad(0, c.b.mul(c.resultGrad(), c.b.mul(y3, c.b.scalar(-0.5))));
}
static void gradRelu(GradContext &c) {
  // The result is positive exactly where the input is.
  Value *y = c.result();
  Value *active = c.b.compare("gt", y, zerosLike(c.b, y));
  c.setGrad(0, c.b.select(active, c.resultGrad(), zerosLike(c.b, y)));
}
static void gradSigmoid(GradContext &c) {
  Value *y = c.result();
  Value *dy = c.b.mul(y, c.b.sub(c.b.scalar(1.0), y));
  c.setGrad(0, c.b.mul(c.resultGrad(), dy));
}
static void gradTanh(GradContext &c) {
  Value *y = c.result();
  Value *dy = c.b.sub(c.b.scalar(1.0), c.b.mul(y, y));
  c.setGrad(0, c.b.mul(c.resultGrad(), dy));
}

static void gradAdd(GradContext &c) {
  for (unsigned i : {0u, 1u})
    if (c.needsGrad(i))
      c.setGrad(i, c.unbroadcast(c.resultGrad(), i));
}
static void gradSub(GradContext &c) {
  if (c.needsGrad(0))
    c.setGrad(0, c.unbroadcast(c.resultGrad(), 0));
  if (c.needsGrad(1))
    c.setGrad(1, c.unbroadcast(c.b.neg(c.resultGrad()), 1));
}
static void gradMul(GradContext &c) {
  if (c.needsGrad(0))
    c.setGrad(0, c.unbroadcast(c.b.mul(c.resultGrad(), c.operand(1)), 0));
  if (c.needsGrad(1))
    c.setGrad(1, c.unbroadcast(c.b.mul(c.resultGrad(), c.operand(0)), 1));
}
static void gradDiv(GradContext &c) {
  Value *g = c.resultGrad(), *bv = c.operand(1);
  if (c.needsGrad(0))
    c.setGrad(0, c.unbroadcast(c.b.div(g, bv), 0));
  if (c.needsGrad(1)) // d(a/b)/db = -(a/b)/b
    c.setGrad(1,
              c.unbroadcast(c.b.neg(c.b.div(c.b.mul(g, c.result()), bv)), 1));
}
/// max and min send the gradient to the operand that won; ties go to the
/// first operand.
static void gradMinMax(GradContext &c, llvm::StringRef firstWins) {
  Value *g = c.resultGrad();
  Value *first = c.b.compare(firstWins, c.operand(0), c.operand(1));
  Value *zero = zerosLike(c.b, g);
  if (c.needsGrad(0))
    c.setGrad(0, c.unbroadcast(c.b.select(first, g, zero), 0));
  if (c.needsGrad(1))
    c.setGrad(1, c.unbroadcast(c.b.select(first, zero, g), 1));
}
static void gradPow(GradContext &c) {
  Value *g = c.resultGrad(), *a = c.operand(0), *e = c.operand(1);
  if (c.needsGrad(0)) { // e * a^(e-1)
    Value *em1 = c.b.sub(e, c.b.scalar(1.0, e->type().element()));
    c.setGrad(0, c.unbroadcast(c.b.mul(g, c.b.mul(e, c.b.pow(a, em1))), 0));
  }
  if (c.needsGrad(1)) // a^e * log(a)
    c.setGrad(1, c.unbroadcast(c.b.mul(g, c.b.mul(c.result(), c.b.log(a))), 1));
}
static void gradSelect(GradContext &c) {
  Value *g = c.resultGrad(), *cond = c.operand(0);
  Value *zero = zerosLike(c.b, g);
  if (c.needsGrad(1))
    c.setGrad(1, c.unbroadcast(c.b.select(cond, g, zero), 1));
  if (c.needsGrad(2))
    c.setGrad(2, c.unbroadcast(c.b.select(cond, zero, g), 2));
}
static void gradCast(GradContext &c) {
  // Only float-to-float casts carry a gradient; autodiff never asks for one
  // through an integer result.
  c.setGrad(0, c.b.cast(c.resultGrad(), c.operand(0)->type().element()));
}

//===----------------------------------------------------------------------===//
// Simplifications
//===----------------------------------------------------------------------===//

/// `x op c` (or `c op x` for `side` 0) is x when c is the identity; if c
/// broadcasts x to a larger shape, it is that broadcast of x.
static Value *foldIdentity(Op &op, Builder &b, unsigned side, double identity) {
  Value *x = op.operand(1 - side);
  auto c = getSplatConstant(op.operand(side));
  if (!c || *c != identity)
    return nullptr;
  const TensorType &type = op.result()->type();
  if (x->type() == type)
    return x;
  return b.broadcast(x, type.shape());
}

static Value *foldAdd(Op &op, Builder &b) {
  if (Value *v = foldIdentity(op, b, 1, 0.0))
    return v;
  return foldIdentity(op, b, 0, 0.0);
}
static Value *foldSub(Op &op, Builder &b) {
  if (Value *v = foldIdentity(op, b, 1, 0.0))
    return v;
  // 0 - x is -x.
  auto c = getSplatConstant(op.operand(0));
  if (c && *c == 0.0 && op.operand(1)->type() == op.result()->type())
    return b.neg(op.operand(1));
  return nullptr;
}
static Value *foldMul(Op &op, Builder &b) {
  if (Value *v = foldIdentity(op, b, 1, 1.0))
    return v;
  if (Value *v = foldIdentity(op, b, 0, 1.0))
    return v;
  // x * -1 is -x.
  for (unsigned i : {0u, 1u}) {
    Value *x = op.operand(1 - i);
    auto c = getSplatConstant(op.operand(i));
    if (c && *c == -1.0 && x->type() == op.result()->type())
      return b.neg(x);
  }
  return nullptr;
}
static Value *foldDiv(Op &op, Builder &b) {
  return foldIdentity(op, b, 1, 1.0);
}
static Value *foldNeg(Op &op, Builder &) {
  Op *inner = op.operand(0)->definingOp();
  if (inner && inner->is(OpKind::Neg))
    return inner->operand(0);
  return nullptr;
}
static Value *foldCast(Op &op, Builder &) {
  if (op.operand(0)->type() == op.result()->type())
    return op.operand(0);
  return nullptr;
}
static Value *foldSelect(Op &op, Builder &b) {
  // select(c, x, x) is x.
  if (op.operand(1) == op.operand(2) &&
      op.operand(1)->type() == op.result()->type())
    return op.operand(1);
  return foldMaskOfMaxPoolGrad(op, b);
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

namespace {
struct Elementwise {
  OpKind kind;
  const char *name;
  const char *summary;
  InferFn infer;
  GradFn grad;
  FoldFn fold;
};
} // namespace

void registerElementwiseOps(const OpRegistry &add) {
  const Elementwise unary[] = {
      {OpKind::Neg, "neg", "-x", inferUnaryNumeric, gradNeg, foldNeg},
      {OpKind::Abs, "abs", "|x|", inferUnaryNumeric, gradAbs, nullptr},
      {OpKind::Exp, "exp", "e^x", inferUnaryFloat, gradExp, nullptr},
      {OpKind::Expm1, "expm1", "e^x - 1, accurate near x = 0", inferUnaryFloat,
       gradExpm1, nullptr},
      {OpKind::Log, "log", "natural logarithm", inferUnaryFloat, gradLog,
       nullptr},
      {OpKind::Sqrt, "sqrt", "square root", inferUnaryFloat, gradSqrt, nullptr},
      {OpKind::Rsqrt, "rsqrt", "1 / sqrt(x)", inferUnaryFloat, gradRsqrt,
       nullptr},
      {OpKind::Relu, "relu", "max(x, 0)", inferUnaryFloat, gradRelu, nullptr},
      {OpKind::Sigmoid, "sigmoid", "1 / (1 + e^-x)", inferUnaryFloat,
       gradSigmoid, nullptr},
      {OpKind::Tanh, "tanh", "hyperbolic tangent", inferUnaryFloat, gradTanh,
       nullptr},
  };
  for (const Elementwise &e : unary)
    add(OpDef{.kind = e.kind,
              .name = e.name,
              .summary = e.summary,
              .minOperands = 1,
              .maxOperands = 1,
              .infer = e.infer,
              .eval = evaluateDescribed,
              .grad = e.grad,
              .fold = e.fold,
              .structure = describeElementwise});

  const Elementwise binary[] = {
      {OpKind::Add, "add", "a + b", inferBinary, gradAdd, foldAdd},
      {OpKind::Sub, "sub", "a - b", inferBinary, gradSub, foldSub},
      {OpKind::Mul, "mul", "a * b", inferBinary, gradMul, foldMul},
      {OpKind::Div, "div", "a / b", inferBinaryFloat, gradDiv, foldDiv},
      {OpKind::Max, "max", "the larger of a and b", inferBinary,
       +[](GradContext &c) { gradMinMax(c, "ge"); }, nullptr},
      {OpKind::Min, "min", "the smaller of a and b", inferBinary,
       +[](GradContext &c) { gradMinMax(c, "le"); }, nullptr},
      {OpKind::Pow, "pow", "a raised to b", inferBinaryFloat, gradPow, nullptr},
  };
  for (const Elementwise &e : binary)
    add(OpDef{.kind = e.kind,
              .name = e.name,
              .summary = e.summary,
              .minOperands = 2,
              .maxOperands = 2,
              .commutative = e.kind == OpKind::Add || e.kind == OpKind::Mul ||
                             e.kind == OpKind::Max || e.kind == OpKind::Min,
              .infer = e.infer,
              .eval = evaluateDescribed,
              .grad = e.grad,
              .fold = e.fold,
              .structure = describeElementwise});

  add(OpDef{.kind = OpKind::Compare,
            .name = "compare",
            .summary = "a <predicate> b as i1",
            .minOperands = 2,
            .maxOperands = 2,
            .attrs = {AttrSpec::required("predicate", AttrKind::String)},
            .infer = inferCompare,
            .eval = evaluateDescribed,
            .structure = describeElementwise});
  add(OpDef{.kind = OpKind::Select,
            .name = "select",
            .summary = "c ? a : b",
            .minOperands = 3,
            .maxOperands = 3,
            .infer = inferSelect,
            .eval = evaluateDescribed,
            .grad = gradSelect,
            .fold = foldSelect,
            .structure = describeElementwise});
  add(OpDef{.kind = OpKind::Cast,
            .name = "cast",
            .summary = "converts the element type",
            .minOperands = 1,
            .maxOperands = 1,
            .takesResultType = true,
            .infer = inferCast,
            .eval = evaluateDescribed,
            .grad = gradCast,
            .fold = foldCast,
            .structure = describeElementwise});
}

} // namespace nnc
