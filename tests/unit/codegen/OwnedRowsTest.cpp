// The partition of a variable's rows between threads (StepABI.h), which the
// kernels compute in IR and the runtime in C++: it must cover every row
// once, in blocks of kRowGranule, balanced to a block.
#include "codegen/StepABI.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

using Rows = std::pair<int64_t, int64_t>;

TEST(OwnedRows, TheSeedModelsFirstLayerSplitsInHalves) {
  EXPECT_EQ(ownedRows(784, 0, 1), Rows(0, 784));
  EXPECT_EQ(ownedRows(784, 0, 2), Rows(0, 392));
  EXPECT_EQ(ownedRows(784, 1, 2), Rows(392, 784));
}

TEST(OwnedRows, CoversEveryRowOnceInBlocks) {
  for (int64_t n : {1, 7, 8, 9, 100, 784, 1000})
    for (int64_t threads = 1; threads <= 5; ++threads) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int64_t t = 0; t < threads; ++t) {
        auto [begin, end] = ownedRows(n, t, threads);
        EXPECT_EQ(begin, next) << n << " rows, thread " << t << "/" << threads;
        EXPECT_LE(begin, end);
        EXPECT_TRUE(begin % kRowGranule == 0);
        EXPECT_TRUE(end % kRowGranule == 0 || end == n);
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
        next = end;
      }
      EXPECT_EQ(next, n) << n << " rows on " << threads << " threads";
      if (n >= threads * kRowGranule) {
        EXPECT_LE(largest - smallest, kRowGranule)
            << n << " rows on " << threads << " threads";
      }
    }
}

} // namespace
