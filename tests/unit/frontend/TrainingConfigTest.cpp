// The training configuration: Keras's defaults, the ranges of each setting,
// and reading a train block.
#include "frontend/Frontend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nnc;

namespace {

std::string errorOf(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : "";
}

std::optional<TrainingConfig> read(llvm::StringRef train,
                                   std::vector<std::string> *errors) {
  DiagnosticEngine diag;
  diag.setHandler([&](const Diagnostic &d) { errors->push_back(d.message); });
  std::string text = "model m {\n input x: f32[batch, 2]\n"
                     " loss mean_squared_error(x, 0)\n}\n" +
                     train.str();
  auto file = parseModelFile(text, "m.nn", diag);
  if (!file)
    return std::nullopt;
  return readTrainingConfig(*file, diag);
}

} // namespace

TEST(TrainingConfig, KerasDefaults) {
  TrainingConfig config;
  EXPECT_EQ(config.data.kind, DatasetSpec::Kind::MNIST);
  EXPECT_EQ(config.optimizer.kind, OptimizerConfig::Kind::Adam);
  EXPECT_DOUBLE_EQ(config.optimizer.learningRate, 1e-3);
  EXPECT_DOUBLE_EQ(config.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(config.optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(config.optimizer.epsilon, 1e-7);
  EXPECT_EQ(config.batchSize, 32);
  EXPECT_EQ(config.epochs, 5);
  EXPECT_EQ(config.seed, 0u);
  EXPECT_TRUE(config.shuffle);
  EXPECT_DOUBLE_EQ(defaultLearningRate(OptimizerConfig::Kind::SGD), 0.01);
  EXPECT_EQ(errorOf(checkTrainingConfig(config)), "");
}

TEST(TrainingConfig, Ranges) {
  EXPECT_EQ(errorOf(checkBatchSize(0)),
            "the batch size must be between 1 and 2147483647, got 0");
  EXPECT_EQ(errorOf(checkBatchSize(1)), "");
  EXPECT_EQ(errorOf(checkEpochs(-2)),
            "the number of epochs must be at least 1, got -2");
  EXPECT_EQ(errorOf(checkLearningRate(0)),
            "the learning rate must be positive and finite, got 0.0");
  EXPECT_NE(errorOf(checkLearningRate(std::numeric_limits<double>::infinity())),
            "");
  EXPECT_NE(errorOf(checkLearningRate(std::nan(""))), "");
  EXPECT_EQ(errorOf(checkBeta("beta1", 1.0)),
            "beta1 must be in [0, 1), got 1.0");
  EXPECT_EQ(errorOf(checkBeta("beta2", 0.0)), "");
  EXPECT_EQ(errorOf(checkEpsilon(-1e-8)),
            "eps must be positive and finite, got -1e-08");
  EXPECT_EQ(errorOf(checkMomentum(0.99)), "");
  EXPECT_EQ(errorOf(checkMomentum(-0.1)),
            "momentum must be in [0, 1), got -0.1");

  TrainingConfig config;
  config.optimizer.kind = OptimizerConfig::Kind::SGD;
  config.optimizer.momentum = 2;
  EXPECT_EQ(errorOf(checkTrainingConfig(config)),
            "momentum must be in [0, 1), got 2.0");
}

TEST(TrainingConfig, ReadsEverySetting) {
  std::vector<std::string> errors;
  auto config = read(R"(train {
    data idx("some/dir")
    optimizer sgd(0.05, momentum=0.5)
    batch 7
    epochs 3
    seed 123
    shuffle false
  })",
                     &errors);
  ASSERT_TRUE(config) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(config->data.kind, DatasetSpec::Kind::IDX);
  EXPECT_EQ(config->data.directory, "some/dir");
  EXPECT_EQ(config->optimizer.kind, OptimizerConfig::Kind::SGD);
  EXPECT_DOUBLE_EQ(config->optimizer.learningRate, 0.05);
  EXPECT_DOUBLE_EQ(config->optimizer.momentum, 0.5);
  EXPECT_EQ(config->batchSize, 7);
  EXPECT_EQ(config->epochs, 3);
  EXPECT_EQ(config->seed, 123u);
  EXPECT_FALSE(config->shuffle);
}

TEST(TrainingConfig, MissingBlockGivesDefaults) {
  std::vector<std::string> errors;
  auto config = read("", &errors);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->batchSize, 32);
  EXPECT_TRUE(errors.empty());
}

TEST(TrainingConfig, ReportsEachBadEntry) {
  std::vector<std::string> errors;
  auto config = read(
      "train {\n batch 0\n epochs 0\n optimizer adam(eps=0)\n}\n", &errors);
  EXPECT_FALSE(config);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0],
            "the batch size must be between 1 and 2147483647, got 0");
  EXPECT_EQ(errors[1], "the number of epochs must be at least 1, got 0");
  EXPECT_EQ(errors[2], "eps must be positive and finite, got 0.0");
}

TEST(TrainingConfig, PrintsAsATrainBlockThatReadsBack) {
  TrainingConfig config;
  config.data.kind = DatasetSpec::Kind::FashionMNIST;
  config.optimizer.learningRate = 0.0025;
  config.optimizer.beta2 = 0.98;
  config.batchSize = 64;
  config.seed = 5;
  std::string text;
  llvm::raw_string_ostream os(text);
  config.print(os);
  std::vector<std::string> errors;
  auto back = read(text, &errors);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(back->data.kind, DatasetSpec::Kind::FashionMNIST);
  EXPECT_DOUBLE_EQ(back->optimizer.learningRate, 0.0025);
  EXPECT_DOUBLE_EQ(back->optimizer.beta2, 0.98);
  EXPECT_EQ(back->batchSize, 64);
  EXPECT_EQ(back->seed, 5u);
}
