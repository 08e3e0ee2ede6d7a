// The ranks of a job in one process: every collective gives every rank the
// same result, sums add the ranks' values in rank order whatever order the
// threads arrive in, and a step's exchange sums each bucket in place in
// every rank's buffer, however the ranks interleave their exchanges. The
// ranks load one copy of the data set.
#include "runtime/InProcessRanks.h"

#include "codegen/StepABI.h"
#include "runtime/ArrayDataset.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

using namespace nnc;

namespace {

/// Runs `body(rank, comm)` on a thread per rank.
void onEveryRank(int ranks,
                 const std::function<void(int, Communicator &)> &body) {
  auto comms = makeInProcessRanks(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] { body(r, *comms[r]); });
  for (std::thread &t : threads)
    t.join();
}

TEST(InProcessRanks, RanksAndSizes) {
  onEveryRank(3, [](int r, Communicator &comm) {
    EXPECT_EQ(comm.rank(), r);
    EXPECT_EQ(comm.size(), 3);
    EXPECT_EQ(comm.localRank(), r);
    EXPECT_EQ(comm.localSize(), 3);
  });
}

TEST(InProcessRanks, SumsInRankOrder) {
  // In rank order 1 + 1e16 - 1e16 is 0 (the 1 is lost); in the order the
  // ranks arrive here (rank 0 last), 1e16 - 1e16 + 1 is 1.
  std::vector<std::vector<double>> results(3);
  onEveryRank(3, [&](int r, Communicator &comm) {
    if (r == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    double mine[] = {1.0, 1e16, -1e16};
    std::vector<double> values = {mine[r], double(r + 1)};
    ASSERT_FALSE(bool(comm.sum(values)));
    results[r] = values;
  });
  for (const std::vector<double> &v : results)
    EXPECT_EQ(v, (std::vector<double>{(1.0 + 1e16) - 1e16, 6.0}));
}

TEST(InProcessRanks, BroadcastsAndGathers) {
  onEveryRank(4, [](int r, Communicator &comm) {
    std::string bytes = r == 0 ? "rank 0's" : "others'.";
    ASSERT_FALSE(bool(comm.broadcast({bytes.data(), bytes.size()})));
    EXPECT_EQ(bytes, "rank 0's");
    auto all = comm.gather({uint64_t(r), uint64_t(10 * r)});
    ASSERT_TRUE(bool(all));
    EXPECT_EQ(*all, (std::vector<uint64_t>{0, 0, 1, 10, 2, 20, 3, 30}));
  });
}

TEST(InProcessRanks, StepExchangesSumBucketsInPlace) {
  // Two buckets started before either is waited for, as a step starts
  // them during its backward pass; lengths that do not divide among the
  // ranks or the blocks of the sum.
  const int64_t first = 2500, second = 7;
  std::vector<std::vector<float>> a(3), b(3);
  onEveryRank(3, [&](int r, Communicator &comm) {
    a[r].assign(first, 0.f);
    b[r].assign(second, 0.f);
    for (int64_t i = 0; i < first; ++i)
      a[r][i] = float(r * 1000 + i);
    for (int64_t i = 0; i < second; ++i)
      b[r][i] = float(r) + 0.5f;
    StepExchange x = comm.stepExchange();
    x.function(x.state, kExchangeStart, 0, a[r].data(), first);
    x.function(x.state, kExchangePoll, 0, nullptr, 0);
    x.function(x.state, kExchangeStart, 1, b[r].data(), second);
    x.function(x.state, kExchangeWait, 0, nullptr, 0);
    x.function(x.state, kExchangeWait, 1, nullptr, 0);
    EXPECT_EQ(comm.exchangeWaitSeconds().size(), 2u);
    EXPECT_FALSE(bool(comm.takeStepError()));
  });
  for (int r = 0; r < 3; ++r) {
    for (int64_t i = 0; i < first; ++i)
      ASSERT_EQ(a[r][i], float(3 * i + 3000)) << "rank " << r << ", " << i;
    for (int64_t i = 0; i < second; ++i)
      ASSERT_EQ(b[r][i], 4.5f) << "rank " << r << ", " << i;
  }
}

TEST(InProcessRanks, RepeatedStepsReuseTheirExchanges) {
  onEveryRank(2, [](int r, Communicator &comm) {
    StepExchange x = comm.stepExchange();
    for (int step = 1; step <= 50; ++step) {
      float v[3] = {float(step), float(r), 1.f};
      x.function(x.state, kExchangeStart, 0, v, 3);
      x.function(x.state, kExchangeWait, 0, nullptr, 0);
      ASSERT_EQ(v[0], float(2 * step));
      ASSERT_EQ(v[1], 1.f);
      ASSERT_EQ(v[2], 2.f);
    }
  });
}

/// A data set of one example a split.
llvm::Expected<std::shared_ptr<const Dataset>> tinyDataset() {
  ArraySplit train, test;
  train.count = test.count = 1;
  train.features = test.features = {1.f};
  train.classes = test.classes = {0};
  auto ds = ArrayDataset::create("tiny", {1}, TensorType(ElementType::I32, {}),
                                 train, test);
  if (!ds)
    return ds.takeError();
  return std::make_shared<const ArrayDataset>(std::move(*ds));
}

TEST(SharedDataset, TheRanksLoadOneCopy) {
  SharedDataset shared;
  std::atomic<int> loads{0};
  std::vector<const Dataset *> seen(4);
  onEveryRank(4, [&](int r, Communicator &) {
    auto got = shared.get([&] {
      ++loads;
      // The others wait for the first rank's copy.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return tinyDataset();
    });
    ASSERT_TRUE(bool(got)) << llvm::toString(got.takeError());
    seen[r] = got->get();
  });
  EXPECT_EQ(loads.load(), 1);
  for (int r = 1; r < 4; ++r)
    EXPECT_EQ(seen[r], seen[0]) << "rank " << r;
  EXPECT_EQ(seen[0]->size(Split::Train), 1);
}

TEST(SharedDataset, ALoadErrorIsEveryRanks) {
  SharedDataset shared;
  std::atomic<int> loads{0};
  std::vector<std::string> errors(3);
  onEveryRank(3, [&](int r, Communicator &) {
    auto got =
        shared.get([&]() -> llvm::Expected<std::shared_ptr<const Dataset>> {
          ++loads;
          return llvm::createStringError("data set 'x': missing x/y");
        });
    ASSERT_FALSE(bool(got));
    errors[r] = llvm::toString(got.takeError());
  });
  EXPECT_EQ(loads.load(), 1);
  for (const std::string &e : errors)
    EXPECT_EQ(e, "data set 'x': missing x/y");
}

} // namespace
