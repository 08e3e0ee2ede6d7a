// The metrics file (--metrics) is JSON that any reader accepts, whatever
// the numbers in it.
#include "runtime/Training.h"

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
