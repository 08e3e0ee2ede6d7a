//===- Autodiff.cpp - Reverse-mode differentiation as a graph pass --------===//
//
// Appends the backward graph to every graph with a `loss` result: starting
// from d loss = 1, it visits ops in reverse and calls each op's gradient rule
// (ir/ops/), summing the gradients of values with several users. Only values
// on a path from a trainable parameter to the loss get a gradient, so the
// input images, the labels and the first layer's input gradient cost nothing.
//
// The gradient of parameter P is returned as the result named `grad.P`, which
// an optimizer pass consumes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/Gradient.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace nnc {

namespace {

class Autodiff : public Pass {
public:
  llvm::StringRef name() const override { return "autodiff"; }
  llvm::StringRef description() const override {
    return "append the gradient of the 'loss' result with respect to every "
           "param, as results named grad.<param>";
  }

  llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) override {
    for (Graph &g : m.graphs())
      if (g.lookupResult("loss") && llvm::failed(differentiate(g, diag)))
        return llvm::failure();
    return llvm::success();
  }

private:
  llvm::LogicalResult differentiate(Graph &g, DiagnosticEngine &diag) {
    Op *ret = g.terminator();
    Value *loss = g.lookupResult("loss");
    if (!loss->type().isScalar() || !isFloat(loss->type().element())) {
      diag.error(ret->loc(), "the loss must be a float scalar to "
                             "differentiate, got " +
                                 loss->type().str());
      return llvm::failure();
    }

    std::vector<Op *> order;
    std::vector<Op *> params;
    for (Op &op : g.ops()) {
      order.push_back(&op);
      if (op.is(OpKind::Param))
        params.push_back(&op);
    }

    // Values that depend on a parameter, then those of them the loss
    // depends on: only these get gradients.
    llvm::DenseSet<const Value *> fromParam, onPath;
    for (Op *op : order) {
      bool depends =
          op->is(OpKind::Param) || llvm::any_of(op->operands(), [&](Value *v) {
            return fromParam.contains(v);
          });
      if (depends && !op->def().hasSideEffects)
        for (Value *r : op->results())
          if (isFloat(r->type().element()))
            fromParam.insert(r);
    }
    if (fromParam.contains(loss))
      onPath.insert(loss);
    for (Op *op : llvm::reverse(order)) {
      if (op->def().hasSideEffects)
        continue;
      if (llvm::none_of(op->results(),
                        [&](Value *r) { return onPath.contains(r); }))
        continue;
      for (Value *v : op->operands())
        if (fromParam.contains(v))
          onPath.insert(v);
    }

    Builder b(g);
    b.setInsertionPoint(ret);
    llvm::DenseMap<const Value *, Value *> grads;
    b.setLoc(ret->loc());
    if (onPath.contains(loss))
      grads[loss] = b.constant(1.0, loss->type());

    for (Op *op : llvm::reverse(order)) {
      if (op->def().hasSideEffects || op->is(OpKind::Param))
        continue;
      llvm::SmallVector<Value *, 1> resultGrads;
      bool anyGrad = false;
      for (Value *r : op->results()) {
        resultGrads.push_back(grads.lookup(r));
        anyGrad |= resultGrads.back() != nullptr;
      }
      llvm::SmallVector<bool, 3> needs;
      bool anyNeeded = false;
      for (Value *v : op->operands()) {
        needs.push_back(onPath.contains(v));
        anyNeeded |= needs.back();
      }
      if (!anyGrad || !anyNeeded)
        continue;
      if (!op->def().grad) {
        diag.error(op->loc(), "cannot differentiate '" + op->name() +
                                  "': it has no gradient rule, and it lies "
                                  "between a parameter and the loss");
        return llvm::failure();
      }
      // Backward ops carry the location of the forward op they come from.
      b.setLoc(op->loc());
      GradContext ctx(*op, b, resultGrads, needs);
      op->def().grad(ctx);
      for (unsigned i = 0; i < op->numOperands(); ++i) {
        Value *g = ctx.grad(i);
        if (!needs[i] || !g)
          continue;
        assert(g->type() == op->operand(i)->type() &&
               "gradient rule produced the wrong type");
        Value *&slot = grads[op->operand(i)];
        slot = slot ? b.add(slot, g) : g;
        ++numGradientOps;
      }
    }

    // Return each parameter's gradient after the existing results.
    llvm::SmallVector<Value *, 8> results(ret->operands().begin(),
                                          ret->operands().end());
    std::vector<std::string> names(g.resultNames().begin(),
                                   g.resultNames().end());
    b.setLoc(ret->loc());
    for (Op *p : params) {
      Value *grad = grads.lookup(p->result());
      if (!grad) {
        diag.warning(p->loc(), "parameter \"" + variableName(*p) +
                                   "\" does not affect the loss; its "
                                   "gradient is zero");
        grad = b.constant(0.0, p->result()->type());
      }
      grad->setName("grad." + variableName(*p).str());
      results.push_back(grad);
      names.push_back("grad." + variableName(*p).str());
    }
    b.ret(results, std::move(names));
    ret->erase();
    return llvm::success();
  }

  Statistic numGradientOps{this, "gradients", "operand gradients built"};
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() {
  return std::make_unique<Autodiff>();
}

} // namespace nnc
