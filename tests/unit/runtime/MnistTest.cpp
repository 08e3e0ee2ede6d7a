// The real data sets, when present: MNIST where scripts/fetch-data.sh puts it
// (NNC_MNIST_DIR) and Debian's Fashion-MNIST. Each test skips, saying why,
// when its files are absent.
#include "runtime/Dataset.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <array>
#include <numeric>

using namespace nnc;

namespace {

bool hasAllFiles(llvm::StringRef dir) {
  for (const char *name :
       {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile}) {
    llvm::SmallString<256> plain(dir), gz(dir);
    llvm::sys::path::append(plain, name);
    llvm::sys::path::append(gz, std::string(name) + ".gz");
    if (!llvm::sys::fs::exists(plain) && !llvm::sys::fs::exists(gz))
      return false;
  }
  return true;
}

std::array<int64_t, 10> classCounts(llvm::ArrayRef<uint8_t> labels) {
  std::array<int64_t, 10> counts{};
  for (uint8_t l : labels)
    ++counts[l];
  return counts;
}

uint64_t byteSum(llvm::ArrayRef<uint8_t> bytes) {
  return std::accumulate(bytes.begin(), bytes.end(), uint64_t(0));
}

} // namespace

TEST(RealData, Mnist) {
  if (!hasAllFiles(NNC_MNIST_DIR))
    GTEST_SKIP() << "MNIST is not in " << NNC_MNIST_DIR
                 << "; run scripts/fetch-data.sh to fetch it";
  auto ds = loadDataset(DatasetSource{"mnist", NNC_MNIST_DIR, ""});
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  EXPECT_EQ(ds->size(Split::Train), 60000);
  EXPECT_EQ(ds->size(Split::Test), 10000);
  EXPECT_EQ(ds->height(), 28);
  EXPECT_EQ(ds->width(), 28);

  llvm::ArrayRef<uint8_t> train = ds->labels(Split::Train);
  llvm::ArrayRef<uint8_t> test = ds->labels(Split::Test);
  EXPECT_EQ(train.take_front(10).vec(),
            std::vector<uint8_t>({5, 0, 4, 1, 9, 2, 1, 3, 1, 4}));
  EXPECT_EQ(train.take_back(3).vec(), std::vector<uint8_t>({5, 6, 8}));
  EXPECT_EQ(test.take_front(10).vec(),
            std::vector<uint8_t>({7, 2, 1, 0, 4, 1, 4, 9, 5, 9}));
  EXPECT_EQ(classCounts(train),
            (std::array<int64_t, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918,
                                     6265, 5851, 5949}));
  EXPECT_EQ(classCounts(test),
            (std::array<int64_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                     974, 1009}));
  EXPECT_EQ(byteSum(ds->images(Split::Train).take_front(784)), 27525u);
  EXPECT_EQ(byteSum(ds->images(Split::Test)), 264923200u);

  // The first training image's centre pixel, through a batch.
  std::vector<float> images(784);
  std::vector<int32_t> labels(1);
  std::vector<int64_t> first = {0};
  ds->fillBatch(Split::Train, first, images.data(), labels.data());
  EXPECT_EQ(images[14 * 28 + 14], 240.0f / 255.0f);
  EXPECT_EQ(labels[0], 5);
}

TEST(RealData, FashionMnist) {
  DatasetSource source = resolveDataset("fashion_mnist", "");
  if (!hasAllFiles(source.directory))
    GTEST_SKIP() << "Fashion-MNIST is not in " << source.directory
                 << "; install Debian's dataset-fashion-mnist";
  auto ds = loadDataset(source);
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  EXPECT_EQ(ds->size(Split::Train), 60000);
  EXPECT_EQ(ds->size(Split::Test), 10000);
  EXPECT_EQ(ds->height(), 28);
  EXPECT_EQ(ds->width(), 28);
  EXPECT_EQ(ds->labels(Split::Train).take_front(10).vec(),
            std::vector<uint8_t>({9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(ds->labels(Split::Test).take_front(10).vec(),
            std::vector<uint8_t>({9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  // Fashion-MNIST is balanced.
  std::array<int64_t, 10> perClass;
  perClass.fill(6000);
  EXPECT_EQ(classCounts(ds->labels(Split::Train)), perClass);
  EXPECT_EQ(byteSum(ds->images(Split::Train).take_front(784)), 76247u);
}
