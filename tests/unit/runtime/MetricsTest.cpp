// The metrics file (--metrics) is JSON that any reader accepts, whatever
// the numbers in it; the metrics finished over a data set match their
// definitions computed directly.
#include "runtime/Training.h"

#include "ir/Builder.h"
#include "runtime/Random.h"

#include "TestFiles.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <limits>

using namespace nnc;
using namespace nnc::test;

namespace {

llvm::json::Object readJson(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(bool(buffer)) << path;
  if (!buffer)
    return {};
  auto value = llvm::json::parse((*buffer)->getBuffer());
  EXPECT_TRUE(bool(value)) << llvm::toString(value.takeError()) << "\n"
                           << (*buffer)->getBuffer().str();
  if (!value || !value->getAsObject())
    return {};
  return *value->getAsObject();
}

TEST(Metrics, LossesThatOverflowedAreNull) {
  // A diverging model: the training loss is NaN after an epoch, the test
  // loss +inf. JSON has neither; LLVM's writer would print `inf`.
  TrainingReport report;
  EpochMetrics m;
  m.epoch = 1;
  m.steps = 3;
  m.trainLoss = std::numeric_limits<double>::quiet_NaN();
  m.trainAccuracy = 0.25;
  m.test = Evaluation{};
  m.test->loss = std::numeric_limits<double>::infinity();
  m.test->accuracy = 0.125;
  m.test->examples = 300;
  report.epochs.push_back(m);
  report.steps = 3;
  report.test = m.test;
  ScratchDir dir;
  std::string path = dir.path("metrics.json");
  ASSERT_FALSE(bool(writeMetrics(path, "diverging", 0.5, report)));
  llvm::json::Object root = readJson(path);
  ASSERT_NE(root.get("test_loss"), nullptr);
  EXPECT_EQ(root.get("test_loss")->kind(), llvm::json::Value::Null);
  EXPECT_EQ(root.getNumber("test_accuracy"), 0.125);
  const llvm::json::Array *epochs = root.getArray("epochs");
  ASSERT_TRUE(epochs && epochs->size() == 1);
  const llvm::json::Object *e = (*epochs)[0].getAsObject();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->get("train_loss")->kind(), llvm::json::Value::Null);
  EXPECT_EQ(e->getNumber("train_accuracy"), 0.25);
  EXPECT_EQ(e->get("test_loss")->kind(), llvm::json::Value::Null);
}

} // namespace

namespace {

/// A graph returning `loss` and the given statistics, for MetricSet.
std::unique_ptr<Graph>
graphReturning(llvm::ArrayRef<std::pair<std::string, TensorType>> results) {
  auto g = std::make_unique<Graph>("m");
  g->addArgument(TensorType(ElementType::F32, {4, 2}), "x");
  Builder b(*g);
  llvm::SmallVector<Value *, 4> values;
  std::vector<std::string> names;
  for (const auto &[name, type] : results) {
    values.push_back(b.constant(0.0, type));
    names.push_back(name);
  }
  b.ret(values, names);
  return g;
}

} // namespace

// Precision, recall, F1 and the confusion matrix finished from per-example
// statistics equal a direct count over the (true, predicted) pairs, and the
// macro average skips classes neither true nor predicted, as
// scikit-learn's does.
TEST(Metrics, ConfusionStatisticsMatchADirectCount) {
  const unsigned classes = 4;
  auto g = graphReturning(
      {{"loss", TensorType(ElementType::F32, {})},
       {"precision", TensorType(ElementType::F32, {classes, classes})},
       {"f1", TensorType(ElementType::F32, {classes, classes})}});
  auto set = MetricSet::fromGraph(*g);
  ASSERT_TRUE(bool(set)) << llvm::toString(set.takeError());
  // Class 3 never occurs. Pairs (true, predicted) of 23 examples.
  std::vector<std::pair<int, int>> pairs;
  SplitMix64 rng(7);
  for (int i = 0; i < 23; ++i)
    pairs.push_back({int(rng.next() % 3), int(rng.next() % 3)});
  // As the evaluation graph returns them: one row per example.
  MetricAccumulator sums(*set, 1);
  for (auto [t, p] : pairs) {
    std::vector<double> row(classes * classes, 0.0);
    row[t * classes + p] = 1;
    sums.add(0, std::vector<double>{0.5});
    sums.add(1, row);
    sums.add(2, row);
    sums.next();
  }
  MetricValues v = sums.finish();
  ASSERT_TRUE(v.classification);
  const ClassificationReport &r = *v.classification;
  double macroP = 0, macroR = 0, macroF = 0;
  for (unsigned c = 0; c < 3; ++c) {
    int tp = 0, predicted = 0, actual = 0;
    for (auto [t, p] : pairs) {
      tp += t == int(c) && p == int(c);
      predicted += p == int(c);
      actual += t == int(c);
    }
    double precision = predicted ? double(tp) / predicted : 0;
    double recall = actual ? double(tp) / actual : 0;
    double f1 = precision + recall > 0
                    ? 2 * precision * recall / (precision + recall)
                    : 0;
    EXPECT_DOUBLE_EQ(r.precision[c], precision) << c;
    EXPECT_DOUBLE_EQ(r.recall[c], recall) << c;
    EXPECT_DOUBLE_EQ(r.f1[c], f1) << c;
    EXPECT_EQ(r.support[c], actual);
    macroP += precision / 3;
    macroR += recall / 3;
    macroF += f1 / 3;
  }
  EXPECT_EQ(r.support[3], 0);
  EXPECT_NEAR(r.macroPrecision, macroP, 1e-15);
  EXPECT_NEAR(r.macroRecall, macroR, 1e-15);
  EXPECT_NEAR(r.macroF1, macroF, 1e-15);
  EXPECT_EQ(v.get("precision"), r.macroPrecision);
  EXPECT_EQ(v.get("f1"), r.macroF1);
  EXPECT_EQ(v.get("loss"), 0.5);
  EXPECT_EQ(v.examples, 23);
}

// A training step's results are batch means: the accumulated matrix times
// the batch counts each example once.
TEST(Metrics, BatchMeansCountEveryExampleOnce) {
  auto g = graphReturning({{"loss", TensorType(ElementType::F32, {})},
                           {"recall", TensorType(ElementType::F32, {2, 2})}});
  auto set = MetricSet::fromGraph(*g);
  ASSERT_TRUE(bool(set));
  MetricAccumulator sums(*set, 4);
  // Two batches of 4: (1,1) (1,1) (1,0) (0,0), then (0,0) x 3 and (1,1).
  sums.add(0, std::vector<double>{1.0});
  sums.add(1, std::vector<double>{0.25, 0, 0.25, 0.5});
  sums.next();
  sums.add(0, std::vector<double>{3.0});
  sums.add(1, std::vector<double>{0.75, 0, 0, 0.25});
  sums.next();
  MetricValues v = sums.finish();
  EXPECT_EQ(v.examples, 8);
  EXPECT_EQ(v.get("loss"), 2.0);
  const ClassificationReport &r = *v.classification;
  EXPECT_EQ(r.confusion, (std::vector<std::vector<int64_t>>{{4, 0}, {1, 3}}));
  // Two classes: the figure is the positive class's (scikit-learn's
  // average='binary'), 3 of its 4 examples.
  EXPECT_EQ(v.get("recall"), 0.75);
  EXPECT_EQ(r.accuracy, 7.0 / 8);
}

// R^2 from the sums of squared residuals, targets and squared targets is
// 1 - SS_res / SS_tot per output, averaged; a constant target is fitted
// perfectly (1) or not (0), as scikit-learn's r2_score has it.
TEST(Metrics, R2MatchesItsDefinition) {
  auto g = graphReturning({{"r2", TensorType(ElementType::F32, {3, 2})}});
  auto set = MetricSet::fromGraph(*g);
  ASSERT_TRUE(bool(set));
  MetricAccumulator sums(*set, 1);
  const double target[5][2] = {{1, 7}, {2, 7}, {4, 7}, {8, 7}, {16, 7}};
  const double pred[5][2] = {{1.5, 7}, {2, 7}, {3, 7}, {9, 7}, {15, 7}};
  for (int i = 0; i < 5; ++i) {
    std::vector<double> row(6);
    for (int d = 0; d < 2; ++d) {
      row[d] = (pred[i][d] - target[i][d]) * (pred[i][d] - target[i][d]);
      row[2 + d] = target[i][d];
      row[4 + d] = target[i][d] * target[i][d];
    }
    sums.add(0, row);
    sums.next();
  }
  MetricValues v = sums.finish();
  ASSERT_TRUE(v.regression);
  double mean = (1 + 2 + 4 + 8 + 16) / 5.0, ssTot = 0, ssRes = 0;
  for (int i = 0; i < 5; ++i) {
    ssTot += (target[i][0] - mean) * (target[i][0] - mean);
    ssRes += (target[i][0] - pred[i][0]) * (target[i][0] - pred[i][0]);
  }
  EXPECT_NEAR(v.regression->perOutput[0], 1 - ssRes / ssTot, 1e-12);
  EXPECT_EQ(v.regression->perOutput[1], 1.0);
  EXPECT_NEAR(*v.get("r2"), (1 - ssRes / ssTot + 1.0) / 2, 1e-12);
}

TEST(Metrics, StatisticsOfTheWrongShapeAreRefused) {
  auto g =
      graphReturning({{"precision", TensorType(ElementType::F32, {3, 2})}});
  auto set = MetricSet::fromGraph(*g);
  ASSERT_FALSE(bool(set));
  EXPECT_EQ(llvm::toString(set.takeError()),
            "graph '@m' returns 'precision' as f32[3,2], but the metric "
            "'precision' is a square f32[C, C] confusion statistic");
  auto vector = graphReturning({{"mae", TensorType(ElementType::F32, {2})}});
  auto mean = MetricSet::fromGraph(*vector);
  ASSERT_FALSE(bool(mean));
  EXPECT_EQ(llvm::toString(mean.takeError()),
            "graph '@m' returns 'mae' as f32[2], but the metric 'mae' is a "
            "mean, one number");
}
