//===- Metrics.cpp - Metrics finished over a whole data set ---------------===//
#include "runtime/Metrics.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cassert>
#include <cmath>

namespace nnc {

namespace {

bool isConfusionMetric(llvm::StringRef name) {
  return name == "precision" || name == "recall" || name == "f1" ||
         name == "confusion_matrix";
}

llvm::Error metricError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

ClassificationReport classificationOf(llvm::ArrayRef<double> sums, unsigned n) {
  ClassificationReport r;
  r.confusion.assign(n, std::vector<int64_t>(n, 0));
  for (unsigned t = 0; t < n; ++t)
    for (unsigned p = 0; p < n; ++p)
      // Each example adds a one: sums of ones in double are exact.
      r.confusion[t][p] = int64_t(std::llround(sums[t * n + p]));
  r.precision.assign(n, 0);
  r.recall.assign(n, 0);
  r.f1.assign(n, 0);
  r.support.assign(n, 0);
  int64_t total = 0, correct = 0;
  unsigned present = 0;
  for (unsigned c = 0; c < n; ++c) {
    int64_t predicted = 0;
    for (unsigned t = 0; t < n; ++t) {
      predicted += r.confusion[t][c];
      r.support[c] += r.confusion[c][t];
    }
    total += r.support[c];
    correct += r.confusion[c][c];
    double tp = double(r.confusion[c][c]);
    r.precision[c] = ratio(tp, double(predicted));
    r.recall[c] = ratio(tp, double(r.support[c]));
    r.f1[c] =
        ratio(2 * r.precision[c] * r.recall[c], r.precision[c] + r.recall[c]);
    if (predicted > 0 || r.support[c] > 0) {
      ++present;
      r.macroPrecision += r.precision[c];
      r.macroRecall += r.recall[c];
      r.macroF1 += r.f1[c];
    }
  }
  if (present) {
    r.macroPrecision /= present;
    r.macroRecall /= present;
    r.macroF1 /= present;
  }
  r.accuracy = ratio(double(correct), double(total));
  return r;
}

RegressionReport regressionOf(llvm::ArrayRef<double> sums, int64_t outputs,
                              int64_t count) {
  RegressionReport r;
  for (int64_t d = 0; d < outputs; ++d) {
    double ssRes = sums[d], sum = sums[outputs + d],
           sumSquares = sums[2 * outputs + d];
    double ssTot = count > 0 ? sumSquares - sum * sum / double(count) : 0;
    // scikit-learn's r2_score: a constant target is fitted perfectly (1) or
    // not at all (0).
    double value = ssTot > 0 ? 1 - ssRes / ssTot : (ssRes == 0 ? 1.0 : 0.0);
    r.perOutput.push_back(value);
    r.r2 += value;
  }
  if (outputs > 0)
    r.r2 /= double(outputs);
  return r;
}

} // namespace

double ClassificationReport::headline(llvm::StringRef metric) const {
  bool binary = numClasses() == 2;
  if (metric == "precision")
    return binary ? precision[1] : macroPrecision;
  if (metric == "recall")
    return binary ? recall[1] : macroRecall;
  if (metric == "f1")
    return binary ? f1[1] : macroF1;
  return accuracy;
}

void ClassificationReport::print(llvm::raw_ostream &os) const {
  os << llvm::formatv("{0,12} {1,10} {2,10} {3,10} {4,10}\n", "class",
                      "precision", "recall", "f1-score", "support");
  int64_t total = 0;
  for (unsigned c = 0; c < numClasses(); ++c) {
    os << llvm::formatv("{0,12} {1,10:F4} {2,10:F4} {3,10:F4} {4,10}\n", c,
                        precision[c], recall[c], f1[c], support[c]);
    total += support[c];
  }
  os << llvm::formatv("{0,12} {1,10:F4} {2,10:F4} {3,10:F4} {4,10}\n",
                      "macro avg", macroPrecision, macroRecall, macroF1, total);
  os << llvm::formatv("{0,12} {1,32:F4} {2,10}\n", "accuracy", accuracy, total);
  os << "confusion matrix (rows: true class, columns: predicted class):\n";
  int64_t widest = 1;
  for (const auto &row : confusion)
    for (int64_t v : row)
      widest = std::max<int64_t>(widest, std::to_string(v).size());
  widest = std::max<int64_t>(widest, std::to_string(numClasses()).size()) + 1;
  auto cell = [&](int64_t v) {
    return llvm::right_justify(std::to_string(v), unsigned(widest));
  };
  os.indent(widest + 1);
  for (unsigned p = 0; p < numClasses(); ++p)
    os << cell(p);
  os << "\n";
  for (unsigned t = 0; t < numClasses(); ++t) {
    os << cell(t) << " ";
    for (int64_t v : confusion[t])
      os << cell(v);
    os << "\n";
  }
}

llvm::json::Object ClassificationReport::toJSON() const {
  llvm::json::Array matrix;
  for (const auto &row : confusion)
    matrix.push_back(llvm::json::Array(row));
  return llvm::json::Object{
      {"classes", int64_t(numClasses())},
      {"support", llvm::json::Array(support)},
      {"precision", llvm::json::Array(precision)},
      {"recall", llvm::json::Array(recall)},
      {"f1", llvm::json::Array(f1)},
      {"macro_precision", macroPrecision},
      {"macro_recall", macroRecall},
      {"macro_f1", macroF1},
      {"accuracy", accuracy},
      {"confusion_matrix", std::move(matrix)},
  };
}

std::optional<double> MetricValues::get(llvm::StringRef name) const {
  for (const auto &[n, v] : scalars)
    if (n == name)
      return v;
  return std::nullopt;
}

int64_t MetricSet::Entry::size() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

llvm::Expected<MetricSet> MetricSet::fromGraph(const Graph &g,
                                               bool perExample) {
  MetricSet set;
  const Op *ret = g.terminator();
  if (!ret)
    return set;
  for (unsigned i = 0; i < ret->numOperands(); ++i) {
    std::string name =
        i < g.resultNames().size() ? g.resultNames()[i] : std::string();
    if (llvm::StringRef(name).starts_with("grad."))
      continue;
    const TensorType &type = ret->operand(i)->type();
    if (perExample && type.rank() == 0)
      return metricError("evaluation graph '@" + g.name() + "' returns '" +
                         name + "' as " + type.str() +
                         ", not one value per example");
    Shape shape(type.shape().drop_front(perExample ? 1 : 0));
    Entry e{name, i, Entry::Kind::Mean, shape};
    auto wrongShape = [&](const char *expected) {
      return metricError("graph '@" + g.name() + "' returns '" + name +
                         "' as " + type.str() + ", but the metric '" + name +
                         "' is " + expected);
    };
    if (isConfusionMetric(name)) {
      if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 1)
        return wrongShape("a square f32[C, C] confusion statistic");
      e.kind = Entry::Kind::Confusion;
    } else if (name == "r2") {
      if (shape.size() != 2 || shape[0] != 3)
        return wrongShape("an f32[3, outputs] statistic");
      e.kind = Entry::Kind::R2;
    } else if (!shape.empty()) {
      return wrongShape("a mean, one number");
    }
    set.list.push_back(std::move(e));
  }
  return set;
}

const MetricSet::Entry *MetricSet::lookup(llvm::StringRef name) const {
  for (const Entry &e : list)
    if (e.name == name)
      return &e;
  return nullptr;
}

MetricAccumulator::MetricAccumulator(const MetricSet &set,
                                     int64_t examplesPerValue)
    : set(set), perValue(examplesPerValue) {
  for (const MetricSet::Entry &e : set.entries())
    sums.emplace_back(e.size(), 0.0);
}

void MetricAccumulator::add(size_t k, llvm::ArrayRef<double> values,
                            int64_t n) {
  std::vector<double> &sum = sums[k];
  size_t width = sum.size();
  assert(values.size() >= width * size_t(n) && "too few values");
  for (int64_t r = 0; r < n; ++r)
    for (size_t j = 0; j < width; ++j)
      sum[j] += values[r * width + j];
}

llvm::Error MetricAccumulator::reduce(
    llvm::function_ref<llvm::Error(llvm::MutableArrayRef<double>)>
        sumOverRanks) {
  std::vector<double> all;
  for (const std::vector<double> &s : sums)
    all.insert(all.end(), s.begin(), s.end());
  all.push_back(double(values));
  if (llvm::Error err = sumOverRanks(all))
    return err;
  size_t at = 0;
  for (std::vector<double> &s : sums)
    for (double &v : s)
      v = all[at++];
  values = int64_t(std::llround(all[at]));
  return llvm::Error::success();
}

std::vector<double> MetricAccumulator::saveSums() const {
  std::vector<double> all;
  for (const std::vector<double> &s : sums)
    all.insert(all.end(), s.begin(), s.end());
  all.push_back(double(values));
  return all;
}

bool MetricAccumulator::restoreSums(llvm::ArrayRef<double> saved) {
  size_t width = 1;
  for (const std::vector<double> &s : sums)
    width += s.size();
  if (saved.size() != width)
    return false;
  size_t at = 0;
  for (std::vector<double> &s : sums)
    for (double &v : s)
      v = saved[at++];
  values = int64_t(std::llround(saved[at]));
  return true;
}

MetricValues MetricAccumulator::finish() const {
  MetricValues v;
  v.examples = examples();
  for (size_t k = 0; k < sums.size(); ++k) {
    const MetricSet::Entry &e = set.entries()[k];
    // The sums of the examples' statistics: each value added stood for
    // perValue examples.
    std::vector<double> totals = sums[k];
    for (double &t : totals)
      t *= double(perValue);
    switch (e.kind) {
    case MetricSet::Entry::Kind::Mean:
      // The mean of the values, not totals / examples: a training step's
      // mean loss averaged over the steps, bit for bit what the steps
      // printed.
      v.scalars.push_back({e.name, values ? sums[k][0] / double(values) : 0.0});
      break;
    case MetricSet::Entry::Kind::Confusion:
      if (!v.classification)
        v.classification = classificationOf(totals, unsigned(e.shape[0]));
      // A confusion matrix is no one number: it is printed after the
      // evaluation, and in the JSON as a whole.
      if (e.name != "confusion_matrix")
        v.scalars.push_back({e.name, v.classification->headline(e.name)});
      break;
    case MetricSet::Entry::Kind::R2:
      v.regression = regressionOf(totals, e.shape[1], examples());
      v.scalars.push_back({e.name, v.regression->r2});
      break;
    }
  }
  return v;
}

std::string formatMetric(llvm::StringRef name, double value) {
  if (name.ends_with("accuracy"))
    return llvm::formatv("{0} {1:P2}", name, value).str();
  return llvm::formatv("{0} {1:F4}", name, value).str();
}

} // namespace nnc
