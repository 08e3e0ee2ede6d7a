//===- ArrayDataset.cpp - Data sets of feature and target arrays ----------===//
#include "runtime/ArrayDataset.h"

#include "llvm/Support/FormatVariadic.h"

#include <cassert>
#include <cmath>
#include <cstring>

namespace nnc {

namespace {
llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

int64_t elementsOf(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}
} // namespace

llvm::Expected<ArrayDataset>
ArrayDataset::create(std::string name, Shape featureShape,
                     TensorType targetType, ArraySplit train, ArraySplit test) {
  int64_t perFeature = elementsOf(featureShape);
  int64_t perTarget = targetType.numElements();
  bool integer = targetType.element() == ElementType::I32;
  if (!integer && targetType.element() != ElementType::F32)
    return makeError("data set '" + name + "': targets are " +
                     elementTypeName(targetType.element()) +
                     ", which labels cannot be (f32 or i32)");
  for (Split split : {Split::Train, Split::Test}) {
    const ArraySplit &s = split == Split::Train ? train : test;
    if (s.count <= 0)
      return makeError(llvm::formatv("data set '{0}': the {1} split is empty",
                                     name, splitName(split)));
    size_t targets = integer ? s.classes.size() : s.values.size();
    if (int64_t(s.features.size()) != s.count * perFeature ||
        int64_t(targets) != s.count * perTarget)
      return makeError(llvm::formatv("data set '{0}': the {1} split has {2} "
                                     "feature and {3} target values for {4} "
                                     "examples",
                                     name, splitName(split), s.features.size(),
                                     targets, s.count));
  }
  ArrayDataset ds;
  ds.datasetName = std::move(name);
  ds.features = std::move(featureShape);
  ds.target = std::move(targetType);
  ds.train = std::move(train);
  ds.test = std::move(test);
  return ds;
}

void ArrayDataset::fillFeatures(Split split, llvm::ArrayRef<int64_t> indices,
                                float *dst, int64_t begin, int64_t end,
                                int64_t rowStride) const {
  const int64_t width = featuresPerExample();
  if (rowStride == 0)
    rowStride = width;
  assert(0 <= begin && begin <= end && end <= width);
  const ArraySplit &s = get(split);
  for (size_t b = 0; b < indices.size(); ++b) {
    assert(indices[b] >= 0 && indices[b] < s.count && "index out of range");
    std::memcpy(dst + int64_t(b) * rowStride + begin,
                s.features.data() + indices[b] * width + begin,
                size_t(end - begin) * sizeof(float));
  }
}

void ArrayDataset::fillTargets(Split split, llvm::ArrayRef<int64_t> indices,
                               void *dst) const {
  const ArraySplit &s = get(split);
  const int64_t width = target.numElements();
  bool integer = target.element() == ElementType::I32;
  size_t rowBytes = size_t(width) * 4;
  for (size_t b = 0; b < indices.size(); ++b) {
    const void *src =
        integer
            ? static_cast<const void *>(s.classes.data() + indices[b] * width)
            : static_cast<const void *>(s.values.data() + indices[b] * width);
    std::memcpy(static_cast<char *>(dst) + b * rowBytes, src, rowBytes);
  }
}

ArraySplit selectExamples(const ArraySplit &all,
                          llvm::ArrayRef<int64_t> indices,
                          int64_t featuresPerExample,
                          int64_t targetsPerExample) {
  ArraySplit s;
  s.count = int64_t(indices.size());
  bool integer = !all.classes.empty();
  for (int64_t i : indices) {
    auto f = all.features.begin() + i * featuresPerExample;
    s.features.insert(s.features.end(), f, f + featuresPerExample);
    if (integer) {
      auto c = all.classes.begin() + i * targetsPerExample;
      s.classes.insert(s.classes.end(), c, c + targetsPerExample);
    } else {
      auto v = all.values.begin() + i * targetsPerExample;
      s.values.insert(s.values.end(), v, v + targetsPerExample);
    }
  }
  return s;
}

llvm::Expected<std::pair<ArraySplit, ArraySplit>>
splitForValidation(const ArraySplit &all, int64_t featuresPerExample,
                   int64_t targetsPerExample, double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction < 1))
    return makeError(llvm::formatv("validation_split must be between 0 and "
                                   "1, got {0}",
                                   fraction));
  int64_t keep = int64_t(std::floor(double(all.count) * (1 - fraction)));
  if (keep < 1 || keep >= all.count)
    return makeError(llvm::formatv("validation_split {0} of {1} examples "
                                   "leaves {2} to train on and {3} to test "
                                   "on; both need at least one",
                                   fraction, all.count, keep,
                                   all.count - keep));
  // epoch = 2^64 - 1 makes the generator's seed the split seed itself.
  std::vector<int64_t> order = shuffledOrder(all.count, seed, ~uint64_t(0));
  std::vector<int64_t> trainIdx(order.begin(), order.begin() + keep);
  std::vector<int64_t> testIdx(order.begin() + keep, order.end());
  llvm::sort(trainIdx);
  llvm::sort(testIdx);
  return std::make_pair(
      selectExamples(all, trainIdx, featuresPerExample, targetsPerExample),
      selectExamples(all, testIdx, featuresPerExample, targetsPerExample));
}

FeatureStatistics computeFeatureStatistics(const Dataset &data, Split split) {
  const int64_t width = data.featuresPerExample();
  const int64_t count = data.size(split);
  FeatureStatistics stats;
  stats.mean.assign(width, 0.0);
  stats.stddev.assign(width, 0.0);
  // Two passes over the examples in chunks: the means, then the squared
  // deviations from them, which loses nothing to cancellation.
  const int64_t chunk = 256;
  std::vector<float> rows(chunk * width);
  std::vector<int64_t> indices;
  auto forEachChunk = [&](auto &&visit) {
    for (int64_t begin = 0; begin < count; begin += chunk) {
      int64_t n = std::min(chunk, count - begin);
      indices.resize(n);
      for (int64_t i = 0; i < n; ++i)
        indices[i] = begin + i;
      data.fillFeatures(split, indices, rows.data(), 0, width);
      visit(n);
    }
  };
  forEachChunk([&](int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t f = 0; f < width; ++f)
        stats.mean[f] += rows[i * width + f];
  });
  for (double &m : stats.mean)
    m /= double(std::max<int64_t>(count, 1));
  forEachChunk([&](int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t f = 0; f < width; ++f) {
        double d = rows[i * width + f] - stats.mean[f];
        stats.stddev[f] += d * d;
      }
  });
  for (double &s : stats.stddev) {
    s = std::sqrt(s / double(std::max<int64_t>(count, 1)));
    // scikit-learn's _handle_zeros_in_scale: a (nearly) constant feature
    // keeps its scale.
    if (!(s > 10 * std::numeric_limits<double>::epsilon()))
      s = 1.0;
  }
  return stats;
}

} // namespace nnc
