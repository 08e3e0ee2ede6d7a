//===- MaxPoolTaps.cpp - Max pooling's gradient split at the forward pass -===//
//
// max_pool2d_grad(x, dy) finds each window's first maximum in x and sends
// the window's dy there. In a training step x is an activation of the
// forward pass, and the gradient reads it back in the backward pass, from
// memory by then: Keras's convnet's first is 11 MB, and reading it was
// most of the gradient's time. This pass splits the op in two:
//
//   max_pool2d_taps(x)           each window's first maximum, as its tap's
//                                position (i32, a quarter of x for 2x2)
//   max_pool2d_scatter(taps, dy) dy to those taps, where the gradient was
//
// and places the first right after the forward pass's max_pool2d(x) (or
// x's producer), which has just read x. Nothing in the backward pass then
// reads x, so the memory plan need not keep it for it.
//
// The two compute what max_pool2d_grad's code does, to the bit: its
// structured description is these two stages.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"

namespace nnc {

namespace {

class MaxPoolTaps : public GraphPass {
public:
  llvm::StringRef name() const override { return "max-pool-taps"; }
  llvm::StringRef description() const override {
    return "max pooling's gradients as their windows' first maxima, found "
           "in the forward pass, and a scatter";
  }

  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    std::vector<Op *> gradients;
    for (Op &op : g.ops())
      if (op.is(OpKind::MaxPool2DGrad))
        gradients.push_back(&op);
    Builder b(g);
    for (Op *grad : gradients) {
      Value *x = grad->operand(0);
      // Right after the pooling of x, or x's producer (or at the start
      // for an argument).
      Op *after = x->definingOp();
      for (const Use &u : x->uses())
        if (u.user->is(OpKind::MaxPool2D) && u.user->attrs() == grad->attrs())
          after = u.user;
      if (after)
        b.setInsertionPointAfter(after);
      else
        b.setInsertionPointToStart(g);
      b.setLoc(grad->loc());
      Value *taps = b.createValue(OpKind::MaxPool2DTaps, {x}, grad->attrs());
      b.setInsertionPoint(grad);
      Value *dx =
          b.createValue(OpKind::MaxPool2DScatter, {taps, grad->operand(1)},
                        grad->attrs(), {grad->result()->type()});
      grad->result()->replaceAllUsesWith(dx);
      grad->erase();
    }
    return llvm::success();
  }
};

} // namespace

std::unique_ptr<Pass> createMaxPoolTapsPass() {
  return std::make_unique<MaxPoolTaps>();
}

} // namespace nnc
