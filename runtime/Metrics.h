//===- Metrics.h - Metrics finished over a whole data set -------*- C++ -*-===//
//
// A model's graph returns its loss and each metric as a mean over the batch
// of one statistic per example (frontend/Objectives.h). The runtime adds the
// statistics of every example it runs -- the evaluation graph's rows, or a
// training step's batch mean times the batch -- and finishes each metric
// once, over all of them, by the metric's name:
//
//   any scalar result             the mean over the examples (loss,
//                                 accuracy, top_5_accuracy, losses)
//   precision, recall, f1,        from the summed f32[C, C] statistic, the
//   confusion_matrix              confusion matrix (row: true class, column:
//                                 predicted): per class and macro-averaged,
//                                 as scikit-learn defines them
//   r2                            from the summed f32[3, D] statistic: 1 -
//                                 SS_res / SS_tot per output, averaged
//
// so that precision, recall, F1 and R^2, which are not means of anything
// per example, are still exact over the whole test set.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_METRICS_H
#define NNC_RUNTIME_METRICS_H

#include "ir/Graph.h"
#include "ir/HostTensor.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// Per-class figures of a classifier over a data set, from its confusion
/// matrix (scikit-learn's definitions; a ratio whose denominator is zero is
/// 0, as scikit-learn's zero_division=0).
struct ClassificationReport {
  /// counts[t][p]: examples of true class t predicted as p.
  std::vector<std::vector<int64_t>> confusion;
  std::vector<double> precision, recall, f1;
  std::vector<int64_t> support; ///< examples of each true class
  /// Unweighted means over the classes that occur, as true or predicted
  /// class (scikit-learn's macro average over the labels present).
  double macroPrecision = 0, macroRecall = 0, macroF1 = 0;
  double accuracy = 0;

  unsigned numClasses() const { return unsigned(confusion.size()); }
  /// A precision, recall or F1 as the metric of that name reports it: for
  /// two classes the positive class's (scikit-learn's average='binary',
  /// Keras's Precision), else the macro average.
  double headline(llvm::StringRef metric) const;

  /// The table scikit-learn's classification_report prints, then the
  /// confusion matrix.
  void print(llvm::raw_ostream &os) const;
  llvm::json::Object toJSON() const;
};

/// R^2 of each output column over a data set, and their mean.
struct RegressionReport {
  std::vector<double> perOutput;
  double r2 = 0;
};

/// The finished metrics of one pass over examples.
struct MetricValues {
  int64_t examples = 0;
  /// The scalar figure of each result, in the graph's order: the loss
  /// first, then each metric (for precision, recall and f1 their headline,
  /// for r2 the mean over outputs; a confusion matrix has none).
  std::vector<std::pair<std::string, double>> scalars;
  std::optional<ClassificationReport> classification;
  std::optional<RegressionReport> regression;

  /// The scalar figure named `name`, if any.
  std::optional<double> get(llvm::StringRef name) const;
};

/// How the metrics of a graph are summed and finished.
class MetricSet {
public:
  /// Reads the results of `g` and how each is finished: a training graph's
  /// results are batch means, an evaluation graph's (`perExample`) one row
  /// per example. Fails on a result whose name calls for a statistic of
  /// another shape. Gradients (`grad.*`) are not metrics.
  static llvm::Expected<MetricSet> fromGraph(const Graph &g,
                                             bool perExample = false);

  struct Entry {
    std::string name;
    unsigned result; ///< index among the graph's results
    enum class Kind { Mean, Confusion, R2 } kind;
    Shape shape; ///< of the statistic, without the batch
    int64_t size() const;
    bool isScalar() const { return shape.empty(); }
  };
  llvm::ArrayRef<Entry> entries() const { return list; }
  const Entry *lookup(llvm::StringRef name) const;

private:
  std::vector<Entry> list;
};

/// Sums of the metrics' statistics over examples.
class MetricAccumulator {
public:
  /// `examplesPerValue` is how many examples each added value stands for:
  /// the batch size when the values are a training step's batch means, 1
  /// when they are an evaluation graph's rows.
  MetricAccumulator(const MetricSet &set, int64_t examplesPerValue);

  /// Adds `n` values of entry `k`'s statistic, held one after the other.
  void add(size_t k, llvm::ArrayRef<double> values, int64_t n = 1);
  /// Counts `n` values of every entry as added.
  void next(int64_t n = 1) { values += n; }

  /// Replaces the sums by what `sumOverRanks` makes of them, element by
  /// element: in a data-parallel job, the sums of every rank's examples.
  llvm::Error
  reduce(llvm::function_ref<llvm::Error(llvm::MutableArrayRef<double>)>
             sumOverRanks);

  /// The sums and the count of values, to resume an epoch from
  /// (runtime/TrainingProgress.h), and back; restoreSums is false when
  /// `saved` is not of this set's size.
  std::vector<double> saveSums() const;
  bool restoreSums(llvm::ArrayRef<double> saved);

  /// The metrics over the examples added so far.
  MetricValues finish() const;
  int64_t examples() const { return values * perValue; }

private:
  const MetricSet &set;
  std::vector<std::vector<double>> sums; ///< per entry, its statistic
  int64_t perValue;
  int64_t values = 0;
};

/// `accuracy 92.33%` for fractions whose name says accuracy, else
/// `name 0.1234`.
std::string formatMetric(llvm::StringRef name, double value);

} // namespace nnc

#endif // NNC_RUNTIME_METRICS_H
