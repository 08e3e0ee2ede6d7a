//===- Builder.cpp - Creating well-typed ops ------------------------------===//
#include "ir/Builder.h"

#include "llvm/Support/raw_ostream.h"

namespace nnc {

llvm::Expected<Op *> Builder::tryCreate(OpKind kind,
                                        llvm::ArrayRef<Value *> operands,
                                        AttrDict attrs,
                                        llvm::ArrayRef<TensorType> declared) {
  llvm::SmallVector<TensorType, 4> operandTypes;
  for (Value *v : operands)
    operandTypes.push_back(v->type());
  auto types = checkSignature(getOpDef(kind), operandTypes, attrs, declared);
  if (!types)
    return types.takeError();
  return graph->createOp(insertPt, kind, operands, *types, std::move(attrs),
                         location);
}

Op *Builder::create(OpKind kind, llvm::ArrayRef<Value *> operands,
                    AttrDict attrs, llvm::ArrayRef<TensorType> declared) {
  auto op = tryCreate(kind, operands, std::move(attrs), declared);
  if (!op) {
    // A pass built an ill-typed op: a compiler bug, not a user error.
    llvm::errs() << "internal error: invalid '" << getOpDef(kind).name
                 << "' op: " << llvm::toString(op.takeError()) << "\n";
    llvm_unreachable("builder created an invalid op");
  }
  return *op;
}

static Value *variable(Builder &b, OpKind kind, llvm::StringRef name,
                       const TensorType &type, llvm::StringRef init) {
  AttrDict attrs;
  attrs.set("name", name.str());
  attrs.set("init", init.str());
  Value *v = b.createValue(kind, {}, std::move(attrs), {type});
  v->setName(name.str());
  return v;
}

Value *Builder::param(llvm::StringRef name, const TensorType &type,
                      llvm::StringRef init) {
  return variable(*this, OpKind::Param, name, type, init);
}

Value *Builder::state(llvm::StringRef name, const TensorType &type,
                      llvm::StringRef init) {
  return variable(*this, OpKind::State, name, type, init);
}

Value *Builder::constant(double value, const TensorType &type) {
  AttrDict attrs;
  attrs.set("value", value);
  return createValue(OpKind::Constant, {}, std::move(attrs), {type});
}

Value *Builder::compare(llvm::StringRef predicate, Value *a, Value *b) {
  AttrDict attrs;
  attrs.set("predicate", predicate.str());
  return createValue(OpKind::Compare, {a, b}, std::move(attrs));
}

Value *Builder::cast(Value *x, ElementType to) {
  return createValue(OpKind::Cast, {x}, {}, {x->type().withElement(to)});
}

Value *Builder::reshape(Value *x, llvm::ArrayRef<int64_t> shape) {
  return createValue(OpKind::Reshape, {x}, {}, {x->type().withShape(shape)});
}

Value *Builder::transpose(Value *x, llvm::ArrayRef<int64_t> perm) {
  AttrDict attrs;
  attrs.set("perm", std::vector<int64_t>(perm.begin(), perm.end()));
  return createValue(OpKind::Transpose, {x}, std::move(attrs));
}

Value *Builder::pad(Value *x, llvm::ArrayRef<int64_t> low,
                    llvm::ArrayRef<int64_t> high, double value) {
  AttrDict attrs;
  attrs.set("low", std::vector<int64_t>(low.begin(), low.end()));
  attrs.set("high", std::vector<int64_t>(high.begin(), high.end()));
  attrs.set("value", value);
  return createValue(OpKind::Pad, {x}, std::move(attrs));
}

Value *Builder::slice(Value *x, llvm::ArrayRef<int64_t> start,
                      llvm::ArrayRef<int64_t> sizes) {
  AttrDict attrs;
  attrs.set("start", std::vector<int64_t>(start.begin(), start.end()));
  attrs.set("sizes", std::vector<int64_t>(sizes.begin(), sizes.end()));
  return createValue(OpKind::Slice, {x}, std::move(attrs));
}

Value *Builder::broadcast(Value *x, llvm::ArrayRef<int64_t> shape) {
  return createValue(OpKind::Broadcast, {x}, {}, {x->type().withShape(shape)});
}

Value *Builder::reduce(OpKind kind, Value *x, llvm::ArrayRef<int64_t> axes,
                       bool keepdims) {
  AttrDict attrs;
  attrs.set("axes", std::vector<int64_t>(axes.begin(), axes.end()));
  attrs.set("keepdims", keepdims);
  return createValue(kind, {x}, std::move(attrs));
}

Value *Builder::argmax(Value *x, int64_t axis) {
  AttrDict attrs;
  attrs.set("axis", axis);
  return createValue(OpKind::ArgMax, {x}, std::move(attrs));
}

Value *Builder::matmul(Value *a, Value *b, bool transposeA, bool transposeB) {
  AttrDict attrs;
  attrs.set("transpose_a", transposeA);
  attrs.set("transpose_b", transposeB);
  return createValue(OpKind::MatMul, {a, b}, std::move(attrs));
}

Value *Builder::oneHot(Value *labels, int64_t depth) {
  AttrDict attrs;
  attrs.set("depth", depth);
  return createValue(OpKind::OneHot, {labels}, std::move(attrs));
}

Op *Builder::ret(llvm::ArrayRef<Value *> values,
                 std::vector<std::string> names) {
  graph->setResultNames(std::move(names));
  return create(OpKind::Return, values);
}

std::optional<double> getSplatConstant(const Value *v) {
  const Op *def = v->definingOp();
  if (!def || !def->is(OpKind::Constant))
    return std::nullopt;
  if (const Attribute *value = def->attrs().get("value"))
    return value->getFloat();
  const std::vector<double> &values =
      def->attrs().get("values")->getFloatList();
  if (values.empty() || !llvm::all_equal(values))
    return std::nullopt;
  return values.front();
}

} // namespace nnc
