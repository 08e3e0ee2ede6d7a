//===- TrainingConfig.cpp - How a model is trained ------------------------===//
#include "frontend/TrainingConfig.h"
#include "frontend/Arguments.h"
#include "frontend/Suggestions.h"
#include "ir/Attributes.h"

#include "llvm/ADT/StringMap.h"

#include <cmath>

namespace nnc {

using namespace ast;

static std::string number(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printFloat(os, v);
  return s;
}

std::string DatasetSpec::str() const {
  switch (kind) {
  case Kind::MNIST:
    return "mnist";
  case Kind::FashionMNIST:
    return "fashion_mnist";
  case Kind::IDX: {
    std::string s = "idx(\"";
    llvm::raw_string_ostream os(s);
    os.write_escaped(directory);
    os << "\")";
    return s;
  }
  }
  return "?";
}

std::string OptimizerConfig::str() const {
  if (kind == Kind::SGD)
    return "sgd(lr=" + number(learningRate) + ", momentum=" + number(momentum) +
           ")";
  return "adam(lr=" + number(learningRate) + ", beta1=" + number(beta1) +
         ", beta2=" + number(beta2) + ", eps=" + number(epsilon) + ")";
}

void TrainingConfig::print(llvm::raw_ostream &os) const {
  os << "train {\n";
  os << "  data " << data.str() << "\n";
  os << "  optimizer " << optimizer.str() << "\n";
  os << "  batch " << batchSize << "\n";
  os << "  epochs " << epochs << "\n";
  os << "  seed " << seed << "\n";
  os << "  shuffle " << (shuffle ? "true" : "false") << "\n";
  os << "}\n";
}

double defaultLearningRate(OptimizerConfig::Kind kind) {
  return kind == OptimizerConfig::Kind::SGD ? 0.01 : 1e-3;
}

//===----------------------------------------------------------------------===//
// Ranges
//===----------------------------------------------------------------------===//

static llvm::Error rangeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::Error checkBatchSize(int64_t batch) {
  if (batch < 1 || batch > INT32_MAX)
    return rangeError("the batch size must be between 1 and " +
                      llvm::Twine(INT32_MAX) + ", got " + llvm::Twine(batch));
  return llvm::Error::success();
}

llvm::Error checkEpochs(int64_t epochs) {
  if (epochs < 1)
    return rangeError("the number of epochs must be at least 1, got " +
                      llvm::Twine(epochs));
  return llvm::Error::success();
}

llvm::Error checkLearningRate(double lr) {
  if (!(lr > 0) || !std::isfinite(lr))
    return rangeError("the learning rate must be positive and finite, got " +
                      number(lr));
  return llvm::Error::success();
}

llvm::Error checkBeta(llvm::StringRef name, double beta) {
  if (!(beta >= 0 && beta < 1))
    return rangeError(name + " must be in [0, 1), got " + number(beta));
  return llvm::Error::success();
}

llvm::Error checkEpsilon(double eps) {
  if (!(eps > 0) || !std::isfinite(eps))
    return rangeError("eps must be positive and finite, got " + number(eps));
  return llvm::Error::success();
}

llvm::Error checkMomentum(double momentum) {
  if (!(momentum >= 0 && momentum < 1))
    return rangeError("momentum must be in [0, 1), got " + number(momentum));
  return llvm::Error::success();
}

llvm::Error checkTrainingConfig(const TrainingConfig &config) {
  const OptimizerConfig &opt = config.optimizer;
  if (llvm::Error err = checkBatchSize(config.batchSize))
    return err;
  if (llvm::Error err = checkEpochs(config.epochs))
    return err;
  if (llvm::Error err = checkLearningRate(opt.learningRate))
    return err;
  if (opt.kind == OptimizerConfig::Kind::Adam) {
    if (llvm::Error err = checkBeta("beta1", opt.beta1))
      return err;
    if (llvm::Error err = checkBeta("beta2", opt.beta2))
      return err;
    if (llvm::Error err = checkEpsilon(opt.epsilon))
      return err;
  } else if (llvm::Error err = checkMomentum(opt.momentum)) {
    return err;
  }
  if (config.data.kind == DatasetSpec::Kind::IDX &&
      config.data.directory.empty())
    return rangeError("the IDX data directory must not be empty");
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Reading the train block
//===----------------------------------------------------------------------===//

namespace {

class TrainBlockReader {
public:
  explicit TrainBlockReader(DiagnosticEngine &diag)
      : diag(diag), constants(diag, std::nullopt) {}

  void read(const TrainEntry &entry, TrainingConfig &config);

private:
  void readData(const Expr &e, DatasetSpec &data);
  void readOptimizer(const Expr &e, OptimizerConfig &opt);
  /// Reports `err` at `at`; true if there was none.
  bool check(llvm::Error err, const Location &at) {
    if (!err)
      return true;
    diag.error(at, llvm::toString(std::move(err)));
    return false;
  }
  /// The callee of `data mnist` / `data idx("dir")`, or "" after an error.
  std::string calleeOf(const Expr &e, const char *what, const char *example);

  DiagnosticEngine &diag;
  nn::ConstantReader constants;
};

std::string TrainBlockReader::calleeOf(const Expr &e, const char *what,
                                       const char *example) {
  if (auto *name = llvm::dyn_cast<NameExpr>(&e))
    return name->getName();
  if (auto *call = llvm::dyn_cast<CallExpr>(&e))
    return call->getCallee();
  diag.error(e.loc(), "expected " + llvm::Twine(what) + " such as " + example +
                          ", got " + nn::describeExpr(e));
  return "";
}

void TrainBlockReader::readData(const Expr &e, DatasetSpec &data) {
  std::string callee = calleeOf(e, "a data set", "mnist");
  if (callee.empty())
    return;
  std::vector<std::string> known = {"mnist", "fashion_mnist", "idx"};
  if (!llvm::is_contained(known, callee)) {
    diag.error(e.loc(), "unknown data set '" + callee + "'" +
                            nn::didYouMean(callee, known) +
                            " (expected mnist, fashion_mnist or "
                            "idx(\"directory\"))");
    return;
  }
  nn::Signature sig{callee, {}};
  if (callee == "idx")
    sig.params.push_back({"directory"});
  auto args = nn::bindArguments(e, sig, diag);
  if (!args)
    return;
  if (callee == "mnist") {
    data = DatasetSpec{DatasetSpec::Kind::MNIST, ""};
  } else if (callee == "fashion_mnist") {
    data = DatasetSpec{DatasetSpec::Kind::FashionMNIST, ""};
  } else {
    auto dir =
        constants.string(*args->get("directory"), "the directory of 'idx'");
    if (!dir)
      return;
    if (dir->empty()) {
      diag.error(args->get("directory")->loc(),
                 "the IDX data directory must not be empty");
      return;
    }
    data = DatasetSpec{DatasetSpec::Kind::IDX, *dir};
  }
}

void TrainBlockReader::readOptimizer(const Expr &e, OptimizerConfig &opt) {
  std::string callee = calleeOf(e, "an optimizer", "adam(lr=1e-3)");
  if (callee.empty())
    return;
  OptimizerConfig result;
  nn::Signature sig{"", {}};
  if (callee == "adam") {
    result.kind = OptimizerConfig::Kind::Adam;
    sig = {"adam",
           {{"lr", false}, {"beta1", false}, {"beta2", false}, {"eps", false}}};
  } else if (callee == "sgd") {
    result.kind = OptimizerConfig::Kind::SGD;
    sig = {"sgd", {{"lr", false}, {"momentum", false}}};
  } else {
    diag.error(e.loc(), "unknown optimizer '" + callee + "'" +
                            nn::didYouMean(callee, {"adam", "sgd"}) +
                            " (expected adam or sgd)");
    return;
  }
  result.learningRate = defaultLearningRate(result.kind);
  auto args = nn::bindArguments(e, sig, diag);
  if (!args)
    return;
  bool ok = true;
  // Reads one hyper-parameter, if given, and checks its range.
  auto read = [&](llvm::StringRef name, double &field,
                  llvm::function_ref<llvm::Error(double)> checkRange) {
    const Expr *arg = args->get(name);
    if (!arg)
      return;
    auto v = constants.number(*arg, "'" + name + "' of '" + callee + "'");
    if (!v || !check(checkRange(*v), arg->loc())) {
      ok = false;
      return;
    }
    field = *v;
  };
  read("lr", result.learningRate, checkLearningRate);
  if (result.kind == OptimizerConfig::Kind::Adam) {
    read("beta1", result.beta1, [](double v) { return checkBeta("beta1", v); });
    read("beta2", result.beta2, [](double v) { return checkBeta("beta2", v); });
    read("eps", result.epsilon, checkEpsilon);
  } else {
    read("momentum", result.momentum, checkMomentum);
  }
  if (ok)
    opt = result;
}

void TrainBlockReader::read(const TrainEntry &entry, TrainingConfig &config) {
  const Expr &value = *entry.value;
  llvm::StringRef key = entry.key;
  if (key == "data")
    return readData(value, config.data);
  if (key == "optimizer")
    return readOptimizer(value, config.optimizer);
  if (key == "batch") {
    if (auto v = constants.integer(value, "'batch'");
        v && check(checkBatchSize(*v), value.loc()))
      config.batchSize = *v;
    return;
  }
  if (key == "epochs") {
    if (auto v = constants.integer(value, "'epochs'");
        v && check(checkEpochs(*v), value.loc()))
      config.epochs = *v;
    return;
  }
  if (key == "seed") {
    auto v = constants.integer(value, "'seed'");
    if (!v)
      return;
    if (*v < 0) {
      diag.error(value.loc(),
                 "the seed must be non-negative, got " + llvm::Twine(*v));
      return;
    }
    config.seed = uint64_t(*v);
    return;
  }
  if (key == "shuffle") {
    if (auto v = constants.boolean(value, "'shuffle'"))
      config.shuffle = *v;
    return;
  }
  std::vector<std::string> keys = {"data",   "optimizer", "batch",
                                   "epochs", "seed",      "shuffle"};
  std::string hint;
  static const llvm::StringRef optimizerKeys[] = {"lr", "beta1", "beta2", "eps",
                                                  "momentum"};
  if (llvm::is_contained(optimizerKeys, key))
    hint = "; '" + key.str() +
           "' belongs to the optimizer, as in 'optimizer "
           "adam(" +
           key.str() + "=...)'";
  else
    hint = nn::didYouMean(key, keys);
  diag.error(entry.loc, "unknown train setting '" + key + "'" + hint +
                            " (expected " + nn::joinAlternatives(keys) + ")");
}

} // namespace

std::optional<TrainingConfig> readTrainingConfig(const ModelFile &file,
                                                 DiagnosticEngine &diag) {
  TrainingConfig config;
  if (!file.train)
    return config;
  unsigned errorsBefore = diag.numErrors();
  TrainBlockReader reader(diag);
  llvm::StringMap<Location> seen;
  for (const TrainEntry &entry : file.train->entries) {
    auto [it, inserted] = seen.try_emplace(entry.key, entry.loc);
    if (!inserted) {
      diag.error(entry.loc, "'" + entry.key + "' is given twice");
      diag.note(it->second, "the first one is here");
      continue;
    }
    reader.read(entry, config);
  }
  if (diag.numErrors() > errorsBefore)
    return std::nullopt;
  return config;
}

} // namespace nnc
