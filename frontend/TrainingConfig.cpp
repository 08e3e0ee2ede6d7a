//===- TrainingConfig.cpp - How a model is trained ------------------------===//
#include "frontend/TrainingConfig.h"
#include "frontend/Arguments.h"
#include "frontend/Parser.h"
#include "frontend/Suggestions.h"
#include "ir/Attributes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace nnc {

using namespace ast;

static std::string number(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printFloat(os, v);
  return s;
}

static std::string quoted(llvm::StringRef text) {
  std::string s = "\"";
  llvm::raw_string_ostream os(s);
  os.write_escaped(text);
  os << "\"";
  return s;
}

std::string DatasetSpec::str() const {
  switch (kind) {
  case Kind::MNIST:
    return "mnist";
  case Kind::FashionMNIST:
    return "fashion_mnist";
  case Kind::IDX:
    return "idx(" + quoted(directory) + ")";
  case Kind::CSV:
  case Kind::NPY:
  case Kind::NPZ:
    break;
  }
  std::vector<std::string> args;
  auto add = [&](llvm::StringRef key, const std::string &value) {
    if (!value.empty())
      args.push_back((key.empty() ? "" : key + "=").str() + quoted(value));
  };
  add("", path);
  add("test", test);
  add("x", x);
  add("y", y);
  add("test_x", testX);
  add("test_y", testY);
  if (!target.empty()) {
    std::vector<std::string> columns;
    for (const auto &t : target)
      columns.push_back(std::holds_alternative<int64_t>(t)
                            ? std::to_string(std::get<int64_t>(t))
                            : quoted(std::get<std::string>(t)));
    args.push_back("target=" + (columns.size() == 1
                                    ? columns[0]
                                    : "[" + llvm::join(columns, ", ") + "]"));
  }
  if (delimiter)
    args.push_back("delimiter=" + quoted(std::string(1, *delimiter)));
  if (skip)
    args.push_back("skip=" + std::to_string(skip));
  if (header)
    args.push_back(std::string("header=") + (*header ? "true" : "false"));
  const char *callee = kind == Kind::CSV   ? "csv"
                       : kind == Kind::NPY ? "npy"
                                           : "npz";
  return std::string(callee) + "(" + llvm::join(args, ", ") + ")";
}

std::string OptimizerConfig::str() const {
  std::string decay =
      weightDecay != 0 ? ", weight_decay=" + number(weightDecay) : "";
  if (kind == Kind::SGD)
    return "sgd(lr=" + number(learningRate) + ", momentum=" + number(momentum) +
           decay + ")";
  return "adam(lr=" + number(learningRate) + ", beta1=" + number(beta1) +
         ", beta2=" + number(beta2) + ", eps=" + number(epsilon) + decay + ")";
}

void TrainingConfig::print(llvm::raw_ostream &os) const {
  os << "train {\n";
  os << "  data " << data.str() << "\n";
  os << "  optimizer " << optimizer.str() << "\n";
  os << "  batch " << batchSize << "\n";
  os << "  epochs " << epochs << "\n";
  os << "  seed " << seed << "\n";
  os << "  shuffle " << (shuffle ? "true" : "false") << "\n";
  // Settings most models leave alone are printed when set.
  if (validationSplit > 0)
    os << "  validation_split " << number(validationSplit) << "\n";
  if (splitSeed)
    os << "  split_seed " << splitSeed << "\n";
  if (standardize)
    os << "  standardize true\n";
  if (!optimizer.schedule.empty())
    os << "  lr_schedule " << optimizer.schedule.str() << "\n";
  if (earlyStopping)
    os << "  " << earlyStopping->str() << "\n";
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

llvm::Error checkWeightDecay(double decay) {
  if (!(decay >= 0) || !std::isfinite(decay))
    return rangeError("weight_decay must be non-negative and finite, got " +
                      number(decay));
  return llvm::Error::success();
}

llvm::Error checkValidationSplit(double fraction) {
  if (!(fraction > 0 && fraction < 1))
    return rangeError("validation_split must be between 0 and 1 "
                      "(exclusive), got " +
                      number(fraction));
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
  if (llvm::Error err = checkWeightDecay(opt.weightDecay))
    return err;
  if (config.validationSplit != 0)
    if (llvm::Error err = checkValidationSplit(config.validationSplit))
      return err;
  if (config.data.kind == DatasetSpec::Kind::IDX &&
      config.data.directory.empty())
    return rangeError("the IDX data directory must not be empty");
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Reading the train block
//===----------------------------------------------------------------------===//

std::vector<std::string> trainSettingNames() {
  return {"data",
          "optimizer",
          "batch",
          "epochs",
          "seed",
          "shuffle",
          "validation_split",
          "split_seed",
          "standardize",
          "lr_schedule",
          "early_stopping"};
}

namespace {

class TrainBlockReader {
public:
  /// `metrics` are the model's figures (`loss`, then its metrics), which
  /// early stopping may watch.
  explicit TrainBlockReader(DiagnosticEngine &diag,
                            std::vector<std::string> metrics = {"loss"})
      : diag(diag), constants(diag, std::nullopt), metrics(std::move(metrics)) {
  }

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
  std::vector<std::string> metrics;
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
  std::vector<std::string> known = {"mnist", "fashion_mnist", "idx",
                                    "csv",   "npy",           "npz"};
  if (!llvm::is_contained(known, callee)) {
    diag.error(e.loc(), "unknown data set '" + callee + "'" +
                            nn::didYouMean(callee, known) +
                            " (expected mnist, fashion_mnist, "
                            "idx(\"directory\"), csv(\"file.csv\"), "
                            "npy(x=\"x.npy\", y=\"y.npy\") or "
                            "npz(\"file.npz\"))");
    return;
  }
  nn::Signature sig{callee, {}};
  if (callee == "idx")
    sig.params = {{"directory"}};
  const std::vector<nn::ParamSpec> files = {
      {"x", false}, {"y", false}, {"test_x", false}, {"test_y", false}};
  if (callee == "csv") {
    sig.params = {{"path", false}, {"test", false}};
    sig.params.insert(sig.params.end(), files.begin(), files.end());
    for (const char *option : {"target", "delimiter", "skip", "header"})
      sig.params.push_back({option, false});
  } else if (callee == "npy") {
    sig.params = files;
  } else if (callee == "npz") {
    sig.params = {{"path"}};
    sig.params.insert(sig.params.end(), files.begin(), files.end());
  }
  auto args = nn::bindArguments(e, sig, diag);
  if (!args)
    return;
  if (callee == "mnist") {
    data = DatasetSpec{};
    return;
  }
  if (callee == "fashion_mnist") {
    data = DatasetSpec{};
    data.kind = DatasetSpec::Kind::FashionMNIST;
    return;
  }
  bool ok = true;
  // Reads the string argument `param`, if given, into `field`; non-empty.
  auto text = [&](llvm::StringRef param, std::string &field) {
    const Expr *arg = args->get(param);
    if (!arg)
      return;
    auto v = constants.string(*arg, "'" + param + "' of '" + callee + "'");
    if (!v) {
      ok = false;
    } else if (v->empty()) {
      diag.error(arg->loc(),
                 "'" + param + "' of '" + callee + "' must not be empty");
      ok = false;
    } else {
      field = *v;
    }
  };
  DatasetSpec result;
  if (callee == "idx") {
    result.kind = DatasetSpec::Kind::IDX;
    const Expr *dir = args->get("directory");
    auto v = constants.string(*dir, "the directory of 'idx'");
    if (!v)
      return;
    if (v->empty()) {
      diag.error(dir->loc(), "the IDX data directory must not be empty");
      return;
    }
    result.directory = *v;
    data = result;
    return;
  }
  result.kind = callee == "csv"   ? DatasetSpec::Kind::CSV
                : callee == "npy" ? DatasetSpec::Kind::NPY
                                  : DatasetSpec::Kind::NPZ;
  text("path", result.path);
  text("test", result.test);
  text("x", result.x);
  text("y", result.y);
  text("test_x", result.testX);
  text("test_y", result.testY);
  if (!ok)
    return;
  // Which files go together.
  if (callee == "csv" && result.path.empty() == result.x.empty()) {
    diag.error(e.loc(), result.path.empty()
                            ? "'csv' needs a file, as in csv(\"data.csv\"), "
                              "or features and targets, as in "
                              "csv(x=\"x.csv\", y=\"y.csv\")"
                            : "'csv' takes one table or x= and y=, not both");
    return;
  }
  if (callee == "npy" && result.x.empty()) {
    diag.error(e.loc(), "'npy' needs its arrays, as in npy(x=\"x.npy\", "
                        "y=\"y.npy\")");
    return;
  }
  if (!result.path.empty() &&
      (!result.testX.empty() || !result.testY.empty()) && callee == "csv") {
    diag.error(e.loc(), "a csv table's test split is test=\"test.csv\"; "
                        "test_x= and test_y= go with x= and y=");
    return;
  }
  if (!result.x.empty() && !result.test.empty()) {
    diag.error(e.loc(), "with x= and y=, the test split is test_x= and "
                        "test_y=");
    return;
  }
  if (result.testX.empty() != result.testY.empty() && callee != "npz") {
    diag.error(e.loc(), "test_x= and test_y= go together");
    return;
  }
  if (const Expr *t = args->get("target")) {
    std::vector<const Expr *> items;
    if (auto *list = llvm::dyn_cast<ast::ListExpr>(t))
      for (const ast::ExprPtr &item : list->getElements())
        items.push_back(item.get());
    else
      items.push_back(t);
    if (items.empty()) {
      diag.error(t->loc(), "'target' of 'csv' names no column");
      return;
    }
    for (const Expr *item : items) {
      if (auto *s = llvm::dyn_cast<ast::StringExpr>(item)) {
        result.target.push_back(s->getValue());
        continue;
      }
      auto index = constants.integer(
          *item, "'target' of 'csv' (a column number from 0, negative from "
                 "the end, or a column name)");
      if (!index)
        return;
      result.target.push_back(*index);
    }
  }
  if (const Expr *d = args->get("delimiter")) {
    auto v = constants.string(*d, "'delimiter' of 'csv'");
    if (!v)
      return;
    if (v->size() != 1 || *v == "\"" || *v == "\n" || *v == "\r") {
      diag.error(d->loc(), "the delimiter of 'csv' is one character other "
                           "than a quote or a line break (\" \" for runs "
                           "of spaces)");
      return;
    }
    result.delimiter = (*v)[0];
  }
  if (const Expr *k = args->get("skip")) {
    auto v = constants.integer(*k, "'skip' of 'csv'");
    if (!v)
      return;
    if (*v < 0) {
      diag.error(k->loc(), "'skip' of 'csv' must not be negative, got " +
                               llvm::Twine(*v));
      return;
    }
    result.skip = *v;
  }
  if (const Expr *h = args->get("header")) {
    auto v = constants.boolean(*h, "'header' of 'csv'");
    if (!v)
      return;
    result.header = *v;
  }
  data = std::move(result);
}

void TrainBlockReader::readOptimizer(const Expr &e, OptimizerConfig &opt) {
  std::string callee = calleeOf(e, "an optimizer", "adam(lr=1e-3)");
  if (callee.empty())
    return;
  OptimizerConfig result;
  nn::Signature sig{"", {}};
  if (callee == "adam" || callee == "adamw") {
    result.kind = OptimizerConfig::Kind::Adam;
    sig = {callee,
           {{"lr", false},
            {"beta1", false},
            {"beta2", false},
            {"eps", false},
            {"weight_decay", false}}};
    // AdamW is Adam with decoupled weight decay, Keras's default amount.
    if (callee == "adamw")
      result.weightDecay = 0.004;
  } else if (callee == "sgd") {
    result.kind = OptimizerConfig::Kind::SGD;
    sig = {"sgd",
           {{"lr", false}, {"momentum", false}, {"weight_decay", false}}};
  } else {
    diag.error(e.loc(), "unknown optimizer '" + callee + "'" +
                            nn::didYouMean(callee, {"adam", "adamw", "sgd"}) +
                            " (expected adam, adamw or sgd)");
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
  read("weight_decay", result.weightDecay, checkWeightDecay);
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
  if (key == "validation_split") {
    if (auto v = constants.number(value, "'validation_split'");
        v && check(checkValidationSplit(*v), value.loc()))
      config.validationSplit = *v;
    return;
  }
  if (key == "split_seed") {
    auto v = constants.integer(value, "'split_seed'");
    if (!v)
      return;
    if (*v < 0) {
      diag.error(value.loc(),
                 "the split seed must be non-negative, got " + llvm::Twine(*v));
      return;
    }
    config.splitSeed = uint64_t(*v);
    return;
  }
  if (key == "standardize") {
    if (auto v = constants.boolean(value, "'standardize'"))
      config.standardize = *v;
    return;
  }
  if (key == "lr_schedule") {
    if (auto s = readLearningRateSchedule(value, constants, diag))
      config.optimizer.schedule = *s;
    return;
  }
  if (key == "early_stopping") {
    if (auto s = readEarlyStopping(value, metrics, constants, diag))
      config.earlyStopping = *s;
    return;
  }
  std::vector<std::string> keys = trainSettingNames();
  std::string hint;
  static const llvm::StringRef optimizerKeys[] = {
      "lr", "beta1", "beta2", "eps", "momentum", "weight_decay"};
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
  // The figures early stopping may watch: the loss and the metrics.
  std::vector<std::string> metrics = {"loss"};
  if (file.model)
    for (const StmtPtr &stmt : file.model->body)
      if (auto *o = llvm::dyn_cast<ObjectiveStmt>(stmt.get()))
        if (o->isMetric() && o->getCall())
          metrics.push_back(o->getCall()->getCallee());
  TrainBlockReader reader(diag, std::move(metrics));
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

bool readTrainSetting(llvm::StringRef key, llvm::StringRef value,
                      llvm::StringRef source, TrainingConfig &config,
                      DiagnosticEngine &diag) {
  std::string text = (key + " " + value).str();
  unsigned id =
      diag.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, source));
  const llvm::MemoryBuffer *buffer = diag.sourceMgr().getMemoryBuffer(id);
  unsigned errorsBefore = diag.numErrors();
  nn::Parser parser(buffer->getBuffer(), source.str(), diag);
  auto settings = parser.parseTrainSettings();
  if (!settings)
    return false;
  if (settings->entries.size() != 1 || settings->entries[0].key != key) {
    diag.error(settings->entries.empty() ? settings->loc
                                         : settings->entries[1].loc,
               "expected one value for " + source);
    return false;
  }
  TrainBlockReader reader(diag);
  reader.read(settings->entries[0], config);
  return diag.numErrors() == errorsBefore;
}

} // namespace nnc
