//===- DataLoading.h - From a data description to a data set ----*- C++ -*-===//
//
// A train block's `data` names where the examples are; the model says what
// one example is: the shape of its input and the type and shape of its label
// (and, for class labels, how many classes there are). loadData reads the
// files, converts every value to what the model takes and checks it, so
// that every mismatch is an error naming the file, the column or array, and
// both shapes, before anything is compiled:
//
//   mnist, fashion_mnist, idx("dir")   the four IDX files of a directory
//   csv("file.csv", target=-1)         one table, the target column(s) and
//                                      the feature columns
//   csv(x="x.csv", y="y.csv")          features and targets in two tables
//   npy(x="x.npy", y="y.npy")          NumPy arrays, the first axis the
//                                      examples
//   npz("file.npz", x="x", y="y")      arrays of a NumPy archive
//
// The test split is given (`test="t.csv"`, `test_x=...`, the t10k files of
// an IDX directory) or held out from the training data (validation_split).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_DATALOADING_H
#define NNC_RUNTIME_DATALOADING_H

#include "runtime/Dataset.h"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nnc {

/// Where the examples are: the runtime's mirror of the train block's
/// `data` (frontend/TrainingConfig.h), which tools translate.
struct DataSource {
  enum class Kind { MNIST, FashionMNIST, IDX, CSV, NPY, NPZ };
  Kind kind = Kind::MNIST;
  /// IDX: the directory. CSV: the table of features and targets. NPZ: the
  /// archive.
  std::string path;
  /// CSV: the test table, of the same layout.
  std::string test;
  /// CSV and NPY: features and targets in files of their own; NPZ: the
  /// names of the arrays (default "x" and "y").
  std::string x, y, testX, testY;
  /// CSV: the target columns of a table holding both, by index (negative
  /// from the end) or by header name; the last column by default.
  std::vector<std::variant<int64_t, std::string>> targetColumns;
  /// CSV: see CsvOptions.
  std::optional<char> delimiter;
  int64_t skipRows = 0;
  std::optional<bool> header;
  /// The fraction of the training data held out as the test split, for
  /// data without one; 0 for none.
  double validationSplit = 0;
  uint64_t splitSeed = 0;
};

/// What one example must be for the model.
struct DataRequest {
  std::string inputName = "x";
  Shape featureShape; ///< the input's shape without the batch
  /// The label's name and per-example type, when the model has one.
  std::string labelName = "y";
  std::optional<TensorType> target;
  /// For i32 labels, the number of classes they index, when the model says
  /// (its cross-entropy's logits, its one_hot's depth): labels must be
  /// below it.
  std::optional<int64_t> numClasses;
};

/// Reads, converts and checks the data. `defaultDataRoot` is where `mnist`
/// lives without NNC_DATA_DIR.
llvm::Expected<std::unique_ptr<Dataset>>
loadData(const DataSource &source, const DataRequest &request,
         llvm::StringRef defaultDataRoot);

/// The source as the train block spells it, for messages.
std::string describeSource(const DataSource &source);

} // namespace nnc

#endif // NNC_RUNTIME_DATALOADING_H
