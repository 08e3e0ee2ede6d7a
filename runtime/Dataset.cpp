//===- Dataset.cpp - Image-classification data sets and batching ----------===//
#include "runtime/Dataset.h"

#include <cstring>

#include "runtime/IdxFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <array>
#include <cassert>
#include <cstdlib>
#include <numeric>
#include <optional>

namespace nnc {

llvm::StringRef splitName(Split split) {
  return split == Split::Train ? "train" : "test";
}

int64_t Dataset::featuresPerExample() const {
  int64_t n = 1;
  for (int64_t d : featureShape())
    n *= d;
  return n;
}

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The first label of `labels` that is not below `numClasses`, if any.
std::optional<int64_t> firstBadLabel(llvm::ArrayRef<uint8_t> labels,
                                     unsigned numClasses) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= numClasses)
      return int64_t(i);
  return std::nullopt;
}

llvm::Error checkNumClasses(unsigned numClasses) {
  if (numClasses == 0 || numClasses > 256)
    return makeError(
        llvm::formatv("{0} classes: byte labels allow 1 to 256", numClasses));
  return llvm::Error::success();
}

} // namespace

llvm::Expected<ImageDataset>
ImageDataset::create(llvm::StringRef name, int64_t height, int64_t width,
                     unsigned numClasses, ImageSplit train, ImageSplit test) {
  if (llvm::Error e = checkNumClasses(numClasses))
    return makeError("data set '" + name + "': " + toString(std::move(e)));
  if (height <= 0 || width <= 0)
    return makeError(llvm::formatv("data set '{0}': images of {1}x{2} pixels",
                                   name, height, width));
  for (Split split : {Split::Train, Split::Test}) {
    const ImageSplit &s = split == Split::Train ? train : test;
    llvm::StringRef which = splitName(split);
    if (s.count <= 0)
      return makeError(
          llvm::formatv("data set '{0}': the {1} split is empty", name, which));
    int64_t need = 0;
    if (__builtin_mul_overflow(s.count, height, &need) ||
        __builtin_mul_overflow(need, width, &need) ||
        int64_t(s.images.size()) != need)
      return makeError(llvm::formatv("data set '{0}': the {1} split has {2} "
                                     "image bytes, which is not {3} images of "
                                     "{4}x{5} pixels",
                                     name, which, s.images.size(), s.count,
                                     height, width));
    if (int64_t(s.labels.size()) != s.count)
      return makeError(llvm::formatv("data set '{0}': the {1} split has {2} "
                                     "images but {3} labels",
                                     name, which, s.count, s.labels.size()));
    if (auto bad = firstBadLabel(s.labels, numClasses))
      return makeError(llvm::formatv("data set '{0}': {1} label {2} of example "
                                     "{3} is not below the {4} classes",
                                     name, which, unsigned(s.labels[*bad]),
                                     *bad, numClasses));
  }
  ImageDataset ds;
  ds.datasetName = name.str();
  ds.imageHeight = height;
  ds.imageWidth = width;
  ds.classes = numClasses;
  ds.train = std::move(train);
  ds.test = std::move(test);
  for (Split split : {Split::Train, Split::Test}) {
    ImageSplit &s = split == Split::Train ? ds.train : ds.test;
    AlignedBuffer &pixels =
        split == Split::Train ? ds.trainPixels : ds.testPixels;
    auto buffer = AlignedBuffer::allocate(
        s.images.size(), llvm::formatv("the {0} {1} images of data set '{2}'",
                                       s.count, splitName(split), name)
                             .str());
    if (!buffer)
      return buffer.takeError();
    pixels = std::move(*buffer);
    std::memcpy(pixels.data(), s.images.data(), s.images.size());
    // Frees the bytes: assigning {} would keep the vector's capacity, 47 MB
    // for MNIST's training images.
    std::vector<uint8_t>().swap(s.images);
  }
  return ds;
}

namespace {

// Pixels become x / 255 rounded once (as a division would round it), for
// x in 0..255. With FMA, q = x * (1/255) and one correction step by the
// residual x - 255 q give that exactly (DatasetTest checks all 256 values)
// at a fraction of a vector division's cost; the compiler's default target
// has no FMA, so the code comes in per-target versions, chosen once.
using ScaleBytes = void (*)(const uint8_t *src, float *dst, int64_t n);

void scaleBytesByDivision(const uint8_t *src, float *dst, int64_t n) {
  for (int64_t p = 0; p < n; ++p)
    dst[p] = float(src[p]) / 255.0f;
}

#define NNC_SCALE_BYTES_WITH_FMA                                               \
  constexpr float inverse = 1.0f / 255.0f;                                     \
  for (int64_t p = 0; p < n; ++p) {                                            \
    float x = float(src[p]);                                                   \
    float q = x * inverse;                                                     \
    dst[p] = __builtin_fmaf(__builtin_fmaf(-q, 255.0f, x), inverse, q);        \
  }

__attribute__((target("avx2,fma"))) void scaleBytesAvx2(const uint8_t *src,
                                                        float *dst, int64_t n) {
  NNC_SCALE_BYTES_WITH_FMA
}

__attribute__((
    target("avx512f,avx512bw,avx512vl,fma,prefer-vector-width=512"))) void
scaleBytesAvx512(const uint8_t *src, float *dst,
                 int64_t n){NNC_SCALE_BYTES_WITH_FMA}
#undef NNC_SCALE_BYTES_WITH_FMA

ScaleBytes scaleBytes() {
  static const ScaleBytes best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
      return &scaleBytesAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return &scaleBytesAvx2;
    return &scaleBytesByDivision;
  }();
  return best;
}

} // namespace

void ImageDataset::fillBatch(Split split, llvm::ArrayRef<int64_t> indices,
                             float *images, int32_t *labels) const {
  fillImages(split, indices, images, 0, pixelsPerImage());
  fillLabels(split, indices, labels);
}

void ImageDataset::fillImages(Split split, llvm::ArrayRef<int64_t> indices,
                              float *images, int64_t pixelBegin,
                              int64_t pixelEnd, int64_t rowStride) const {
  const int64_t pixels = pixelsPerImage();
  if (rowStride == 0)
    rowStride = pixels;
  assert(0 <= pixelBegin && pixelBegin <= pixelEnd && pixelEnd <= pixels);
  const uint8_t *all = this->images(split).data();
  ScaleBytes scale = scaleBytes();
  for (size_t b = 0; b < indices.size(); ++b) {
    int64_t i = indices[b];
    assert(i >= 0 && i < size(split) && "example index out of range");
    scale(all + i * pixels + pixelBegin,
          images + int64_t(b) * rowStride + pixelBegin, pixelEnd - pixelBegin);
  }
}

void ImageDataset::fillLabels(Split split, llvm::ArrayRef<int64_t> indices,
                              int32_t *labels) const {
  const ImageSplit &s = get(split);
  for (size_t b = 0; b < indices.size(); ++b)
    labels[b] = int32_t(s.labels[indices[b]]);
}

void ImageDataset::prefetch(Split split, llvm::ArrayRef<int64_t> indices,
                            int64_t pixelBegin, int64_t pixelEnd) const {
  const ImageSplit &s = get(split);
  const int64_t pixels = pixelsPerImage();
  const uint8_t *all = images(split).data();
  // Into L2 (prefetcht1), not L1: a batch is a few hundred lines asked for
  // at once, more than L1 has miss buffers for, and on Zen 4 many of the L1
  // requests are lost. Reading half of 32 random MNIST images after 600 KB
  // of other traffic took 4.3 us unprefetched, 3.1 + 0.7 (the prefetches
  // themselves) with prefetcht0 and 2.2 + 0.6 with prefetcht1.
  constexpr int kIntoL2 = 2;
  for (int64_t i : indices) {
    const uint8_t *src = all + i * pixels;
    if (pixelBegin < pixelEnd) {
      for (int64_t p = pixelBegin; p < pixelEnd; p += 64)
        __builtin_prefetch(src + p, 0, kIntoL2);
      __builtin_prefetch(src + pixelEnd - 1, 0, kIntoL2);
    }
    __builtin_prefetch(s.labels.data() + i, 0, kIntoL2);
  }
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

DatasetSource resolveDataset(llvm::StringRef nameOrPath,
                             llvm::StringRef defaultDataRoot) {
  DatasetSource source;
  source.name = nameOrPath.str();
  if (nameOrPath == "mnist") {
    const char *env = std::getenv("NNC_DATA_DIR");
    llvm::SmallString<256> dir(env && *env ? llvm::StringRef(env)
                                           : defaultDataRoot);
    llvm::sys::path::append(dir, "mnist");
    source.directory = dir.str().str();
    source.fetchHint = "run scripts/fetch-data.sh to fetch MNIST";
  } else if (nameOrPath == "fashion_mnist") {
    source.directory = "/usr/share/datasets/fashion-mnist";
    source.fetchHint = "install Debian's dataset-fashion-mnist (apt-get "
                       "install dataset-fashion-mnist, or scripts/"
                       "bootstrap.sh); scripts/fetch-data.sh fashion_mnist "
                       "checks it";
  } else {
    source.directory = nameOrPath.str();
  }
  return source;
}

namespace {

/// The path of `file` in `dir`: as is if a regular file, else with `.gz`
/// if that is one. Failing both, whichever of them exists, so that reading
/// it says what it is instead (a directory, a device); else nothing.
std::optional<std::string> findDataFile(llvm::StringRef dir,
                                        llvm::StringRef file) {
  for (bool regularOnly : {true, false})
    for (llvm::StringRef suffix : {"", ".gz"}) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, file + suffix);
      if (regularOnly ? llvm::sys::fs::is_regular_file(path)
                      : llvm::sys::fs::exists(path))
        return path.str().str();
    }
  return std::nullopt;
}

struct LoadedSplit {
  IdxArray images;
  IdxArray labels;
  std::string imagesPath;
  std::string labelsPath;
};

llvm::Expected<LoadedSplit> loadSplit(const std::string &imagesPath,
                                      const std::string &labelsPath,
                                      unsigned numClasses) {
  LoadedSplit split;
  split.imagesPath = imagesPath;
  split.labelsPath = labelsPath;
  auto images = readIdxFile(imagesPath);
  if (!images)
    return images.takeError();
  for (const IdxArray *a : {&*images})
    if (a->type != 0x08)
      return makeError(imagesPath +
                       ": an image data set's files hold "
                       "unsigned bytes, this one " +
                       idxTypeName(a->type) + "s");
  if (images->dims.size() != 3)
    return makeError(llvm::formatv("{0}: expected images [count, height, "
                                   "width], found rank {1}",
                                   imagesPath, images->dims.size()));
  auto labels = readIdxFile(labelsPath);
  if (!labels)
    return labels.takeError();
  if (labels->type != 0x08)
    return makeError(labelsPath +
                     ": an image data set's files hold unsigned "
                     "bytes, this one " +
                     idxTypeName(labels->type) + "s");
  if (labels->dims.size() != 1)
    return makeError(llvm::formatv("{0}: expected labels [count], found rank "
                                   "{1}",
                                   labelsPath, labels->dims.size()));
  if (images->dims[0] != labels->dims[0])
    return makeError(llvm::formatv("{0} has {1} images but {2} has {3} labels",
                                   imagesPath, images->dims[0], labelsPath,
                                   labels->dims[0]));
  if (auto bad = firstBadLabel(labels->data, numClasses))
    return makeError(llvm::formatv("{0}: label {1} of example {2} is not "
                                   "below the {3} classes",
                                   labelsPath, unsigned(labels->data[*bad]),
                                   *bad, numClasses));
  split.images = std::move(*images);
  split.labels = std::move(*labels);
  return split;
}

} // namespace

llvm::Expected<ImageDataset> loadDataset(const DatasetSource &source,
                                         unsigned numClasses) {
  if (llvm::Error e = checkNumClasses(numClasses))
    return makeError("data set '" + source.name +
                     "': " + toString(std::move(e)));
  const char *names[] = {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile,
                         kTestLabelsFile};
  std::string paths[4];
  llvm::SmallVector<std::string, 4> missing;
  for (int i = 0; i < 4; ++i) {
    if (auto found = findDataFile(source.directory, names[i])) {
      paths[i] = *found;
    } else {
      llvm::SmallString<256> path(source.directory);
      llvm::sys::path::append(path, names[i]);
      missing.push_back(path.str().str());
    }
  }
  if (!missing.empty()) {
    std::string msg =
        "data set '" + source.name + "': missing " + llvm::join(missing, ", ") +
        (missing.size() == 1 ? " (also as .gz)" : " (each may also be .gz)");
    if (!llvm::sys::fs::is_directory(source.directory))
      msg += "; the directory " + source.directory + " does not exist";
    if (!source.fetchHint.empty())
      msg += "; " + source.fetchHint;
    return makeError(msg);
  }

  auto train = loadSplit(paths[0], paths[1], numClasses);
  if (!train)
    return train.takeError();
  auto test = loadSplit(paths[2], paths[3], numClasses);
  if (!test)
    return test.takeError();
  llvm::ArrayRef<int64_t> trainDims = train->images.dims;
  llvm::ArrayRef<int64_t> testDims = test->images.dims;
  if (trainDims[1] != testDims[1] || trainDims[2] != testDims[2])
    return makeError(llvm::formatv("{0} has {1}x{2} images but {3} has {4}x{5}",
                                   test->imagesPath, testDims[1], testDims[2],
                                   train->imagesPath, trainDims[1],
                                   trainDims[2]));
  ImageSplit trainSplit{trainDims[0], std::move(train->images.data),
                        std::move(train->labels.data)};
  ImageSplit testSplit{testDims[0], std::move(test->images.data),
                       std::move(test->labels.data)};
  return ImageDataset::create(source.name, trainDims[1], trainDims[2],
                              numClasses, std::move(trainSplit),
                              std::move(testSplit));
}

llvm::Expected<ImageDataset> loadDataset(llvm::StringRef nameOrPath,
                                         llvm::StringRef defaultDataRoot,
                                         unsigned numClasses) {
  return loadDataset(resolveDataset(nameOrPath, defaultDataRoot), numClasses);
}

//===----------------------------------------------------------------------===//
// Synthetic data
//===----------------------------------------------------------------------===//

llvm::Expected<ImageDataset>
makeSyntheticDataset(const SyntheticOptions &opts) {
  if (llvm::Error e = checkNumClasses(opts.numClasses))
    return makeError("synthetic data set: " + toString(std::move(e)));
  constexpr int64_t kMaxBytes = int64_t(1) << 30;
  if (opts.height <= 0 || opts.width <= 0 || opts.height > kMaxBytes ||
      opts.width > kMaxBytes / opts.height)
    return makeError(llvm::formatv("synthetic data set: images of {0}x{1} "
                                   "pixels",
                                   opts.height, opts.width));
  int64_t pixels = opts.height * opts.width;
  if (pixels < int64_t(opts.numClasses))
    return makeError(llvm::formatv("synthetic data set: {0} pixels cannot "
                                   "separate {1} classes",
                                   pixels, opts.numClasses));
  for (int64_t count : {opts.trainCount, opts.testCount})
    if (count <= 0 || count > kMaxBytes / pixels)
      return makeError(llvm::formatv("synthetic data set: {0} images of {1} "
                                     "pixels",
                                     count, pixels));

  SplitMix64 rng(opts.seed);
  // Deal the pixels out to the classes: a shuffled pixel order, then the k-th
  // pixel in that order belongs to class k % numClasses.
  std::vector<unsigned> pixelClass(pixels);
  std::vector<int64_t> order = fileOrder(pixels);
  for (int64_t i = pixels - 1; i > 0; --i)
    std::swap(order[i], order[rng.next() % uint64_t(i + 1)]);
  for (int64_t k = 0; k < pixels; ++k)
    pixelClass[order[k]] = unsigned(k % opts.numClasses);

  auto makeSplit = [&](int64_t count) {
    ImageSplit s;
    s.count = count;
    s.images.resize(count * pixels);
    s.labels.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      unsigned label = unsigned(rng.next() % opts.numClasses);
      s.labels[i] = uint8_t(label);
      uint8_t *image = s.images.data() + i * pixels;
      for (int64_t p = 0; p < pixels; ++p) {
        uint8_t jitter = uint8_t(rng.next() % 56);
        image[p] = pixelClass[p] == label ? uint8_t(200 + jitter) : jitter;
      }
    }
    return s;
  };
  ImageSplit train = makeSplit(opts.trainCount);
  ImageSplit test = makeSplit(opts.testCount);
  return ImageDataset::create("synthetic", opts.height, opts.width,
                              opts.numClasses, std::move(train),
                              std::move(test));
}

//===----------------------------------------------------------------------===//
// Epoch order and batches
//===----------------------------------------------------------------------===//

std::vector<int64_t> fileOrder(int64_t count) {
  std::vector<int64_t> order(std::max<int64_t>(count, 0));
  std::iota(order.begin(), order.end(), int64_t(0));
  return order;
}

std::vector<int64_t> shuffledOrder(int64_t count, uint64_t seed,
                                   uint64_t epoch) {
  std::vector<int64_t> order = fileOrder(count);
  // Unsigned arithmetic wraps mod 2^64, as the specification says.
  SplitMix64 rng(seed ^ (0xD1B54A32D192ED03ull * (epoch + 1)));
  for (int64_t i = count - 1; i >= 1; --i) {
    uint64_t j = rng.next() % uint64_t(i + 1);
    std::swap(order[i], order[j]);
  }
  return order;
}

llvm::Expected<std::vector<BatchRange>> trainingBatches(int64_t count,
                                                        int64_t batchSize) {
  if (batchSize <= 0)
    return makeError(
        llvm::formatv("batch size {0}: must be positive", batchSize));
  if (batchSize > count)
    return makeError(llvm::formatv("batch size {0} is larger than the {1} "
                                   "training examples: no full batch to "
                                   "train on",
                                   batchSize, count));
  std::vector<BatchRange> batches;
  for (int64_t b = 0; b + batchSize <= count; b += batchSize)
    batches.push_back({b, b + batchSize});
  return batches;
}

llvm::Expected<std::vector<BatchRange>> evaluationBatches(int64_t count,
                                                          int64_t batchSize) {
  if (batchSize <= 0)
    return makeError(
        llvm::formatv("batch size {0}: must be positive", batchSize));
  std::vector<BatchRange> batches;
  for (int64_t b = 0; b < count; b += batchSize)
    batches.push_back({b, std::min(b + batchSize, count)});
  return batches;
}

} // namespace nnc
