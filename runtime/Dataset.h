//===- Dataset.h - Image-classification data sets and batching --*- C++ -*-===//
//
// An image-classification data set as nnc trains on it: a training and a test
// split, each images [N, H, W] of bytes and labels [N] of bytes. The bytes are
// kept as they are in the files; a batch is converted (x / 255 to f32, labels
// to i32) straight into the buffers the compiled step reads, so converting
// costs nothing up front and allocates nothing per batch.
//
// The epoch order is a seeded Fisher-Yates shuffle over SplitMix64, specified
// exactly in docs/data.md so that other implementations (bench/) visit the
// examples in the same order.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_DATASET_H
#define NNC_RUNTIME_DATASET_H

#include "ir/Types.h"
#include "runtime/Random.h"

#include "runtime/AlignedBuffer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

enum class Split { Train, Test };
llvm::StringRef splitName(Split split);

/// A batch as positions [begin, end) in an epoch order.
struct BatchRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const BatchRange &) const = default;
};

/// What the training loop reads: the examples of a training and a test
/// split, each of them features (written as f32, as the model's input holds
/// them) and targets (as the model's label holds them: i32 class indices or
/// f32 values). Implementations: ImageDataset (bytes scaled to [0, 1]) and
/// ArrayDataset (runtime/ArrayDataset.h: CSV, NumPy and IDX arrays).
class Dataset {
public:
  virtual ~Dataset() = default;

  virtual llvm::StringRef name() const = 0;
  virtual int64_t size(Split split) const = 0;
  /// The shape of one example's features and its element count.
  virtual Shape featureShape() const = 0;
  int64_t featuresPerExample() const;
  /// The type of one example's targets: i32 or f32, of any shape.
  virtual TensorType targetType() const = 0;

  /// Writes the features [begin, end) of the examples `indices` of `split`:
  /// element e of the b-th example to dst[b * rowStride + e] (rowStride 0:
  /// featuresPerExample()). Threads that share a batch each write their
  /// own range. Indices must be below size(split).
  virtual void fillFeatures(Split split, llvm::ArrayRef<int64_t> indices,
                            float *dst, int64_t begin, int64_t end,
                            int64_t rowStride = 0) const = 0;
  /// Writes the targets of the examples `indices`, one after the other, in
  /// targetType()'s element type.
  virtual void fillTargets(Split split, llvm::ArrayRef<int64_t> indices,
                           void *dst) const = 0;
  /// The bytes the data set keeps in memory, both splits.
  virtual uint64_t byteSize() const = 0;
  /// Asks for the features [begin, end) of `indices` ahead of fillFeatures.
  virtual void prefetch(Split /*split*/, llvm::ArrayRef<int64_t> /*indices*/,
                        int64_t /*begin*/, int64_t /*end*/) const {}
};

/// One split: `count` images of height x width bytes, and their labels.
struct ImageSplit {
  int64_t count = 0;
  std::vector<uint8_t> images; ///< [count, height, width], row-major
  std::vector<uint8_t> labels; ///< [count]
};

class ImageDataset final : public Dataset {
public:
  /// Builds a data set from its parts after checking that they fit together:
  /// sizes agree with the counts and dimensions, and every label is below
  /// `numClasses`. `name` labels the errors.
  static llvm::Expected<ImageDataset> create(llvm::StringRef name,
                                             int64_t height, int64_t width,
                                             unsigned numClasses,
                                             ImageSplit train, ImageSplit test);

  llvm::StringRef name() const override { return datasetName; }
  int64_t height() const { return imageHeight; }
  int64_t width() const { return imageWidth; }
  int64_t pixelsPerImage() const { return imageHeight * imageWidth; }
  unsigned numClasses() const { return classes; }
  int64_t size(Split split) const override { return get(split).count; }
  Shape featureShape() const override { return {imageHeight, imageWidth}; }
  TensorType targetType() const override {
    return TensorType(ElementType::I32, {});
  }
  void fillFeatures(Split split, llvm::ArrayRef<int64_t> indices, float *dst,
                    int64_t begin, int64_t end,
                    int64_t rowStride = 0) const override {
    fillImages(split, indices, dst, begin, end, rowStride);
  }
  void fillTargets(Split split, llvm::ArrayRef<int64_t> indices,
                   void *dst) const override {
    fillLabels(split, indices, static_cast<int32_t *>(dst));
  }
  uint64_t byteSize() const override {
    uint64_t bytes = 0;
    for (Split split : {Split::Train, Split::Test})
      bytes += images(split).size() + labels(split).size();
    return bytes;
  }
  llvm::ArrayRef<uint8_t> images(Split split) const {
    const AlignedBuffer &pixels = pixelsOf(split);
    return {reinterpret_cast<const uint8_t *>(pixels.data()), pixels.size()};
  }
  llvm::ArrayRef<uint8_t> labels(Split split) const {
    return get(split).labels;
  }

  /// Converts the examples `indices` of `split` into a batch: images[b, p] =
  /// pixel / 255.0f (f32, `indices.size() * pixelsPerImage()` elements) and
  /// labels[b] = label (i32). The buffers are the caller's, typically the
  /// compiled step's inputs. Indices must be below size(split).
  void fillBatch(Split split, llvm::ArrayRef<int64_t> indices, float *images,
                 int32_t *labels) const;

  /// The two halves of fillBatch, the images' for the pixels [pixelBegin,
  /// pixelEnd) of each image only: threads that share a batch's columns
  /// each write their own. Pixel p of the b-th image goes to
  /// images[b * rowStride + p] (rowStride 0: pixelsPerImage()).
  void fillImages(Split split, llvm::ArrayRef<int64_t> indices, float *images,
                  int64_t pixelBegin, int64_t pixelEnd,
                  int64_t rowStride = 0) const;
  void fillLabels(Split split, llvm::ArrayRef<int64_t> indices,
                  int32_t *labels) const;

  /// Asks the memory system for the pixels [pixelBegin, pixelEnd) of the
  /// images of `indices` (and their labels) ahead of fillImages: a batch of
  /// randomly ordered images is a few hundred cache lines missed one by
  /// one, which the previous step can hide.
  void prefetch(Split split, llvm::ArrayRef<int64_t> indices,
                int64_t pixelBegin, int64_t pixelEnd) const override;
  void prefetch(Split split, llvm::ArrayRef<int64_t> indices) const {
    prefetch(split, indices, 0, pixelsPerImage());
  }

  /// fillBatch for the examples at positions [range.begin, range.end) of an
  /// epoch order.
  void fillBatch(Split split, llvm::ArrayRef<int64_t> order, BatchRange range,
                 float *images, int32_t *labels) const {
    fillBatch(split, order.slice(range.begin, range.size()), images, labels);
  }

private:
  const ImageSplit &get(Split split) const {
    return split == Split::Train ? train : test;
  }
  const AlignedBuffer &pixelsOf(Split split) const {
    return split == Split::Train ? trainPixels : testPixels;
  }

  std::string datasetName;
  int64_t imageHeight = 0;
  int64_t imageWidth = 0;
  unsigned classes = 0;
  /// The splits' labels and counts; their images are moved to the pixel
  /// buffers below.
  ImageSplit train;
  ImageSplit test;
  /// Each split's images, on huge pages where the system allows: a batch
  /// reads 32 images at random from tens of megabytes, and with 4 KiB
  /// pages every image is a TLB miss (in a virtual machine, a two-level
  /// page walk) that software prefetching does not hide.
  AlignedBuffer trainPixels;
  AlignedBuffer testPixels;
};

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// Where a data set named on the command line lives, and what to tell the
/// user when its files are missing.
struct DatasetSource {
  std::string name;      ///< `mnist`, `fashion_mnist`, or the path given
  std::string directory; ///< holds the four IDX files
  std::string fetchHint; ///< how to get the files; may be empty
};

/// Resolves a data-set argument:
///   mnist          $NNC_DATA_DIR/mnist if NNC_DATA_DIR is set, else
///                  `defaultDataRoot`/mnist (the repository's data/)
///   fashion_mnist  /usr/share/datasets/fashion-mnist (Debian's
///                  dataset-fashion-mnist)
///   anything else  a directory holding the four files
DatasetSource resolveDataset(llvm::StringRef nameOrPath,
                             llvm::StringRef defaultDataRoot);

/// The four files of a data-set directory, each possibly with `.gz`.
constexpr const char *kTrainImagesFile = "train-images-idx3-ubyte";
constexpr const char *kTrainLabelsFile = "train-labels-idx1-ubyte";
constexpr const char *kTestImagesFile = "t10k-images-idx3-ubyte";
constexpr const char *kTestLabelsFile = "t10k-labels-idx1-ubyte";

/// Loads the four IDX files of `source.directory` (an uncompressed file is
/// preferred over its `.gz`) and checks them: images are [N, H, W], labels
/// [N], each image file has as many images as its label file has labels,
/// both splits have the same H and W, and every label is below `numClasses`.
/// A missing file is named in the error together with `source.fetchHint`.
llvm::Expected<ImageDataset> loadDataset(const DatasetSource &source,
                                         unsigned numClasses = 10);

/// resolveDataset then loadDataset.
llvm::Expected<ImageDataset> loadDataset(llvm::StringRef nameOrPath,
                                         llvm::StringRef defaultDataRoot,
                                         unsigned numClasses = 10);

//===----------------------------------------------------------------------===//
// A synthetic data set for tests that must run without MNIST
//===----------------------------------------------------------------------===//

struct SyntheticOptions {
  int64_t trainCount = 1024;
  int64_t testCount = 256;
  int64_t height = 8;
  int64_t width = 8;
  unsigned numClasses = 10;
  uint64_t seed = 1;
};

/// A seeded, linearly separable data set: the pixels are dealt out to the
/// classes at random (every class gets at least one), and an image of class c
/// has its class-c pixels in [200, 255] and every other pixel in [0, 55].
/// The mean over each class's pixels therefore picks the label of every
/// image. Fails when there are fewer pixels than classes or no classes.
llvm::Expected<ImageDataset> makeSyntheticDataset(const SyntheticOptions &opts);

//===----------------------------------------------------------------------===//
// Epoch order and batches
//===----------------------------------------------------------------------===//

/// The order in which epoch `epoch` (from 0) visits `count` examples:
/// a Fisher-Yates shuffle seeded with seed ^ (0xD1B54A32D192ED03 *
/// (epoch + 1)). See docs/data.md for the exact algorithm.
std::vector<int64_t> shuffledOrder(int64_t count, uint64_t seed,
                                   uint64_t epoch);

/// 0, 1, ..., count - 1: the order without shuffling.
std::vector<int64_t> fileOrder(int64_t count);

/// Training batches: full batches only, count / batchSize of them. The
/// compiled step has one batch size, so the last count % batchSize examples
/// of each epoch's order are not visited in that epoch (with shuffling, a
/// different few each epoch). Fails when batchSize is not positive or larger
/// than count.
llvm::Expected<std::vector<BatchRange>> trainingBatches(int64_t count,
                                                        int64_t batchSize);

/// Evaluation batches: every example exactly once, as count / batchSize
/// batches of batchSize followed by one batch of count % batchSize when that
/// is not zero (the runtime compiles a second graph for it). Fails when
/// batchSize is not positive.
llvm::Expected<std::vector<BatchRange>> evaluationBatches(int64_t count,
                                                          int64_t batchSize);

} // namespace nnc

#endif // NNC_RUNTIME_DATASET_H
