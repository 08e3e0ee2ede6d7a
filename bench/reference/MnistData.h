//===- MnistData.h - MNIST IDX files for the reference trainers -*- C++ -*-===//
//
// The references load the whole data set up front as floats scaled to [0, 1]
// (x/255), as the benchmark specifies, so the timed loop only gathers rows.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_MNISTDATA_H
#define NNC_BENCH_REFERENCE_MNISTDATA_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace nnc::bench {

struct LabelledImages {
  size_t count = 0;
  size_t pixelsPerImage = 0;
  std::vector<float> pixels; // count * pixelsPerImage, row-major, x/255
  std::vector<int32_t> labels;
};

/// Reads `<dir>/<prefix>-images-idx3-ubyte` and the matching labels file
/// (prefix "train" or "t10k"). Errors name the file and what is wrong.
llvm::Expected<LabelledImages> loadMnistSplit(llvm::StringRef dir,
                                              llvm::StringRef prefix);

} // namespace nnc::bench

#endif
