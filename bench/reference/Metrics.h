//===- Metrics.h - The metrics JSON every benchmarked system writes -------===//
//
// Same schema as `nnc --metrics`, so the harness reads every system alike.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_METRICS_H
#define NNC_BENCH_REFERENCE_METRICS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace nnc::bench {

struct EpochMetrics {
  int epoch = 0; // from 1, as printed
  double trainLoss = 0, trainAccuracy = 0;
  double testLoss = 0, testAccuracy = 0;
  double seconds = 0; // training only; evaluation excluded
};

struct RunMetrics {
  std::string model;
  long steps = 0;
  double compileSeconds = 0;
  double trainSeconds = 0;
  double testLoss = 0, testAccuracy = 0;
  std::vector<EpochMetrics> epochs;
};

llvm::Error writeMetrics(llvm::StringRef path, const RunMetrics &metrics);

} // namespace nnc::bench

#endif
