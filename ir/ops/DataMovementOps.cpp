//===- DataMovementOps.cpp - reshape, transpose and broadcast -------------===//
//
// Ops that move elements without computing on them. Reshape reinterprets the
// row-major order and is free at run time (the memory planner aliases it).
//
//===----------------------------------------------------------------------===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferReshape(const OpSignature &sig) {
  const TensorType &in = sig.operands[0], &out = sig.declared[0];
  if (in.element() != out.element())
    return opError("cannot change the element type: " + in.str() + " to " +
                   out.str() + " (use cast)");
  if (in.numElements() != out.numElements())
    return opError("cannot reshape " + in.str() + " (" +
                   llvm::Twine(in.numElements()) + " elements) to " +
                   out.str() + " (" + llvm::Twine(out.numElements()) +
                   " elements)");
  return result(out);
}

static llvm::Error evalCopy(const Op &, llvm::ArrayRef<const HostTensor *> in,
                            llvm::MutableArrayRef<HostTensor> out) {
  out[0].data = in[0]->data;
  return llvm::Error::success();
}

static void gradReshape(GradContext &c) {
  c.setGrad(0, c.b.reshape(c.resultGrad(), c.operand(0)->type().shape()));
}

static Value *foldReshape(Op &op, Builder &b) {
  Value *x = op.operand(0);
  if (x->type() == op.result()->type())
    return x;
  Op *inner = x->definingOp();
  if (inner && inner->is(OpKind::Reshape))
    return b.reshape(inner->operand(0), op.result()->type().shape());
  return nullptr;
}

static llvm::Expected<ResultTypes> inferTranspose(const OpSignature &sig) {
  const TensorType &in = sig.operands[0];
  const std::vector<int64_t> &perm = sig.attrs.getIntList("perm");
  if (perm.size() != in.rank())
    return opError("permutation of " + llvm::Twine(perm.size()) +
                   " axes for an operand of rank " + llvm::Twine(in.rank()));
  llvm::SmallVector<bool, 4> seen(in.rank(), false);
  Shape shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(in.rank()) || seen[p])
      return opError("perm " + Attribute(perm).str() +
                     " is not a permutation of 0.." +
                     llvm::Twine(in.rank() - 1));
    seen[p] = true;
    shape.push_back(in.dim(p));
  }
  return result(in.withShape(shape));
}

static std::vector<int64_t> inversePermutation(llvm::ArrayRef<int64_t> perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inv[perm[i]] = int64_t(i);
  return inv;
}

static void gradTranspose(GradContext &c) {
  c.setGrad(0,
            c.b.transpose(c.resultGrad(),
                          inversePermutation(c.op.attrs().getIntList("perm"))));
}

static bool isIdentity(llvm::ArrayRef<int64_t> perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int64_t(i))
      return false;
  return true;
}

static Value *foldTranspose(Op &op, Builder &b) {
  const std::vector<int64_t> &perm = op.attrs().getIntList("perm");
  if (isIdentity(perm))
    return op.operand(0);
  Op *inner = op.operand(0)->definingOp();
  if (!inner || !inner->is(OpKind::Transpose))
    return nullptr;
  // transpose(transpose(x, p1), p2) reads x through p1[p2[i]].
  const std::vector<int64_t> &p1 = inner->attrs().getIntList("perm");
  std::vector<int64_t> composed(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    composed[i] = p1[perm[i]];
  if (isIdentity(composed))
    return inner->operand(0);
  return b.transpose(inner->operand(0), composed);
}

static llvm::Expected<ResultTypes> inferBroadcast(const OpSignature &sig) {
  const TensorType &in = sig.operands[0], &out = sig.declared[0];
  if (in.element() != out.element())
    return opError("cannot change the element type: " + in.str() + " to " +
                   out.str());
  auto joined = broadcastShapes(in.shape(), out.shape());
  if (in.rank() > out.rank() || !joined ||
      llvm::ArrayRef<int64_t>(*joined) != out.shape())
    return opError("cannot broadcast " + in.str() + " to " + out.str() +
                   ": dimensions must be equal or 1 when aligned from the "
                   "right");
  return result(out);
}

static void gradBroadcast(GradContext &c) {
  c.setGrad(0, c.unbroadcast(c.resultGrad(), 0));
}

static Value *foldBroadcast(Op &op, Builder &) {
  if (op.operand(0)->type() == op.result()->type())
    return op.operand(0);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Structure: one stage over the result, reading the operand through a map.
//===----------------------------------------------------------------------===//

static std::optional<StructuredOp> describeReshape(const Op &op) {
  // Both sides flat: the row-major order is what a reshape keeps.
  const TensorType &t = op.result()->type();
  Shape flat{t.numElements()};
  StructuredStage st;
  st.domain = flat;
  st.parallel = 1;
  st.operands.push_back(structured::identity(0, StageOperand::kNone, flat, 1));
  st.body.input(0, t.element());
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static std::optional<StructuredOp> describeTranspose(const Op &op) {
  const TensorType &t = op.result()->type();
  const std::vector<int64_t> &perm = op.attrs().getIntList("perm");
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  StageOperand x;
  x.operand = 0;
  x.view = Shape(op.operand(0)->type().shape());
  x.map.resize(t.rank());
  for (unsigned d = 0; d < t.rank(); ++d)
    x.map[perm[d]] = AffineExpr::dim(d, t.rank());
  st.operands.push_back(std::move(x));
  st.body.input(0, t.element());
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static std::optional<StructuredOp> describeBroadcast(const Op &op) {
  ScalarBody body;
  body.input(0, op.result()->type().element());
  StructuredOp s;
  s.stages.push_back(structured::elementwise(op, std::move(body)));
  return s;
}

//===----------------------------------------------------------------------===//
// pad and slice: each the other's gradient
//===----------------------------------------------------------------------===//

/// Checks that an int-list attribute has one entry per axis, each >= lo.
static llvm::Error checkPerAxis(const OpSignature &sig, llvm::StringRef name,
                                int64_t lo) {
  const TensorType &in = sig.operands[0];
  const std::vector<int64_t> &v = sig.attrs.getIntList(name);
  if (v.size() != in.rank())
    return opError(name + " has " + llvm::Twine(v.size()) +
                   " entries for an operand of rank " + llvm::Twine(in.rank()) +
                   " (" + in.str() + ")");
  for (size_t d = 0; d < v.size(); ++d)
    if (v[d] < lo)
      return opError(name + "[" + llvm::Twine(d) + "] is " + llvm::Twine(v[d]) +
                     ", below " + llvm::Twine(lo));
  return llvm::Error::success();
}

static llvm::Expected<ResultTypes> inferPad(const OpSignature &sig) {
  for (llvm::StringRef name : {"low", "high"})
    if (llvm::Error err = checkPerAxis(sig, name, 0))
      return err;
  const TensorType &in = sig.operands[0];
  Shape shape(in.shape());
  for (unsigned d = 0; d < in.rank(); ++d)
    shape[d] +=
        sig.attrs.getIntList("low")[d] + sig.attrs.getIntList("high")[d];
  return result(in.withShape(shape));
}

static std::optional<StructuredOp> describePad(const Op &op) {
  const TensorType &t = op.result()->type();
  const std::vector<int64_t> &low = op.attrs().getIntList("low");
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  StageOperand x;
  x.operand = 0;
  x.view = Shape(op.operand(0)->type().shape());
  for (unsigned d = 0; d < t.rank(); ++d)
    x.map.push_back(AffineExpr::dim(d, t.rank(), 1, -low[d]));
  x.padding = op.attrs().getFloat("value");
  st.operands.push_back(std::move(x));
  st.body.input(0, t.element());
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static void gradPad(GradContext &c) {
  c.setGrad(0, c.b.slice(c.resultGrad(), c.op.attrs().getIntList("low"),
                         c.operand(0)->type().shape()));
}

static llvm::Expected<ResultTypes> inferSlice(const OpSignature &sig) {
  if (llvm::Error err = checkPerAxis(sig, "start", 0))
    return err;
  if (llvm::Error err = checkPerAxis(sig, "sizes", 0))
    return err;
  const TensorType &in = sig.operands[0];
  const std::vector<int64_t> &start = sig.attrs.getIntList("start"),
                             &sizes = sig.attrs.getIntList("sizes");
  for (unsigned d = 0; d < in.rank(); ++d)
    if (start[d] + sizes[d] > in.dim(d))
      return opError("axis " + llvm::Twine(d) + ": " + llvm::Twine(sizes[d]) +
                     " elements from " + llvm::Twine(start[d]) +
                     " run past the operand " + in.str());
  return result(in.withShape(sizes));
}

static std::optional<StructuredOp> describeSlice(const Op &op) {
  const TensorType &t = op.result()->type();
  const std::vector<int64_t> &start = op.attrs().getIntList("start");
  StructuredStage st;
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  StageOperand x;
  x.operand = 0;
  x.view = Shape(op.operand(0)->type().shape());
  for (unsigned d = 0; d < t.rank(); ++d)
    x.map.push_back(AffineExpr::dim(d, t.rank(), 1, start[d]));
  st.operands.push_back(std::move(x));
  st.body.input(0, t.element());
  st.type = t.element();
  st.result = 0;
  StructuredOp s;
  s.stages.push_back(std::move(st));
  return s;
}

static void gradSlice(GradContext &c) {
  const TensorType &in = c.operand(0)->type();
  const std::vector<int64_t> &start = c.op.attrs().getIntList("start"),
                             &sizes = c.op.attrs().getIntList("sizes");
  std::vector<int64_t> high;
  for (unsigned d = 0; d < in.rank(); ++d)
    high.push_back(in.dim(d) - start[d] - sizes[d]);
  c.setGrad(0, c.b.pad(c.resultGrad(), start, high));
}

static Value *foldSlice(Op &op, Builder &) {
  // The whole operand.
  if (op.operand(0)->type() == op.result()->type())
    return op.operand(0);
  return nullptr;
}

static Value *foldPad(Op &op, Builder &) {
  if (op.operand(0)->type() == op.result()->type())
    return op.operand(0);
  return nullptr;
}

void registerDataMovementOps(const OpRegistry &add) {
  add(OpDef{.kind = OpKind::Pad,
            .name = "pad",
            .summary = "low[d] and high[d] elements of value around axis d",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = {AttrSpec::required("low", AttrKind::IntList),
                      AttrSpec::required("high", AttrKind::IntList),
                      AttrSpec::defaulted("value", 0.0)},
            .infer = inferPad,
            .eval = evaluateDescribed,
            .grad = gradPad,
            .fold = foldPad,
            .structure = describePad});
  add(OpDef{.kind = OpKind::Slice,
            .name = "slice",
            .summary = "the block of sizes[d] elements from start[d]",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = {AttrSpec::required("start", AttrKind::IntList),
                      AttrSpec::required("sizes", AttrKind::IntList)},
            .infer = inferSlice,
            .eval = evaluateDescribed,
            .grad = gradSlice,
            .fold = foldSlice,
            .structure = describeSlice});
  add(OpDef{.kind = OpKind::Reshape,
            .name = "reshape",
            .summary = "the same elements in row-major order, a new shape",
            .minOperands = 1,
            .maxOperands = 1,
            .takesResultType = true,
            .infer = inferReshape,
            .eval = evalCopy,
            .grad = gradReshape,
            .fold = foldReshape,
            .structure = describeReshape});
  add(OpDef{.kind = OpKind::Transpose,
            .name = "transpose",
            .summary = "result axis i is operand axis perm[i]",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = {AttrSpec::required("perm", AttrKind::IntList)},
            .infer = inferTranspose,
            .eval = evaluateDescribed,
            .grad = gradTranspose,
            .fold = foldTranspose,
            .structure = describeTranspose});
  add(OpDef{.kind = OpKind::Broadcast,
            .name = "broadcast",
            .summary = "stretches dimensions of 1 (NumPy rules)",
            .minOperands = 1,
            .maxOperands = 1,
            .takesResultType = true,
            .infer = inferBroadcast,
            .eval = evaluateDescribed,
            .grad = gradBroadcast,
            .fold = foldBroadcast,
            .structure = describeBroadcast});
}

} // namespace nnc
