//===- Optimizers.cpp - Parameter updates as graph IR ---------------------===//
//
// An optimizer pass consumes the `grad.P` results that autodiff adds and
// appends the update of each parameter P as ordinary IR: its state (moments,
// velocities, the step counter) lives in `state` variables, and `assign`s give
// parameters and state their values for the next step. The result is one
// graph for the whole training step.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

#include <cmath>

namespace nnc {

namespace {

struct ParamGrad {
  Value *param;
  Value *grad;
  std::string name;
};

/// Takes the grad.* results off the graph's return and pairs each with its
/// parameter. Leaves the builder positioned before the new return.
llvm::FailureOr<std::vector<ParamGrad>>
takeGradients(Graph &g, Builder &b, DiagnosticEngine &diag,
              llvm::StringRef passName) {
  Op *ret = g.terminator();
  llvm::StringMap<Value *> params;
  for (Op &op : g.ops())
    if (op.is(OpKind::Param))
      params[variableName(op)] = op.result();

  std::vector<ParamGrad> out;
  llvm::SmallVector<Value *, 4> kept;
  std::vector<std::string> keptNames;
  for (unsigned i = 0; i < ret->numOperands(); ++i) {
    llvm::StringRef name = g.resultNames()[i];
    if (!name.starts_with("grad.")) {
      kept.push_back(ret->operand(i));
      keptNames.push_back(name.str());
      continue;
    }
    llvm::StringRef paramName = name.drop_front(5);
    Value *param = params.lookup(paramName);
    if (!param) {
      diag.error(ret->loc(), "'" + passName + "' found gradient '" + name +
                                 "' but no parameter \"" + paramName + "\"");
      return llvm::failure();
    }
    out.push_back({param, ret->operand(i), paramName.str()});
  }
  b.setInsertionPoint(ret);
  b.setLoc(ret->loc());
  b.ret(kept, std::move(keptNames));
  ret->erase();
  b.setInsertionPoint(g.terminator());
  return out;
}

std::string formatHyper(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%g", v);
  return s;
}

/// What every optimizer does around its update rule: find the graphs with
/// gradients, take the gradients off their results, and let the rule append
/// the updates before the return.
class OptimizerPass : public Pass {
public:
  llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) override {
    bool any = false;
    for (Graph &g : m.graphs()) {
      if (!hasGradients(g))
        continue;
      any = true;
      Builder b(g);
      auto pairs = takeGradients(g, b, diag, name());
      if (llvm::failed(pairs))
        return llvm::failure();
      // A parameter the loss does not read has a zero gradient (autodiff
      // warns); from zero state every rule leaves it where it is, so it
      // gets no update and no state.
      llvm::erase_if(*pairs, [&](const ParamGrad &pg) {
        bool zero = isZeroConstant(pg.grad);
        numFrozen += zero;
        return zero;
      });
      update(b, *pairs);
      numUpdated += pairs->size();
    }
    if (!any) {
      diag.error(Location(),
                 "'" + name() + "' needs gradients: run 'autodiff' first");
      return llvm::failure();
    }
    return llvm::success();
  }

protected:
  /// Appends the updates; the builder is positioned before the return.
  virtual void update(Builder &b, llvm::ArrayRef<ParamGrad> pairs) = 0;

  /// Sets one of `options` from `key=value`.
  llvm::Error
  setNumericOption(llvm::ArrayRef<std::pair<llvm::StringRef, double *>> options,
                   llvm::StringRef key, llvm::StringRef value) {
    for (auto [name, slot] : options)
      if (name == key) {
        auto v = parseDoubleOption(*this, key, value);
        if (!v)
          return v.takeError();
        *slot = *v;
        return llvm::Error::success();
      }
    return Pass::setOption(key, value);
  }

private:
  static bool isZeroConstant(const Value *v) {
    const Op *def = v->definingOp();
    return def && def->is(OpKind::Constant) && def->attrs().has("value") &&
           def->attrs().getFloat("value") == 0.0;
  }

  Statistic numUpdated{this, "params-updated", "parameters given an update"};
  Statistic numFrozen{this, "params-unchanged",
                      "parameters with a zero gradient, left unchanged"};
};

/// The decoupled weight decay of AdamW (Loshchilov and Hutter), as Keras
/// and PyTorch apply it, for every optimizer: p - lr * decay * p, before
/// the rule's own step. The product lr * decay is folded in double and
/// subtracted as a product with p: multiplying p by 1 - lr * decay rounded
/// to f32 would lose most of the decay's digits.
Value *decayed(Builder &b, Value *param, double lr, double decay) {
  if (decay == 0.0)
    return param;
  return b.sub(param, b.mul(b.scalar(lr * decay), param));
}

/// Adam with Keras's formula (TensorFlow's, with the bias corrections
/// computed accurately):
///   t += 1;  alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
///   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
///   p -= alpha m / (sqrt(v) + eps)
/// and with weight_decay, AdamW: p -= lr * weight_decay * p first.
class Adam : public OptimizerPass {
public:
  llvm::StringRef name() const override { return "adam"; }
  llvm::StringRef description() const override {
    return "update each param from its grad.* result with Adam (Keras's "
           "formula)";
  }
  std::vector<std::string> optionHelp() const override {
    return {"lr=" + formatHyper(lr) + "  learning rate",
            "beta1=" + formatHyper(beta1) + "  decay of the first moment",
            "beta2=" + formatHyper(beta2) + "  decay of the second moment",
            "eps=" + formatHyper(eps) + "  added to sqrt(v)",
            "weight_decay=" + formatHyper(weightDecay) +
                "  decoupled weight decay (AdamW)"};
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    return setNumericOption({{"lr", &lr},
                             {"beta1", &beta1},
                             {"beta2", &beta2},
                             {"eps", &eps},
                             {"weight_decay", &weightDecay}},
                            key, value);
  }

private:
  void update(Builder &b, llvm::ArrayRef<ParamGrad> pairs) override {
    // The step counter is an integer, as in TensorFlow, so it stays exact
    // however long training runs; the bias corrections use it as f32.
    Value *step = b.state("adam.step", TensorType(ElementType::I32, {}));
    Value *next = b.add(step, b.scalar(1.0, ElementType::I32));
    b.assign(step, next);
    Value *t = b.cast(next, ElementType::F32);
    // 1 - beta^t as -expm1(t ln beta), ln beta folded in double: computing
    // beta^t in f32 from beta rounded to f32 (as TensorFlow does) is off by
    // 1.3e-5 relative for beta2 = 0.999 at the first step, since 0.999f is
    // 0.99900001 and 1 - 0.999f is 0.00099998713, and every step of
    // training is that much shorter than the formula's.
    auto correction = [&](double beta) {
      if (beta <= 0)
        return b.scalar(1.0); // 0^t for t >= 1
      return b.neg(b.expm1(b.mul(t, b.scalar(std::log(beta)))));
    };
    Value *alpha = b.div(b.mul(b.scalar(lr), b.sqrt(correction(beta2))),
                         correction(beta1));
    alpha->setName("adam.alpha");
    Value *b1 = b.scalar(beta1), *b2 = b.scalar(beta2);
    Value *c1 = b.scalar(1.0 - beta1), *c2 = b.scalar(1.0 - beta2);
    Value *epsilon = b.scalar(eps);
    for (const ParamGrad &pg : pairs) {
      const TensorType &type = pg.param->type();
      Value *m = b.state("adam.m." + pg.name, type);
      Value *v = b.state("adam.v." + pg.name, type);
      Value *g = pg.grad;
      Value *mNew = b.add(b.mul(b1, m), b.mul(c1, g));
      Value *vNew = b.add(b.mul(b2, v), b.mul(c2, b.mul(g, g)));
      Value *delta = b.div(b.mul(alpha, mNew), b.add(b.sqrt(vNew), epsilon));
      Value *pNew = b.sub(decayed(b, pg.param, lr, weightDecay), delta);
      b.assign(m, mNew);
      b.assign(v, vNew);
      b.assign(pg.param, pNew);
    }
  }

  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7;
  double weightDecay = 0.0;
};

/// SGD with momentum as Keras computes it:
///   velocity = momentum * velocity - lr * g;  p += velocity
/// and plain p -= lr * g when momentum is 0; with weight_decay, p -= lr *
/// weight_decay * p first (decoupled, as AdamW).
class SGD : public OptimizerPass {
public:
  llvm::StringRef name() const override { return "sgd"; }
  llvm::StringRef description() const override {
    return "update each param from its grad.* result with SGD and momentum";
  }
  std::vector<std::string> optionHelp() const override {
    return {"lr=" + formatHyper(lr) + "  learning rate",
            "momentum=" + formatHyper(momentum) + "  0 for plain SGD",
            "weight_decay=" + formatHyper(weightDecay) +
                "  decoupled weight decay"};
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    return setNumericOption(
        {{"lr", &lr}, {"momentum", &momentum}, {"weight_decay", &weightDecay}},
        key, value);
  }

private:
  void update(Builder &b, llvm::ArrayRef<ParamGrad> pairs) override {
    Value *rate = b.scalar(lr);
    for (const ParamGrad &pg : pairs) {
      Value *scaled = b.mul(rate, pg.grad);
      Value *param = decayed(b, pg.param, lr, weightDecay);
      if (momentum == 0.0) {
        b.assign(pg.param, b.sub(param, scaled));
        continue;
      }
      Value *vel = b.state("sgd.velocity." + pg.name, pg.param->type());
      Value *velNew = b.sub(b.mul(b.scalar(momentum), vel), scaled);
      b.assign(vel, velNew);
      b.assign(pg.param, b.add(param, velNew));
    }
  }

  double lr = 0.01, momentum = 0.0, weightDecay = 0.0;
};

} // namespace

bool hasGradients(const Graph &g) {
  return g.terminator() &&
         llvm::any_of(g.resultNames(), [](const std::string &n) {
           return llvm::StringRef(n).starts_with("grad.");
         });
}

std::unique_ptr<Pass> createAdamPass() { return std::make_unique<Adam>(); }
std::unique_ptr<Pass> createSGDPass() { return std::make_unique<SGD>(); }

} // namespace nnc
