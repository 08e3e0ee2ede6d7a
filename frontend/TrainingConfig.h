//===- TrainingConfig.h - How a model is trained ----------------*- C++ -*-===//
//
// The train block of a model file as a struct: the data set, the optimizer
// and its hyper-parameters, batch size, epochs, seed and shuffling. Where the
// file is silent, Keras's defaults apply: Adam(lr=1e-3, beta1=0.9,
// beta2=0.999, eps=1e-7), SGD(lr=0.01, momentum=0), batch 32 (Keras's
// `fit` default), 5 epochs (the Keras beginner tutorial's), seed 0, shuffled,
// MNIST. The driver applies command-line overrides to the struct and checks
// it again with checkTrainingConfig.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_TRAININGCONFIG_H
#define NNC_FRONTEND_TRAININGCONFIG_H

#include "frontend/AST.h"
#include "frontend/TrainingSchedules.h"
#include "ir/Diagnostics.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nnc {

/// Where the examples are, as a train block's `data` names them.
struct DatasetSpec {
  enum class Kind { MNIST, FashionMNIST, IDX, CSV, NPY, NPZ };
  Kind kind = Kind::MNIST;
  /// For IDX: the directory holding the four IDX files.
  std::string directory;
  /// CSV: the table of features and targets; NPZ: the archive.
  std::string path;
  /// CSV: the test table.
  std::string test;
  /// CSV and NPY: separate feature and target files (train and test); NPZ:
  /// the names of those arrays.
  std::string x, y, testX, testY;
  /// CSV: the target columns, by index (negative from the end) or header
  /// name; empty: the last column.
  std::vector<std::variant<int64_t, std::string>> target;
  /// CSV: the delimiter (' ' for runs of spaces; unset: detected), the
  /// lines skipped before the header, whether there is a header (unset:
  /// detected).
  std::optional<char> delimiter;
  int64_t skip = 0;
  std::optional<bool> header;

  /// `mnist`, `idx("dir")`, `csv("iris.csv", target=-1)`, as written in a
  /// train block.
  std::string str() const;
};

struct OptimizerConfig {
  enum class Kind { Adam, SGD };
  Kind kind = Kind::Adam;
  double learningRate = 1e-3;
  // Adam.
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-7;
  // SGD.
  double momentum = 0.0;
  /// Decoupled weight decay (AdamW's; for SGD the same): every step each
  /// parameter p also moves by -lr * weight_decay * p.
  double weightDecay = 0.0;
  /// The train block's `lr_schedule`: how the rate changes with the step.
  LearningRateSchedule schedule;

  /// `adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-07)`, without the
  /// schedule.
  std::string str() const;
};

struct TrainingConfig {
  DatasetSpec data;
  OptimizerConfig optimizer;
  int64_t batchSize = 32;
  int64_t epochs = 5;
  uint64_t seed = 0;
  bool shuffle = true;
  /// The fraction of the training data held out as the test split when
  /// the data has none, and the seed that chooses it.
  double validationSplit = 0;
  uint64_t splitSeed = 0;
  /// Standardise every f32 input with the mean and standard deviation of
  /// each feature over the training split (kept as state in the model).
  bool standardize = false;
  /// `early_stopping(...)`: stop when a figure stops improving.
  std::optional<EarlyStopping> earlyStopping;

  /// The config as a train block, one entry per line.
  void print(llvm::raw_ostream &os) const;
};

/// The default learning rate of each optimizer (Keras's).
double defaultLearningRate(OptimizerConfig::Kind kind);

// The ranges every setting must be in; each error says which and why.
llvm::Error checkBatchSize(int64_t batch);
llvm::Error checkEpochs(int64_t epochs);
llvm::Error checkLearningRate(double lr);
/// Adam's beta1 and beta2: in [0, 1).
llvm::Error checkBeta(llvm::StringRef name, double beta);
llvm::Error checkEpsilon(double eps);
llvm::Error checkMomentum(double momentum);
llvm::Error checkWeightDecay(double decay);
llvm::Error checkValidationSplit(double fraction);
/// All of the above.
llvm::Error checkTrainingConfig(const TrainingConfig &config);

/// Reads the file's train block (the defaults if it has none). Reports each
/// bad entry at its location and returns nullopt if there was any.
std::optional<TrainingConfig> readTrainingConfig(const ast::ModelFile &file,
                                                 DiagnosticEngine &diag);

/// Reads `value` as the train block's setting `key` would be read, onto
/// `config`: how the command line's --data and --optimizer take the block's
/// syntax. Errors are reported at the text, in a buffer named `source`
/// (the option, `--optimizer`); false after one.
bool readTrainSetting(llvm::StringRef key, llvm::StringRef value,
                      llvm::StringRef source, TrainingConfig &config,
                      DiagnosticEngine &diag);

} // namespace nnc

#endif // NNC_FRONTEND_TRAININGCONFIG_H
