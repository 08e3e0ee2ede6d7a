//===- ContractionOps.cpp - matmul ----------------------------------------===//
//
// matmul contracts the last axis of op(a) with the first axis of op(b), where
// op transposes when transpose_a / transpose_b is set. The flags let the three
// products of a dense layer (X W, dY W^T, X^T dY) be one op each, without a
// transposed copy in memory.
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

namespace nnc {
using namespace ops;

namespace {
/// The [rows, cols] of an operand as the product sees it.
struct MatrixView {
  int64_t rows, cols;
};
MatrixView view(const TensorType &t, bool transposed) {
  return transposed ? MatrixView{t.dim(1), t.dim(0)}
                    : MatrixView{t.dim(0), t.dim(1)};
}
} // namespace

static llvm::Expected<ResultTypes> inferMatMul(const OpSignature &sig) {
  const TensorType &a = sig.operands[0], &b = sig.operands[1];
  if (a.rank() != 2 || b.rank() != 2)
    return opError("needs two matrices, got " + a.str() + " and " + b.str());
  if (a.element() != b.element())
    return opError("operand element types differ: " + a.str() + " and " +
                   b.str());
  if (llvm::Error err = requireFloat(a, "the operands"))
    return err;
  bool ta = sig.attrs.getBool("transpose_a"),
       tb = sig.attrs.getBool("transpose_b");
  MatrixView va = view(a, ta), vb = view(b, tb);
  if (va.cols != vb.rows)
    return opError("contracting dimensions differ: " + a.str() +
                   (ta ? " (transposed)" : "") + " contributes " +
                   llvm::Twine(va.cols) + " and " + b.str() +
                   (tb ? " (transposed)" : "") + " contributes " +
                   llvm::Twine(vb.rows));
  return result(TensorType(a.element(), {va.rows, vb.cols}));
}

/// C(i, j) = sum over k of A(i, k) B(k, j): domain [m, n, depth], each
/// operand read through its (possibly transposed) map.
static std::optional<StructuredOp> describeMatMul(const Op &op) {
  bool ta = op.attrs().getBool("transpose_a"),
       tb = op.attrs().getBool("transpose_b");
  const TensorType &a = op.operand(0)->type(), &b = op.operand(1)->type();
  const TensorType &c = op.result()->type();
  int64_t depth = view(a, ta).cols;
  StructuredStage st;
  st.domain = {c.dim(0), c.dim(1), depth};
  st.parallel = 2;
  auto read = [&](int operand, const TensorType &t, unsigned row, unsigned col,
                  bool transposed) {
    StageOperand o;
    o.operand = operand;
    o.view = Shape(t.shape());
    o.map = {AffineExpr::dim(transposed ? col : row, 3),
             AffineExpr::dim(transposed ? row : col, 3)};
    return o;
  };
  st.operands.push_back(read(0, a, 0, 2, ta));
  st.operands.push_back(read(1, b, 2, 1, tb));
  st.body.apply(ScalarOp::Mul,
                {st.body.input(0, a.element()), st.body.input(1, b.element())});
  st.combiner = Combiner::Sum;
  st.type = c.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static void gradMatMul(GradContext &c) {
  // With C = op(A) op(B) and G = dC: d op(A) = G op(B)^T, d op(B) = op(A)^T G,
  // each written as one matmul with the flags that avoid a transpose.
  bool ta = c.op.attrs().getBool("transpose_a"),
       tb = c.op.attrs().getBool("transpose_b");
  Value *g = c.resultGrad(), *a = c.operand(0), *b = c.operand(1);
  if (c.needsGrad(0))
    c.setGrad(0,
              ta ? c.b.matmul(b, g, tb, true) : c.b.matmul(g, b, false, !tb));
  if (c.needsGrad(1))
    c.setGrad(1,
              tb ? c.b.matmul(g, a, true, ta) : c.b.matmul(a, g, !ta, false));
}

static Value *foldMatMul(Op &op, Builder &b) {
  // A 2-D transpose feeding a matmul becomes its flag.
  for (unsigned i : {0u, 1u}) {
    Op *t = op.operand(i)->definingOp();
    if (!t || !t->is(OpKind::Transpose))
      continue;
    bool ta = op.attrs().getBool("transpose_a"),
         tb = op.attrs().getBool("transpose_b");
    Value *lhs = op.operand(0), *rhs = op.operand(1);
    if (i == 0) {
      lhs = t->operand(0);
      ta = !ta;
    } else {
      rhs = t->operand(0);
      tb = !tb;
    }
    return b.matmul(lhs, rhs, ta, tb);
  }
  return nullptr;
}

void registerContractionOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::MatMul,
            .name = "matmul",
            .summary = "matrix product op(a) op(b)",
            .minOperands = 2,
            .maxOperands = 2,
            .attrs = {AttrSpec::defaulted("transpose_a", false),
                      AttrSpec::defaulted("transpose_b", false)},
            .infer = inferMatMul,
            .eval = evaluateDescribed,
            .grad = gradMatMul,
            .fold = foldMatMul,
            .structure = describeMatMul});
}

} // namespace nnc
