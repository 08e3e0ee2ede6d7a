//===- ArrayDataset.h - Data sets of feature and target arrays --*- C++ -*-===//
//
// The data sets read from CSV tables, NumPy arrays and IDX files of any
// element type: per example, f32 features of any shape and targets as the
// model's label declares them, i32 class indices or f32 values of any shape.
// Everything is converted and checked once, when the data set is built, so
// a batch is a copy of rows.
//
// Also here: the held-out split (`validation_split`, a seeded permutation
// specified in docs/data.md) and the per-feature statistics that
// standardisation uses.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_ARRAYDATASET_H
#define NNC_RUNTIME_ARRAYDATASET_H

#include "runtime/Dataset.h"

namespace nnc {

/// The examples of one split: `count` rows of features and of targets.
struct ArraySplit {
  int64_t count = 0;
  std::vector<float> features;  ///< [count, features per example]
  std::vector<float> values;    ///< f32 targets [count, targets per example]
  std::vector<int32_t> classes; ///< or i32 targets
};

class ArrayDataset final : public Dataset {
public:
  /// Checks that the parts fit together: sizes agree with the counts and
  /// shapes, both splits have examples, targets are of `targetType`'s
  /// element type (f32 or i32).
  static llvm::Expected<ArrayDataset> create(std::string name,
                                             Shape featureShape,
                                             TensorType targetType,
                                             ArraySplit train, ArraySplit test);

  llvm::StringRef name() const override { return datasetName; }
  int64_t size(Split split) const override { return get(split).count; }
  Shape featureShape() const override { return features; }
  TensorType targetType() const override { return target; }
  void fillFeatures(Split split, llvm::ArrayRef<int64_t> indices, float *dst,
                    int64_t begin, int64_t end,
                    int64_t rowStride = 0) const override;
  void fillTargets(Split split, llvm::ArrayRef<int64_t> indices,
                   void *dst) const override;
  uint64_t byteSize() const override {
    uint64_t bytes = 0;
    for (const ArraySplit *s : {&train, &test})
      bytes += 4 * (s->features.size() + s->values.size() + s->classes.size());
    return bytes;
  }

  const ArraySplit &get(Split split) const {
    return split == Split::Train ? train : test;
  }

private:
  std::string datasetName;
  Shape features;
  TensorType target;
  ArraySplit train, test;
};

/// Splits `all` into a training split and a held-out test split of
/// `fraction` of the examples (as Keras's validation_split counts them: the
/// training split keeps floor(count * (1 - fraction))). Which examples are
/// held out is the seeded permutation of docs/data.md: the last ones of
/// epoch_order(count, seed, 2^64 - 1); each split keeps file order. Fails
/// when either split would be empty.
llvm::Expected<std::pair<ArraySplit, ArraySplit>>
splitForValidation(const ArraySplit &all, int64_t featuresPerExample,
                   int64_t targetsPerExample, double fraction, uint64_t seed);

/// The examples of `all` at `indices`, in that order.
ArraySplit selectExamples(const ArraySplit &all,
                          llvm::ArrayRef<int64_t> indices,
                          int64_t featuresPerExample,
                          int64_t targetsPerExample);

/// The mean and standard deviation of each feature over a split, for
/// standardisation: population statistics (as scikit-learn's StandardScaler
/// computes them), in double, with a deviation of 1 for a constant
/// feature, which then is only centred.
struct FeatureStatistics {
  std::vector<double> mean, stddev;
};
FeatureStatistics computeFeatureStatistics(const Dataset &data, Split split);

} // namespace nnc

#endif // NNC_RUNTIME_ARRAYDATASET_H
