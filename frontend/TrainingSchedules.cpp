//===- TrainingSchedules.cpp - Learning-rate schedules, early stopping ----===//
#include "frontend/TrainingSchedules.h"
#include "frontend/Suggestions.h"
#include "ir/Attributes.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

namespace nnc {

using namespace ast;

namespace {

std::string number(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printFloat(os, v);
  return s;
}

} // namespace

std::string LearningRateSchedule::str() const {
  std::string warm = warmup ? "warmup=" + std::to_string(warmup) : "";
  switch (decay) {
  case Decay::None:
    return warmup ? "warmup(" + std::to_string(warmup) + ")" : "";
  case Decay::Step:
    return "step(every=" + std::to_string(every) +
           ", factor=" + number(factor) + (warm.empty() ? "" : ", " + warm) +
           ")";
  case Decay::Cosine:
    return "cosine(decay_steps=" + std::to_string(decaySteps) +
           ", alpha=" + number(alpha) + (warm.empty() ? "" : ", " + warm) + ")";
  }
  return "";
}

double LearningRateSchedule::factorAt(int64_t step) const {
  double f = 1, t = double(step);
  if (warmup > 0) {
    f = std::min(1.0, double(step + 1) / double(warmup));
    t = std::max(0.0, t - double(warmup));
  }
  switch (decay) {
  case Decay::None:
    break;
  case Decay::Step:
    f *= std::pow(factor, std::floor(t / double(every)));
    break;
  case Decay::Cosine: {
    double u = std::min(t, double(decaySteps)) / double(decaySteps);
    f *= (1 - alpha) * 0.5 * (1 + std::cos(M_PI * u)) + alpha;
    break;
  }
  }
  return f;
}

std::string EarlyStopping::str() const {
  return "early_stopping(monitor=" + monitor +
         ", patience=" + std::to_string(patience) +
         (minDelta != 0 ? ", min_delta=" + number(minDelta) : "") +
         ", restore_best=" + (restoreBest ? "true" : "false") + ")";
}

bool higherIsBetter(llvm::StringRef monitor) {
  for (llvm::StringRef better : {"accuracy", "precision", "recall", "f1", "r2"})
    if (monitor.ends_with(better))
      return true;
  return false;
}

std::optional<LearningRateSchedule>
readLearningRateSchedule(const Expr &e, nn::ConstantReader &constants,
                         DiagnosticEngine &diag) {
  std::string callee;
  if (auto *call = llvm::dyn_cast<CallExpr>(&e))
    callee = call->getCallee();
  static const std::vector<std::string> known = {"step", "cosine", "warmup"};
  if (!llvm::is_contained(known, callee)) {
    diag.error(e.loc(),
               (callee.empty() ? "expected a learning-rate schedule"
                               : "unknown learning-rate schedule '" + callee +
                                     "'" + nn::didYouMean(callee, known)) +
                   " (expected step(every=N, factor=F), cosine(decay_steps=N, "
                   "alpha=A) or warmup(N))");
    return std::nullopt;
  }
  nn::Signature sig{"", {}};
  if (callee == "step")
    sig = {"step", {{"every", true}, {"factor", true}, {"warmup", false}}};
  else if (callee == "cosine")
    sig = {"cosine",
           {{"decay_steps", true}, {"alpha", false}, {"warmup", false}}};
  else
    sig = {"warmup", {{"steps", true}}};
  auto args = nn::bindArguments(e, sig, diag);
  if (!args)
    return std::nullopt;
  bool ok = true;
  // Reads an argument, if given, and checks its range at its location.
  auto integer = [&](llvm::StringRef name, int64_t least, int64_t &field) {
    const Expr *arg = args->get(name);
    if (!arg)
      return;
    auto v = constants.integer(*arg, "'" + name + "' of '" + callee + "'");
    if (!v) {
      ok = false;
      return;
    }
    if (*v < least) {
      diag.error(arg->loc(), "'" + name + "' of '" + callee +
                                 "' must be at least " + llvm::Twine(least) +
                                 ", got " + llvm::Twine(*v));
      ok = false;
      return;
    }
    field = *v;
  };
  auto real = [&](llvm::StringRef name, double &field,
                  llvm::function_ref<bool(double)> inRange,
                  llvm::StringRef range) {
    const Expr *arg = args->get(name);
    if (!arg)
      return;
    auto v = constants.number(*arg, "'" + name + "' of '" + callee + "'");
    if (!v) {
      ok = false;
      return;
    }
    if (!std::isfinite(*v) || !inRange(*v)) {
      diag.error(arg->loc(), "'" + name + "' of '" + callee + "' must be " +
                                 range + ", got " + number(*v));
      ok = false;
      return;
    }
    field = *v;
  };
  LearningRateSchedule s;
  if (callee == "step") {
    s.decay = LearningRateSchedule::Decay::Step;
    integer("every", 1, s.every);
    real(
        "factor", s.factor, [](double v) { return v > 0; }, "positive");
    integer("warmup", 0, s.warmup);
  } else if (callee == "cosine") {
    s.decay = LearningRateSchedule::Decay::Cosine;
    integer("decay_steps", 1, s.decaySteps);
    real(
        "alpha", s.alpha, [](double v) { return v >= 0 && v <= 1; },
        "in [0, 1]");
    integer("warmup", 0, s.warmup);
  } else {
    integer("steps", 1, s.warmup);
  }
  if (!ok)
    return std::nullopt;
  return s;
}

std::optional<EarlyStopping>
readEarlyStopping(const Expr &e, llvm::ArrayRef<std::string> metrics,
                  nn::ConstantReader &constants, DiagnosticEngine &diag) {
  nn::Signature sig{"early_stopping",
                    {{"monitor", false},
                     {"patience", false},
                     {"min_delta", false},
                     {"restore_best", false}}};
  auto *call = llvm::dyn_cast<CallExpr>(&e);
  if (!call || call->getCallee() != "early_stopping") {
    diag.error(e.loc(), "expected early_stopping(monitor=test_loss, "
                        "patience=N, restore_best=true)");
    return std::nullopt;
  }
  auto args = nn::bindArguments(e, sig, diag);
  if (!args)
    return std::nullopt;
  EarlyStopping result;
  result.monitor = "test_loss";
  std::vector<std::string> monitors;
  for (const std::string &m : metrics) {
    monitors.push_back("test_" + m);
    monitors.push_back("train_" + m);
  }
  if (const Expr *m = args->get("monitor")) {
    std::string name;
    if (auto *n = llvm::dyn_cast<NameExpr>(m))
      name = n->getName();
    else if (auto s = constants.string(*m, "'monitor' of 'early_stopping'"))
      name = *s;
    else
      return std::nullopt;
    if (!llvm::is_contained(monitors, name)) {
      diag.error(m->loc(), "'monitor' of 'early_stopping' must name a figure "
                           "of the model: '" +
                               name + "' is none" +
                               nn::didYouMean(name, monitors) + " (expected " +
                               nn::joinAlternatives(monitors) + ")");
      return std::nullopt;
    }
    result.monitor = name;
  }
  if (const Expr *p = args->get("patience")) {
    auto v = constants.integer(*p, "'patience' of 'early_stopping'");
    if (!v)
      return std::nullopt;
    if (*v < 1) {
      diag.error(p->loc(), "'patience' of 'early_stopping' must be at least "
                           "1 epoch, got " +
                               llvm::Twine(*v));
      return std::nullopt;
    }
    result.patience = *v;
  } else {
    result.patience = 1;
  }
  if (const Expr *d = args->get("min_delta")) {
    auto v = constants.number(*d, "'min_delta' of 'early_stopping'");
    if (!v)
      return std::nullopt;
    if (!(*v >= 0) || !std::isfinite(*v)) {
      diag.error(d->loc(), "'min_delta' of 'early_stopping' must be "
                           "non-negative, got " +
                               number(*v));
      return std::nullopt;
    }
    result.minDelta = *v;
  }
  if (const Expr *r = args->get("restore_best")) {
    auto v = constants.boolean(*r, "'restore_best' of 'early_stopping'");
    if (!v)
      return std::nullopt;
    result.restoreBest = *v;
  }
  return result;
}

} // namespace nnc
