// Data sets of arrays as a model asks for them: CSV tables and NumPy
// arrays become f32 features and i32 or f32 targets; every mismatch with
// the model names the file, the column or element, and both sides; the
// held-out split is the documented permutation; standardisation statistics
// are each feature's population mean and deviation.
#include "runtime/ArrayDataset.h"
#include "runtime/CsvFile.h"
#include "runtime/DataLoading.h"
#include "runtime/NpyFile.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace nnc;
using namespace nnc::test;

namespace {

void writeText(const std::string &path, llvm::StringRef text) {
  writeFile(path, llvm::ArrayRef(reinterpret_cast<const uint8_t *>(text.data()),
                                 text.size()));
}

DataRequest classifier(int64_t features, int64_t classes) {
  DataRequest r;
  r.featureShape = {features};
  r.target = TensorType(ElementType::I32, {});
  r.numClasses = classes;
  return r;
}

DataRequest regression(int64_t features) {
  DataRequest r;
  r.featureShape = {features};
  r.target = TensorType(ElementType::F32, {1});
  return r;
}

std::string errorOf(const DataSource &source, const DataRequest &request) {
  auto data = loadData(source, request, "/nonexistent");
  if (data)
    return "ok";
  return llvm::toString(data.takeError());
}

class ArrayData : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveCsvSupport())
      GTEST_SKIP() << "nnc was built without libcsv (scripts/bootstrap.sh "
                      "installs libcsv-dev)";
  }
  ScratchDir dir;
};

} // namespace

TEST_F(ArrayData, CsvTableWithATestTable) {
  writeText(dir.path("train.csv"), "a,b,label\n1,2,0\n3,4,2\n5,6,1\n");
  writeText(dir.path("test.csv"), "a,b,label\n7,8,1\n");
  DataSource s;
  s.kind = DataSource::Kind::CSV;
  s.path = dir.path("train.csv");
  s.test = dir.path("test.csv");
  s.targetColumns = {std::string("label")};
  auto data = loadData(s, classifier(2, 3), "/nonexistent");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  const Dataset &d = **data;
  EXPECT_EQ(d.size(Split::Train), 3);
  EXPECT_EQ(d.size(Split::Test), 1);
  EXPECT_EQ(d.featuresPerExample(), 2);
  float x[4];
  int32_t y[2];
  int64_t rows[] = {2, 0};
  d.fillFeatures(Split::Train, rows, x, 0, 2);
  d.fillTargets(Split::Train, rows, y);
  EXPECT_EQ(std::vector<float>(x, x + 4), (std::vector<float>{5, 6, 1, 2}));
  EXPECT_EQ(std::vector<int32_t>(y, y + 2), (std::vector<int32_t>{1, 0}));
  // A thread's share of the columns, at a row stride of its own.
  float share[6] = {-1, -1, -1, -1, -1, -1};
  d.fillFeatures(Split::Train, rows, share, 1, 2, 3);
  EXPECT_EQ(share[1], 6);
  EXPECT_EQ(share[4], 2);
  EXPECT_EQ(share[0], -1);
}

TEST_F(ArrayData, MismatchesNameTheFileAndBothSides) {
  writeText(dir.path("t.csv"), "1,2,3,0\n4,5,6,3\n7,8,9,1.5\n");
  DataSource s;
  s.kind = DataSource::Kind::CSV;
  s.path = dir.path("t.csv");
  s.validationSplit = 0.5;
  EXPECT_EQ(errorOf(s, classifier(4, 3)),
            dir.path("t.csv") +
                ": 3 values per example (3 columns (1, 2, 3 of 4)), but the "
                "model's input 'x' takes 4 per example (f32[batch, 4])");
  EXPECT_EQ(errorOf(s, classifier(3, 3)),
            dir.path("t.csv") + ": row 2, column 4: the class 3 is not below "
                                "the model's 3 classes");
  EXPECT_EQ(errorOf(s, classifier(3, 4)),
            dir.path("t.csv") + ": row 3, column 4: 1.5 is not a class index, "
                                "but the model's label 'y' is i32; declare "
                                "it f32 for values");
  // As f32 targets, the same table is fine.
  EXPECT_EQ(errorOf(s, regression(3)), "ok");
  DataRequest two = regression(2);
  two.target = TensorType(ElementType::F32, {2});
  s.targetColumns = {int64_t(-1), int64_t(0)};
  EXPECT_EQ(errorOf(s, two), "ok");
  s.targetColumns = {int64_t(7)};
  EXPECT_EQ(errorOf(s, regression(3)),
            dir.path("t.csv") + ": target column 7 is out of range: the "
                                "table has 4 columns");
  s.targetColumns = {std::string("price")};
  EXPECT_EQ(errorOf(s, regression(3)),
            dir.path("t.csv") + ": no column named \"price\" (the table has "
                                "no header row)");
  // No test split and no validation_split.
  s.targetColumns.clear();
  s.validationSplit = 0;
  EXPECT_EQ(errorOf(s, regression(3)),
            "csv(\"" + dir.path("t.csv") +
                "\") has no test split: name one (test=, or test_x= and "
                "test_y=) or hold one out of the training data with "
                "'validation_split 0.2' in the train block");
}

TEST_F(ArrayData, NumpyArraysOfFeaturesAndTargets) {
  float x[6] = {1, 2, 3, 4, 5, 6};
  double y[3] = {0.5, 1.5, 2.5};
  int64_t yShort[2] = {0, 1};
  ASSERT_FALSE(
      bool(writeNpyFile(dir.path("x.npy"), ElementType::F32, {3, 2}, x)));
  ASSERT_FALSE(
      bool(writeNpyFile(dir.path("y.npy"), ElementType::F64, {3, 1}, y)));
  ASSERT_FALSE(
      bool(writeNpyFile(dir.path("y2.npy"), ElementType::I32, {2}, yShort)));
  DataSource s;
  s.kind = DataSource::Kind::NPY;
  s.x = dir.path("x.npy");
  s.y = dir.path("y.npy");
  s.testX = dir.path("x.npy");
  s.testY = dir.path("y.npy");
  auto data = loadData(s, regression(2), "/nonexistent");
  ASSERT_TRUE(bool(data)) << llvm::toString(data.takeError());
  float targets[3];
  int64_t all[] = {0, 1, 2};
  (*data)->fillTargets(Split::Test, all, targets);
  EXPECT_EQ(std::vector<float>(targets, targets + 3),
            (std::vector<float>{0.5, 1.5, 2.5}));
  s.y = dir.path("y2.npy");
  EXPECT_EQ(errorOf(s, regression(2)), dir.path("x.npy") +
                                           " has 3 examples but " +
                                           dir.path("y2.npy") + " has 2");
  s.y = dir.path("y.npy");
  EXPECT_EQ(errorOf(s, classifier(2, 4)),
            dir.path("y.npy") + ": element [0, 0]: 0.5 is not a class index, "
                                "but the model's label 'y' is i32; declare "
                                "it f32 for values");
  EXPECT_EQ(errorOf(s, regression(3)),
            dir.path("x.npy") + ": 2 values per example (float32 (3, 2)), "
                                "but the model's input 'x' takes 3 per "
                                "example (f32[batch, 3])");
}

// The held-out split is docs/data.md's: the last examples of
// epoch_order(n, split_seed, 2^64 - 1), each split in file order; the
// same seed gives the same split, and the two are disjoint and complete.
TEST(ArrayDatasetSplit, ValidationSplitIsTheDocumentedPermutation) {
  ArraySplit all;
  all.count = 10;
  for (int i = 0; i < 10; ++i) {
    all.features.push_back(float(i));
    all.values.push_back(float(10 * i));
  }
  auto parts = splitForValidation(all, 1, 1, 0.25, 42);
  ASSERT_TRUE(bool(parts)) << llvm::toString(parts.takeError());
  // floor(10 * 0.75) = 7 train, 3 held out.
  ASSERT_EQ(parts->first.count, 7);
  ASSERT_EQ(parts->second.count, 3);
  std::vector<int64_t> order = shuffledOrder(10, 42, ~uint64_t(0));
  std::set<float> held(order.begin() + 7, order.end());
  std::set<float> got(parts->second.features.begin(),
                      parts->second.features.end());
  EXPECT_EQ(got, held);
  EXPECT_TRUE(std::is_sorted(parts->first.features.begin(),
                             parts->first.features.end()));
  for (size_t i = 0; i < parts->first.features.size(); ++i)
    EXPECT_EQ(parts->first.values[i], 10 * parts->first.features[i]);
  auto again = splitForValidation(all, 1, 1, 0.25, 42);
  EXPECT_EQ(again->second.features, parts->second.features);
  auto other = splitForValidation(all, 1, 1, 0.25, 43);
  EXPECT_NE(other->second.features, parts->second.features);
  auto none = splitForValidation(all, 1, 1, 0.95, 0);
  ASSERT_FALSE(bool(none));
  EXPECT_EQ(llvm::toString(none.takeError()),
            "validation_split 0.95 of 10 examples leaves 0 to train on and "
            "10 to test on; both need at least one");
}

TEST(ArrayDatasetSplit, StandardisationStatistics) {
  ArraySplit train, test;
  train.count = 4;
  train.features = {1, 5, 2, 5, 3, 5, 6, 5};
  train.values = {0, 0, 0, 0};
  test.count = 1;
  test.features = {100, 100};
  test.values = {0};
  auto ds = nnc::ArrayDataset::create(
      "d", {2}, TensorType(ElementType::F32, {1}), train, test);
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  FeatureStatistics s = computeFeatureStatistics(*ds, Split::Train);
  EXPECT_DOUBLE_EQ(s.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(s.stddev[0], std::sqrt((4 + 1 + 0 + 9) / 4.0));
  // A constant feature is centred, not scaled.
  EXPECT_DOUBLE_EQ(s.mean[1], 5.0);
  EXPECT_DOUBLE_EQ(s.stddev[1], 1.0);
}
