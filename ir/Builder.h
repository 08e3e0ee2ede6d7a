//===- Builder.h - Creating well-typed ops ----------------------*- C++ -*-===//
//
// The builder inserts ops at a position in a graph, stamping each with the
// current location. `tryCreate` checks the op against its definition and
// reports a type error as an llvm::Error (the frontend turns it into a
// diagnostic at the user's source); the named helpers are for passes, which
// only build ops they know to be valid.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_BUILDER_H
#define NNC_IR_BUILDER_H

#include "ir/Graph.h"

namespace nnc {

class Builder {
public:
  explicit Builder(Graph &g) : graph(&g), insertPt(g.end()) {}

  Graph &getGraph() const { return *graph; }
  void setInsertionPoint(Op *before) {
    graph = before->parent();
    insertPt = before->position();
  }
  void setInsertionPointAfter(Op *op) {
    graph = op->parent();
    insertPt = std::next(op->position());
  }
  void setInsertionPointToEnd(Graph &g) {
    graph = &g;
    insertPt = g.end();
  }
  void setInsertionPointToStart(Graph &g) {
    graph = &g;
    insertPt = g.begin();
  }
  OpList::iterator insertionPoint() const { return insertPt; }

  const Location &loc() const { return location; }
  void setLoc(Location l) { location = std::move(l); }

  /// Checks the op and creates it; on a type error creates nothing.
  llvm::Expected<Op *> tryCreate(OpKind kind, llvm::ArrayRef<Value *> operands,
                                 AttrDict attrs = {},
                                 llvm::ArrayRef<TensorType> declared = {});
  /// As tryCreate, for ops the caller knows to be valid.
  Op *create(OpKind kind, llvm::ArrayRef<Value *> operands, AttrDict attrs = {},
             llvm::ArrayRef<TensorType> declared = {});
  Value *createValue(OpKind kind, llvm::ArrayRef<Value *> operands,
                     AttrDict attrs = {},
                     llvm::ArrayRef<TensorType> declared = {}) {
    return create(kind, operands, std::move(attrs), declared)->result();
  }

  // Sources.
  Value *param(llvm::StringRef name, const TensorType &type,
               llvm::StringRef init);
  Value *state(llvm::StringRef name, const TensorType &type,
               llvm::StringRef init = "zeros");
  /// A tensor of `type` with every element equal to `value`.
  Value *constant(double value, const TensorType &type);
  Value *scalar(double value, ElementType e = ElementType::F32) {
    return constant(value, TensorType(e, {}));
  }

  // Element-wise.
  Value *unary(OpKind kind, Value *x) { return createValue(kind, {x}); }
  Value *binary(OpKind kind, Value *a, Value *b) {
    return createValue(kind, {a, b});
  }
  Value *neg(Value *x) { return unary(OpKind::Neg, x); }
  Value *exp(Value *x) { return unary(OpKind::Exp, x); }
  Value *expm1(Value *x) { return unary(OpKind::Expm1, x); }
  Value *log(Value *x) { return unary(OpKind::Log, x); }
  Value *sqrt(Value *x) { return unary(OpKind::Sqrt, x); }
  Value *relu(Value *x) { return unary(OpKind::Relu, x); }
  Value *add(Value *a, Value *b) { return binary(OpKind::Add, a, b); }
  Value *sub(Value *a, Value *b) { return binary(OpKind::Sub, a, b); }
  Value *mul(Value *a, Value *b) { return binary(OpKind::Mul, a, b); }
  Value *div(Value *a, Value *b) { return binary(OpKind::Div, a, b); }
  Value *pow(Value *a, Value *b) { return binary(OpKind::Pow, a, b); }
  Value *compare(llvm::StringRef predicate, Value *a, Value *b);
  Value *select(Value *cond, Value *a, Value *b) {
    return createValue(OpKind::Select, {cond, a, b});
  }
  Value *cast(Value *x, ElementType to);

  // Data movement.
  Value *reshape(Value *x, llvm::ArrayRef<int64_t> shape);
  Value *transpose(Value *x, llvm::ArrayRef<int64_t> perm);
  Value *broadcast(Value *x, llvm::ArrayRef<int64_t> shape);
  /// `low[d]` elements of `value` before axis d and `high[d]` after.
  Value *pad(Value *x, llvm::ArrayRef<int64_t> low,
             llvm::ArrayRef<int64_t> high, double value = 0.0);
  /// The block of `sizes` elements from `start`.
  Value *slice(Value *x, llvm::ArrayRef<int64_t> start,
               llvm::ArrayRef<int64_t> sizes);

  // Reductions.
  Value *reduce(OpKind kind, Value *x, llvm::ArrayRef<int64_t> axes,
                bool keepdims = false);
  Value *reduceSum(Value *x, llvm::ArrayRef<int64_t> axes,
                   bool keepdims = false) {
    return reduce(OpKind::ReduceSum, x, axes, keepdims);
  }
  Value *argmax(Value *x, int64_t axis);

  Value *matmul(Value *a, Value *b, bool transposeA = false,
                bool transposeB = false);

  Value *softmax(Value *x) { return unary(OpKind::Softmax, x); }
  Value *logSoftmax(Value *x) { return unary(OpKind::LogSoftmax, x); }
  Value *oneHot(Value *labels, int64_t depth);
  Value *softmaxCrossEntropy(Value *logits, Value *labels) {
    return binary(OpKind::SoftmaxCrossEntropy, logits, labels);
  }

  // Structure.
  Op *assign(Value *variable, Value *value) {
    return create(OpKind::Assign, {variable, value});
  }
  /// Ends the graph, returning `values` under `names`.
  Op *ret(llvm::ArrayRef<Value *> values, std::vector<std::string> names);

private:
  Graph *graph;
  OpList::iterator insertPt;
  Location location;
};

/// The value of a constant whose elements are all equal, if `v` is one.
std::optional<double> getSplatConstant(const Value *v);

} // namespace nnc

#endif // NNC_IR_BUILDER_H
