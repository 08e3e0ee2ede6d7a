// Data-set directories load and validate; batches convert x / 255 exactly;
// the epoch shuffle follows its specification; batch plans cover the data
// as documented; the synthetic data set is linearly separable.
#include "runtime/Dataset.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

using namespace nnc;
using namespace nnc::test;

namespace {

/// Labels i % numClasses and pixels (i * 31 + p) % 256 for a split.
struct SplitSpec {
  uint32_t count;
  uint32_t height = 4;
  uint32_t width = 3;
  unsigned numClasses = 10;
};

Bytes imagesOf(const SplitSpec &s) {
  Bytes b(size_t(s.count) * s.height * s.width);
  for (size_t i = 0; i < s.count; ++i)
    for (size_t p = 0; p < size_t(s.height) * s.width; ++p)
      b[i * s.height * s.width + p] = uint8_t((i * 31 + p) % 256);
  return b;
}

Bytes labelsOf(const SplitSpec &s) {
  Bytes b(s.count);
  for (size_t i = 0; i < s.count; ++i)
    b[i] = uint8_t(i % s.numClasses);
  return b;
}

/// Writes a data-set directory, each file gzip-compressed when `gzip`.
void writeDataset(const ScratchDir &dir, const SplitSpec &train,
                  const SplitSpec &test, bool gzip = false) {
  auto put = [&](const char *name, Bytes file) {
    if (gzip)
      writeFile(dir.path(std::string(name) + ".gz"), gzipBytes(file));
    else
      writeFile(dir.path(name), file);
  };
  put(kTrainImagesFile,
      encodeIdx({train.count, train.height, train.width}, imagesOf(train)));
  put(kTrainLabelsFile, encodeIdx({train.count}, labelsOf(train)));
  put(kTestImagesFile,
      encodeIdx({test.count, test.height, test.width}, imagesOf(test)));
  put(kTestLabelsFile, encodeIdx({test.count}, labelsOf(test)));
}

std::string loadError(const std::string &dir, unsigned numClasses = 10) {
  auto ds = loadDataset(DatasetSource{"test", dir, ""}, numClasses);
  if (ds)
    return "ok";
  return llvm::toString(ds.takeError());
}

/// Sets or unsets an environment variable for one scope.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (saved)
      setenv(name, saved->c_str(), 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> saved;
};

} // namespace

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST(Dataset, LoadsPlainAndGzipDirectories) {
  for (bool gzip : {false, true}) {
    ScratchDir dir;
    SplitSpec train{50}, test{20};
    writeDataset(dir, train, test, gzip);
    auto ds = loadDataset(DatasetSource{"toy", dir.path(), ""});
    ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
    EXPECT_EQ(ds->name(), "toy");
    EXPECT_EQ(ds->size(Split::Train), 50);
    EXPECT_EQ(ds->size(Split::Test), 20);
    EXPECT_EQ(ds->height(), 4);
    EXPECT_EQ(ds->width(), 3);
    EXPECT_EQ(ds->numClasses(), 10u);
    EXPECT_EQ(Bytes(ds->images(Split::Train).vec()), imagesOf(train));
    EXPECT_EQ(Bytes(ds->labels(Split::Test).vec()), labelsOf(test));
  }
}

TEST(Dataset, PrefersTheUncompressedFile) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  // A .gz beside the plain file that would not even parse.
  writeFile(dir.path(std::string(kTrainLabelsFile) + ".gz"), {0x1f, 0x8b, 1});
  EXPECT_EQ(loadError(dir.path()), "ok");
}

TEST(Dataset, MismatchedCountsNameBothFiles) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  writeFile(dir.path(kTestLabelsFile), encodeIdx({4}, {0, 1, 2, 3}));
  EXPECT_EQ(loadError(dir.path()),
            dir.path(kTestImagesFile) + " has 5 images but " +
                dir.path(kTestLabelsFile) + " has 4 labels");
}

TEST(Dataset, LabelsMustBeBelowTheClassCount) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  writeFile(dir.path(kTrainLabelsFile),
            encodeIdx({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 10}));
  EXPECT_EQ(loadError(dir.path()),
            dir.path(kTrainLabelsFile) +
                ": label 10 of example 9 is not below the 10 classes");
  EXPECT_EQ(loadError(dir.path(), 11), "ok");
  EXPECT_EQ(loadError(dir.path(), 0),
            "data set 'test': 0 classes: byte labels allow 1 to 256");
}

TEST(Dataset, SplitsMustHaveTheSameImageSize) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5, 3, 4});
  EXPECT_EQ(loadError(dir.path()), dir.path(kTestImagesFile) +
                                       " has 3x4 images but " +
                                       dir.path(kTrainImagesFile) + " has 4x3");
}

TEST(Dataset, FilesMustHaveTheExpectedRank) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  writeFile(dir.path(kTrainImagesFile), encodeIdx({10, 12}, Bytes(120)));
  EXPECT_EQ(loadError(dir.path()),
            dir.path(kTrainImagesFile) +
                ": expected images [count, height, width], found rank 2");
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  writeFile(dir.path(kTestLabelsFile), encodeIdx({5, 1}, Bytes(5)));
  EXPECT_EQ(loadError(dir.path()),
            dir.path(kTestLabelsFile) +
                ": expected labels [count], found rank 2");
}

TEST(Dataset, CorruptFilesAreNamed) {
  ScratchDir dir;
  writeDataset(dir, SplitSpec{10}, SplitSpec{5});
  Bytes images = encodeIdx({10, 4, 3}, imagesOf(SplitSpec{10}));
  images.resize(images.size() - 1);
  writeFile(dir.path(kTrainImagesFile), images);
  EXPECT_EQ(loadError(dir.path()),
            dir.path(kTrainImagesFile) +
                ": truncated: header promises 120 bytes of data, file has 119");
}

TEST(Dataset, MissingMnistNamesTheFileAndTheFetchCommand) {
  ScratchDir root;
  ScopedEnv env("NNC_DATA_DIR", nullptr);
  DatasetSource mnist = resolveDataset("mnist", root.path());
  EXPECT_EQ(mnist.directory, root.path("mnist"));

  auto absent = loadDataset("mnist", root.path());
  ASSERT_FALSE(bool(absent));
  std::string msg = llvm::toString(absent.takeError());
  EXPECT_NE(msg.find(root.path("mnist") + "/" + kTrainImagesFile),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("the directory " + root.path("mnist") + " does not exist"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("scripts/fetch-data.sh"), std::string::npos) << msg;

  // One file missing: exactly that one is named.
  ASSERT_FALSE(llvm::sys::fs::create_directory(root.path("mnist")));
  ScratchDir full;
  writeDataset(full, SplitSpec{10}, SplitSpec{5});
  for (const char *f : {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile})
    ASSERT_FALSE(
        llvm::sys::fs::copy_file(full.path(f), root.path("mnist") + "/" + f));
  auto incomplete = loadDataset("mnist", root.path());
  ASSERT_FALSE(bool(incomplete));
  EXPECT_EQ(llvm::toString(incomplete.takeError()),
            "data set 'mnist': missing " + root.path("mnist") + "/" +
                kTestLabelsFile +
                " (also as .gz); run scripts/fetch-data.sh to fetch MNIST");
}

TEST(Dataset, ResolvesNamesAndPaths) {
  {
    ScopedEnv env("NNC_DATA_DIR", "/srv/nnc-data");
    DatasetSource s = resolveDataset("mnist", "/repo/data");
    EXPECT_EQ(s.name, "mnist");
    EXPECT_EQ(s.directory, "/srv/nnc-data/mnist");
  }
  {
    ScopedEnv env("NNC_DATA_DIR", nullptr);
    EXPECT_EQ(resolveDataset("mnist", "/repo/data").directory,
              "/repo/data/mnist");
  }
  DatasetSource fashion = resolveDataset("fashion_mnist", "/repo/data");
  EXPECT_EQ(fashion.directory, "/usr/share/datasets/fashion-mnist");
  EXPECT_NE(fashion.fetchHint.find("dataset-fashion-mnist"), std::string::npos);
  DatasetSource path = resolveDataset("some/dir", "/repo/data");
  EXPECT_EQ(path.directory, "some/dir");
  EXPECT_EQ(path.fetchHint, "");
}

TEST(Dataset, CreateChecksItsParts) {
  ImageSplit train{2, Bytes(2 * 6), {0, 1}};
  ImageSplit test{1, Bytes(6), {1}};
  auto ok = ImageDataset::create("parts", 2, 3, 2, train, test);
  ASSERT_TRUE(bool(ok)) << llvm::toString(ok.takeError());
  EXPECT_EQ(ok->pixelsPerImage(), 6);

  auto shortImages = ImageDataset::create(
      "parts", 2, 3, 2, ImageSplit{2, Bytes(11), {0, 1}}, test);
  ASSERT_FALSE(bool(shortImages));
  EXPECT_EQ(llvm::toString(shortImages.takeError()),
            "data set 'parts': the train split has 11 image bytes, which is "
            "not 2 images of 2x3 pixels");
  auto badLabel = ImageDataset::create("parts", 2, 3, 2, train,
                                       ImageSplit{1, Bytes(6), {2}});
  ASSERT_FALSE(bool(badLabel));
  EXPECT_EQ(llvm::toString(badLabel.takeError()),
            "data set 'parts': test label 2 of example 0 is not below the 2 "
            "classes");
  auto empty = ImageDataset::create("parts", 2, 3, 2, train, ImageSplit{});
  ASSERT_FALSE(bool(empty));
  EXPECT_EQ(llvm::toString(empty.takeError()),
            "data set 'parts': the test split is empty");
}

//===----------------------------------------------------------------------===//
// Batches
//===----------------------------------------------------------------------===//

TEST(Dataset, FillBatchConvertsEveryByteExactly) {
  // One image per byte value pattern: image i holds bytes 64 * i .. 64 * i +
  // 63, so the four images cover 0..255.
  ImageSplit train{4, Bytes(256), {3, 1, 4, 1}};
  for (int v = 0; v < 256; ++v)
    train.images[v] = uint8_t(v);
  ImageSplit test{1, Bytes(64), {0}};
  auto ds = ImageDataset::create("bytes", 8, 8, 5, train, test);
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());

  std::vector<int64_t> indices = {2, 0, 3, 1};
  // One slot more than the batch, to see that nothing past it is written.
  std::vector<float> images(4 * 64 + 1, -1.0f);
  std::vector<int32_t> labels(5, -1);
  ds->fillBatch(Split::Train, indices, images.data(), labels.data());
  for (size_t b = 0; b < 4; ++b)
    for (int p = 0; p < 64; ++p) {
      float want = float(indices[b] * 64 + p) / 255.0f;
      float got = images[b * 64 + p];
      EXPECT_EQ(std::memcmp(&want, &got, sizeof(float)), 0)
          << "batch " << b << " pixel " << p;
    }
  EXPECT_EQ(images[0 * 64 + 0], float(128) / 255.0f);
  EXPECT_EQ(images[1 * 64 + 0], 0.0f);
  EXPECT_EQ(images[1 * 64 + 51], 0.2f);
  EXPECT_EQ(images[2 * 64 + 63], 1.0f);
  EXPECT_EQ(images[4 * 64], -1.0f);
  EXPECT_EQ(labels, std::vector<int32_t>({4, 3, 1, 1, -1}));

  // A batch from the test split, and of a different size.
  std::vector<int64_t> one = {0};
  ds->fillBatch(Split::Test, one, images.data(), labels.data());
  EXPECT_EQ(images[0], 0.0f);
  EXPECT_EQ(labels[0], 0);
}

TEST(Dataset, ThreadsFillTheirOwnPixels) {
  ImageSplit train{3, Bytes(3 * 40), {0, 1, 2}};
  for (int v = 0; v < 3 * 40; ++v)
    train.images[v] = uint8_t(2 * v + 1);
  ImageSplit test{1, Bytes(40), {0}};
  auto ds = ImageDataset::create("ranges", 5, 8, 3, train, test);
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  std::vector<int64_t> indices = {2, 0};
  std::vector<float> whole(2 * 40), parts(2 * 40, -1.0f);
  std::vector<int32_t> labels(2);
  ds->fillBatch(Split::Train, indices, whole.data(), labels.data());
  // Pixels [0, 17) and [17, 40), as two threads would.
  ds->fillImages(Split::Train, indices, parts.data(), 17, 40);
  for (int p = 0; p < 17; ++p)
    EXPECT_EQ(parts[p], -1.0f) << "pixel " << p << " written early";
  ds->fillImages(Split::Train, indices, parts.data(), 0, 17);
  EXPECT_EQ(parts, whole);
  std::vector<int32_t> only(2, -1);
  ds->fillLabels(Split::Train, indices, only.data());
  EXPECT_EQ(only, labels);
}

TEST(Dataset, TrainingUsesFullBatchesOnly) {
  auto mnist = trainingBatches(60000, 32);
  ASSERT_TRUE(bool(mnist));
  ASSERT_EQ(mnist->size(), 1875u);
  for (size_t i = 0; i < mnist->size(); ++i)
    EXPECT_EQ((*mnist)[i], (BatchRange{int64_t(i) * 32, int64_t(i) * 32 + 32}));

  auto partial = trainingBatches(100, 32);
  ASSERT_TRUE(bool(partial));
  ASSERT_EQ(partial->size(), 3u);
  EXPECT_EQ(partial->back(), (BatchRange{64, 96})); // 4 examples dropped

  auto zero = trainingBatches(100, 0);
  ASSERT_FALSE(bool(zero));
  EXPECT_EQ(llvm::toString(zero.takeError()), "batch size 0: must be positive");
  auto tooBig = trainingBatches(100, 101);
  ASSERT_FALSE(bool(tooBig));
  EXPECT_EQ(llvm::toString(tooBig.takeError()),
            "batch size 101 is larger than the 100 training examples: no full "
            "batch to train on");
}

TEST(Dataset, EvaluationCountsEveryExampleOnce) {
  for (auto [count, batch] : {std::pair<int64_t, int64_t>{10000, 32},
                              {10000, 1000},
                              {10000, 3},
                              {7, 10},
                              {1, 1}}) {
    auto batches = evaluationBatches(count, batch);
    ASSERT_TRUE(bool(batches));
    std::vector<int> seen(count, 0);
    int64_t next = 0;
    for (const BatchRange &r : *batches) {
      EXPECT_EQ(r.begin, next);
      next = r.end;
      for (int64_t i = r.begin; i < r.end; ++i)
        ++seen[i];
    }
    EXPECT_EQ(next, count);
    EXPECT_TRUE(
        std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    // All batches but possibly the last are full; the last is the remainder.
    for (size_t i = 0; i + 1 < batches->size(); ++i)
      EXPECT_EQ((*batches)[i].size(), batch);
    int64_t remainder = count % batch;
    EXPECT_EQ(batches->back().size(), remainder ? remainder : batch);
    EXPECT_EQ(int64_t(batches->size()), count / batch + (remainder ? 1 : 0));
  }
  auto mnist = evaluationBatches(10000, 32);
  ASSERT_TRUE(bool(mnist));
  EXPECT_EQ(mnist->size(), 313u);
  EXPECT_EQ(mnist->back(), (BatchRange{9984, 10000}));
  auto bad = evaluationBatches(10, -1);
  ASSERT_FALSE(bool(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()), "batch size -1: must be positive");
}

TEST(Dataset, EpochLoopsFillBatchesInOrder) {
  SyntheticOptions opts;
  opts.trainCount = 100;
  opts.testCount = 45;
  auto ds = makeSyntheticDataset(opts);
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  const int64_t batch = 16, pixels = ds->pixelsPerImage();
  // The compiled step's input buffers, reused by every batch.
  std::vector<float> images(batch * pixels);
  std::vector<int32_t> labels(batch);

  std::vector<int64_t> order = shuffledOrder(100, 5, 2);
  auto train = trainingBatches(100, batch);
  ASSERT_TRUE(bool(train));
  int64_t visited = 0;
  for (const BatchRange &r : *train) {
    ds->fillBatch(Split::Train, order, r, images.data(), labels.data());
    for (int64_t b = 0; b < r.size(); ++b) {
      int64_t example = order[r.begin + b];
      EXPECT_EQ(labels[b], ds->labels(Split::Train)[example]);
      EXPECT_EQ(images[b * pixels + 3],
                float(ds->images(Split::Train)[example * pixels + 3]) / 255.0f);
    }
    visited += r.size();
  }
  EXPECT_EQ(visited, 96);

  // Evaluation in file order sees every test label exactly once.
  std::vector<int64_t> inFile = fileOrder(45);
  auto eval = evaluationBatches(45, batch);
  ASSERT_TRUE(bool(eval));
  std::vector<int32_t> seen;
  for (const BatchRange &r : *eval) {
    ds->fillBatch(Split::Test, inFile, r, images.data(), labels.data());
    seen.insert(seen.end(), labels.begin(), labels.begin() + r.size());
  }
  llvm::ArrayRef<uint8_t> testLabels = ds->labels(Split::Test);
  EXPECT_EQ(seen, std::vector<int32_t>(testLabels.begin(), testLabels.end()));
}

//===----------------------------------------------------------------------===//
// The epoch shuffle
//===----------------------------------------------------------------------===//

TEST(Shuffle, SplitMix64MatchesItsReferenceOutputs) {
  // The published first outputs of SplitMix64 from state 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(rng.next(), 0x06C45D188009454Full);
}

TEST(Shuffle, IsADeterministicPermutationThatChangesEachEpoch) {
  std::vector<int64_t> e0 = shuffledOrder(60000, 7, 0);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, fileOrder(60000));
  EXPECT_EQ(shuffledOrder(60000, 7, 0), e0);
  EXPECT_NE(shuffledOrder(60000, 7, 1), e0);
  EXPECT_NE(shuffledOrder(60000, 8, 0), e0);
  EXPECT_NE(e0, fileOrder(60000));
  EXPECT_EQ(shuffledOrder(0, 7, 0), std::vector<int64_t>());
  EXPECT_EQ(shuffledOrder(1, 7, 0), std::vector<int64_t>({0}));
}

// Values computed with an independent Python implementation of the algorithm
// in docs/data.md (arbitrary-precision integers masked to 64 bits).
TEST(Shuffle, MatchesTheSpecification) {
  EXPECT_EQ(shuffledOrder(10, 42, 0),
            std::vector<int64_t>({7, 5, 8, 0, 9, 6, 2, 1, 4, 3}));
  EXPECT_EQ(shuffledOrder(10, 42, 1),
            std::vector<int64_t>({9, 0, 3, 8, 1, 2, 6, 7, 5, 4}));
  auto firstEight = [](uint64_t seed, uint64_t epoch) {
    std::vector<int64_t> order = shuffledOrder(60000, seed, epoch);
    return std::vector<int64_t>(order.begin(), order.begin() + 8);
  };
  EXPECT_EQ(firstEight(0, 0),
            std::vector<int64_t>(
                {12873, 42828, 28705, 851, 45150, 47736, 21000, 42110}));
  EXPECT_EQ(firstEight(0, 1),
            std::vector<int64_t>(
                {24552, 26546, 54589, 40728, 3944, 10832, 59386, 19665}));
  EXPECT_EQ(firstEight(12345, 7),
            std::vector<int64_t>(
                {29934, 19819, 16555, 53923, 54706, 6837, 45917, 23978}));
  std::vector<int64_t> wrapped = shuffledOrder(60000, ~uint64_t(0), 3);
  EXPECT_EQ(std::vector<int64_t>(wrapped.end() - 4, wrapped.end()),
            std::vector<int64_t>({26665, 51935, 20958, 41343}));
}

//===----------------------------------------------------------------------===//
// Synthetic data
//===----------------------------------------------------------------------===//

TEST(Synthetic, IsSeededAndShapedAsAsked) {
  SyntheticOptions opts;
  opts.trainCount = 300;
  opts.testCount = 70;
  opts.height = 5;
  opts.width = 6;
  opts.numClasses = 4;
  auto a = makeSyntheticDataset(opts);
  auto b = makeSyntheticDataset(opts);
  ASSERT_TRUE(bool(a) && bool(b));
  EXPECT_EQ(a->size(Split::Train), 300);
  EXPECT_EQ(a->size(Split::Test), 70);
  EXPECT_EQ(a->height(), 5);
  EXPECT_EQ(a->width(), 6);
  EXPECT_EQ(a->numClasses(), 4u);
  EXPECT_EQ(a->images(Split::Train), b->images(Split::Train));
  EXPECT_EQ(a->labels(Split::Test), b->labels(Split::Test));
  opts.seed = 2;
  auto c = makeSyntheticDataset(opts);
  ASSERT_TRUE(bool(c));
  EXPECT_NE(a->images(Split::Train), c->images(Split::Train));
  // Every class occurs.
  for (unsigned k = 0; k < 4; ++k)
    EXPECT_NE(std::count(a->labels(Split::Train).begin(),
                         a->labels(Split::Train).end(), uint8_t(k)),
              0);
}

TEST(Synthetic, IsLinearlySeparable) {
  auto ds = makeSyntheticDataset(SyntheticOptions{});
  ASSERT_TRUE(bool(ds)) << llvm::toString(ds.takeError());
  const int64_t pixels = ds->pixelsPerImage();
  const unsigned classes = ds->numClasses();
  // Learn which pixels belong to which class from the training split: a
  // pixel is bright exactly in the images of its class.
  std::vector<int> pixelClass(pixels, -1);
  llvm::ArrayRef<uint8_t> trainImages = ds->images(Split::Train);
  llvm::ArrayRef<uint8_t> trainLabels = ds->labels(Split::Train);
  for (int64_t i = 0; i < ds->size(Split::Train); ++i)
    for (int64_t p = 0; p < pixels; ++p)
      if (trainImages[i * pixels + p] >= 200)
        pixelClass[p] = trainLabels[i];
  // A linear classifier (class score = mean of that class's pixels) then
  // labels every test image correctly.
  llvm::ArrayRef<uint8_t> images = ds->images(Split::Test);
  llvm::ArrayRef<uint8_t> labels = ds->labels(Split::Test);
  int64_t correct = 0;
  for (int64_t i = 0; i < ds->size(Split::Test); ++i) {
    std::vector<double> sum(classes, 0.0), n(classes, 0.0);
    for (int64_t p = 0; p < pixels; ++p) {
      ASSERT_GE(pixelClass[p], 0);
      sum[pixelClass[p]] += images[i * pixels + p];
      n[pixelClass[p]] += 1;
    }
    unsigned best = 0;
    for (unsigned k = 1; k < classes; ++k)
      if (sum[k] / n[k] > sum[best] / n[best])
        best = k;
    correct += best == labels[i];
  }
  EXPECT_EQ(correct, ds->size(Split::Test));
}

TEST(Synthetic, RejectsImpossibleShapes) {
  SyntheticOptions opts;
  opts.height = 2;
  opts.width = 2;
  auto ds = makeSyntheticDataset(opts);
  ASSERT_FALSE(bool(ds));
  EXPECT_EQ(llvm::toString(ds.takeError()),
            "synthetic data set: 4 pixels cannot separate 10 classes");
  opts = SyntheticOptions{};
  opts.trainCount = 0;
  auto empty = makeSyntheticDataset(opts);
  ASSERT_FALSE(bool(empty));
  EXPECT_EQ(llvm::toString(empty.takeError()),
            "synthetic data set: 0 images of 64 pixels");
}
