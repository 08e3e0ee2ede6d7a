//===- Gradient.h - What a gradient rule sees and produces ------*- C++ -*-===//
//
// The autodiff pass calls each op's gradient rule with the gradients flowing
// into the op's results and collects the gradients of its operands. Rules
// build ordinary IR through the builder, so the backward graph is printed,
// simplified and fused like the forward one.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_GRADIENT_H
#define NNC_IR_GRADIENT_H

#include "ir/Builder.h"
#include "ir/Graph.h"

namespace nnc {

class GradContext {
public:
  GradContext(Op &op, Builder &b, llvm::ArrayRef<Value *> resultGrads,
              llvm::ArrayRef<bool> operandNeedsGrad)
      : op(op), b(b), resultGrads(resultGrads.begin(), resultGrads.end()),
        needs(operandNeedsGrad.begin(), operandNeedsGrad.end()),
        grads(op.numOperands(), nullptr) {}

  Op &op;
  Builder &b;

  Value *operand(unsigned i) const { return op.operand(i); }
  Value *result(unsigned i = 0) const { return op.result(i); }
  /// The gradient of the loss with respect to result `i`.
  Value *resultGrad(unsigned i = 0) const { return resultGrads[i]; }

  /// False for operands that lead to no trainable parameter; rules skip them.
  bool needsGrad(unsigned operand) const { return needs[operand]; }
  void setGrad(unsigned operand, Value *grad) { grads[operand] = grad; }
  Value *grad(unsigned operand) const { return grads[operand]; }

  /// Sums `grad` over the axes along which operand `operand` was broadcast
  /// (NumPy rules) and reshapes it to the operand's type.
  Value *unbroadcast(Value *grad, unsigned operand);

private:
  llvm::SmallVector<Value *, 1> resultGrads;
  llvm::SmallVector<bool, 3> needs;
  llvm::SmallVector<Value *, 3> grads;
};

} // namespace nnc

#endif // NNC_IR_GRADIENT_H
