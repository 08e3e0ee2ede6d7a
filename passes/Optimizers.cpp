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

#include <optional>

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

/// A learning-rate schedule, as the optimizers' options give it: the rate
/// at step s (from 0) is lr times
///   min(1, (s + 1) / warmup)                           (warmup > 0)
///   factor^floor(t / every)                            (decay=step)
///   (1 - alpha) (1 + cos(pi min(t, steps) / steps)) / 2 + alpha
///                                                      (decay=cosine)
/// with t = max(0, s - warmup), the steps after the warm-up: Keras's
/// ExponentialDecay(staircase=True) and CosineDecay.
struct Schedule {
  double warmup = 0;
  std::string decay; ///< "", "step" or "cosine"
  double every = 0, factor = 1;
  double steps = 0, alpha = 0;

  bool empty() const { return warmup == 0 && decay.empty(); }

  static std::vector<std::string> help() {
    return {"warmup=0  steps of linear warm-up of the learning rate",
            "decay=none  the learning rate's decay: step or cosine",
            "decay_every=0  decay=step: steps between decays",
            "decay_factor=1  decay=step: the rate's factor at each",
            "decay_steps=0  decay=cosine: steps to decay over",
            "decay_alpha=0  decay=cosine: the final fraction of the rate"};
  }

  /// Sets `key` if it is a schedule option; nullopt if it is not one.
  std::optional<llvm::Error> set(Pass &pass, llvm::StringRef key,
                                 llvm::StringRef value) {
    if (key == "decay") {
      if (value != "step" && value != "cosine" && value != "none")
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "'" + pass.name() +
                "' option decay must be none, step or "
                "cosine, got '" +
                value + "'");
      decay = value == "none" ? "" : value.str();
      return llvm::Error::success();
    }
    for (auto [name, slot] :
         {std::pair{"warmup", &warmup}, std::pair{"decay_every", &every},
          std::pair{"decay_factor", &factor}, std::pair{"decay_steps", &steps},
          std::pair{"decay_alpha", &alpha}})
      if (key == name) {
        auto v = parseDoubleOption(pass, key, value);
        if (!v)
          return v.takeError();
        *slot = *v;
        return llvm::Error::success();
      }
    return std::nullopt;
  }

  /// Checks the options together, once all are set.
  llvm::Error check(const Pass &pass) const {
    auto fail = [&](const llvm::Twine &msg) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "'" + pass.name() + "' " + msg);
    };
    if (warmup < 0)
      return fail("warmup must not be negative");
    if (decay == "step" && (every < 1 || !(factor > 0)))
      return fail("decay=step needs decay_every >= 1 and decay_factor > 0");
    if (decay == "cosine" && (steps < 1 || alpha < 0 || alpha > 1))
      return fail("decay=cosine needs decay_steps >= 1 and decay_alpha in "
                  "[0, 1]");
    return llvm::Error::success();
  }

  /// The rate's factor at the step `step` (i32, from 0), as IR on scalars,
  /// so that the compiled update computes it from the step counter.
  Value *factorAt(Builder &b, Value *step) const {
    Value *s = b.cast(step, ElementType::F32);
    Value *factor = nullptr;
    auto times = [&](Value *v) { factor = factor ? b.mul(factor, v) : v; };
    Value *t = s;
    if (warmup > 0) {
      times(b.binary(OpKind::Min, b.scalar(1.0),
                     b.div(b.add(s, b.scalar(1.0)), b.scalar(warmup))));
      t = b.binary(OpKind::Max, b.scalar(0.0), b.sub(s, b.scalar(warmup)));
    }
    if (decay == "step") {
      // floor by truncation: t is never negative.
      Value *decays =
          b.cast(b.cast(b.div(t, b.scalar(every)), ElementType::I32),
                 ElementType::F32);
      times(b.pow(b.scalar(this->factor), decays));
    } else if (decay == "cosine") {
      Value *u =
          b.div(b.binary(OpKind::Min, t, b.scalar(steps)), b.scalar(steps));
      // cos(pi u) = -sin(w) with w = pi (u - 1/2) in [-pi/2, pi/2], where
      // sin's Taylor polynomial to degree 13 is off by less than 1e-9:
      // the IR has no cosine, and this is what a libm computes too.
      Value *w = b.mul(b.sub(u, b.scalar(0.5)), b.scalar(M_PI));
      Value *w2 = b.mul(w, w);
      Value *p = b.scalar(1.0 / 6227020800.0);
      for (double c : {-1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0,
                       1.0 / 120.0, -1.0 / 6.0, 1.0})
        p = b.add(b.mul(p, w2), b.scalar(c));
      Value *cosine = b.neg(b.mul(w, p));
      times(b.add(
          b.mul(b.scalar((1.0 - alpha) * 0.5), b.add(b.scalar(1.0), cosine)),
          b.scalar(alpha)));
    }
    factor->setName("lr.factor");
    return factor;
  }
};

/// What every optimizer does around its update rule: find the graphs with
/// gradients, take the gradients off their results, and let the rule append
/// the updates before the return.
class OptimizerPass : public Pass {
public:
  llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) override {
    if (llvm::Error err = schedule.check(*this)) {
      diag.error(Location(), llvm::toString(std::move(err)));
      return llvm::failure();
    }
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
  /// The learning rate's schedule, set through the pass's options.
  Schedule schedule;

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
/// to f32 would lose most of the decay's digits. With a schedule, the
/// product is also multiplied by the schedule's `factor`.
Value *decayed(Builder &b, Value *param, double lr, double decay,
               Value *factor = nullptr) {
  if (decay == 0.0)
    return param;
  Value *rate = b.scalar(lr * decay);
  if (factor)
    rate = b.mul(rate, factor);
  return b.sub(param, b.mul(rate, param));
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
                "  decoupled weight decay (AdamW)",
            Schedule::help()[0],
            Schedule::help()[1],
            Schedule::help()[2],
            Schedule::help()[3],
            Schedule::help()[4],
            Schedule::help()[5]};
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    if (std::optional<llvm::Error> set = schedule.set(*this, key, value))
      return std::move(*set);
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
    // The schedule reads the step before this update: 0 at the first.
    Value *factor = schedule.empty() ? nullptr : schedule.factorAt(b, step);
    // The rate, made where the constant lr was before schedules existed,
    // so that a run without one has the IR it had.
    auto rate = [&] {
      return factor ? b.mul(b.scalar(lr), factor) : b.scalar(lr);
    };
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
    Value *alpha =
        b.div(b.mul(rate(), b.sqrt(correction(beta2))), correction(beta1));
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
      Value *pNew = b.sub(decayed(b, pg.param, lr, weightDecay, factor), delta);
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
                "  decoupled weight decay",
            Schedule::help()[0],
            Schedule::help()[1],
            Schedule::help()[2],
            Schedule::help()[3],
            Schedule::help()[4],
            Schedule::help()[5]};
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    if (std::optional<llvm::Error> set = schedule.set(*this, key, value))
      return std::move(*set);
    return setNumericOption(
        {{"lr", &lr}, {"momentum", &momentum}, {"weight_decay", &weightDecay}},
        key, value);
  }

private:
  void update(Builder &b, llvm::ArrayRef<ParamGrad> pairs) override {
    Value *rate = b.scalar(lr);
    Value *factor = nullptr;
    if (!schedule.empty()) {
      // SGD keeps no step of its own; a schedule needs one.
      Value *step = b.state("sgd.step", TensorType(ElementType::I32, {}));
      b.assign(step, b.add(step, b.scalar(1.0, ElementType::I32)));
      factor = schedule.factorAt(b, step);
      rate = b.mul(rate, factor);
    }
    for (const ParamGrad &pg : pairs) {
      Value *scaled = b.mul(rate, pg.grad);
      Value *param = decayed(b, pg.param, lr, weightDecay, factor);
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
