//===- InProcessRanks.cpp - The ranks of a job as threads of one process --===//
//
// Every collective is two barriers: each rank publishes where its values
// are, and after the first barrier reads the others' and computes; after
// the second, which no rank passes before every rank has read, each may
// write its own again. A step's exchange is summed in slices, each rank
// adding one slice over every rank's buffer (in rank order) and writing the
// sum into every buffer, so that an exchange costs one pass over the
// gradients whatever the number of ranks.
//
// A step's exchanges are started as the gradients are ready and summed
// when the step waits for them: the ranks compute while they run ahead of
// each other, and the sum itself is a memory pass of a few hundred
// microseconds at most, so there is nothing to overlap it with.
//
//===----------------------------------------------------------------------===//
#include "runtime/InProcessRanks.h"

#include "codegen/StepABI.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace nnc {

namespace {

using Clock = std::chrono::steady_clock;

/// What the ranks share.
struct RankGroup {
  explicit RankGroup(int size)
      : size(size), barrier(size), published(size), exchanges(size) {}

  struct Exchange {
    float *data = nullptr;
    int64_t count = 0;
  };

  const int size;
  std::barrier<> barrier;
  /// Each rank's values in the collective in progress.
  std::vector<const void *> published;
  /// Each rank's started step exchanges, by index.
  std::vector<std::vector<Exchange>> exchanges;
};

class InProcessRank final : public Communicator {
public:
  InProcessRank(std::shared_ptr<RankGroup> group, int rank)
      : group(std::move(group)), myRank(rank) {}

  int rank() const override { return myRank; }
  int size() const override { return group->size; }
  int localRank() const override { return myRank; }
  int localSize() const override { return group->size; }

  llvm::Error sum(llvm::MutableArrayRef<double> values) override {
    std::vector<double> total(values.size(), 0.0);
    collective(values.data(), [&] {
      for (int r = 0; r < group->size; ++r) {
        auto *theirs = static_cast<const double *>(group->published[r]);
        for (size_t i = 0; i < values.size(); ++i)
          total[i] += theirs[i];
      }
    });
    std::copy(total.begin(), total.end(), values.begin());
    return llvm::Error::success();
  }

  llvm::Error broadcast(llvm::MutableArrayRef<char> bytes) override {
    collective(bytes.data(), [&] {
      if (myRank != 0)
        std::memcpy(bytes.data(), group->published[0], bytes.size());
    });
    return llvm::Error::success();
  }

  llvm::Expected<std::vector<uint64_t>>
  gather(llvm::ArrayRef<uint64_t> mine) override {
    std::vector<uint64_t> all(mine.size() * group->size);
    collective(mine.data(), [&] {
      for (int r = 0; r < group->size; ++r)
        std::memcpy(all.data() + r * mine.size(), group->published[r],
                    mine.size() * sizeof(uint64_t));
    });
    return all;
  }

  StepExchange stepExchange() override { return {&exchange, this}; }

  std::vector<double> exchangeWaitSeconds() const override {
    return waitSeconds;
  }

  llvm::Error takeStepError() override { return llvm::Error::success(); }

  [[noreturn]] void abortJob(int exitCode) override {
    // The other ranks are threads of this process: ending it ends them.
    llvm::outs().flush();
    llvm::errs().flush();
    std::_Exit(exitCode);
  }

private:
  /// Publishes `mine`, runs `read` once every rank has published, and
  /// returns once every rank has read.
  template <typename Read> void collective(const void *mine, Read read) {
    group->published[myRank] = mine;
    group->barrier.arrive_and_wait();
    read();
    group->barrier.arrive_and_wait();
  }

  /// StepContext::exchange.
  static void exchange(void *state, int32_t request, int32_t index, float *data,
                       int64_t count) {
    auto *self = static_cast<InProcessRank *>(state);
    if (request == kExchangeStart)
      self->start(index, data, count);
    else if (request == kExchangeWait)
      self->wait(index);
  }

  void start(int32_t index, float *data, int64_t count) {
    std::vector<RankGroup::Exchange> &mine = group->exchanges[myRank];
    if (size_t(index) >= mine.size())
      mine.resize(index + 1);
    mine[index] = {data, count};
  }

  /// Sums exchange `index` over the ranks: this rank adds up its slice of
  /// it in every rank's buffer and writes the sum back to each.
  void wait(int32_t index) {
    if (size_t(index) >= waitSeconds.size())
      waitSeconds.resize(index + 1, 0.0);
    auto begin = Clock::now();
    group->barrier.arrive_and_wait();
    waitSeconds[index] +=
        std::chrono::duration<double>(Clock::now() - begin).count();
    // Between the barriers no rank starts an exchange, so the others'
    // lists hold still.
    int64_t count = group->exchanges[myRank][index].count;
    int64_t first = count * myRank / group->size;
    int64_t last = count * (myRank + 1) / group->size;
    // In blocks that stay in L1, each a vectorisable loop per rank.
    constexpr int64_t kBlock = 1024;
    float total[kBlock];
    for (int64_t at = first; at < last; at += kBlock) {
      int64_t n = std::min(kBlock, last - at);
      const float *rank0 = group->exchanges[0][index].data + at;
      std::copy(rank0, rank0 + n, total);
      for (int r = 1; r < group->size; ++r) {
        const float *theirs = group->exchanges[r][index].data + at;
        for (int64_t i = 0; i < n; ++i)
          total[i] += theirs[i];
      }
      for (int r = 0; r < group->size; ++r)
        std::copy(total, total + n, group->exchanges[r][index].data + at);
    }
    group->barrier.arrive_and_wait();
  }

  std::shared_ptr<RankGroup> group;
  int myRank;
  std::vector<double> waitSeconds;
};

} // namespace

std::vector<std::unique_ptr<Communicator>> makeInProcessRanks(int ranks) {
  auto group = std::make_shared<RankGroup>(ranks);
  std::vector<std::unique_ptr<Communicator>> comms;
  for (int r = 0; r < ranks; ++r)
    comms.push_back(std::make_unique<InProcessRank>(group, r));
  return comms;
}

llvm::Expected<std::shared_ptr<const Dataset>> SharedDataset::get(Loader load) {
  std::call_once(once, [&] {
    auto loaded = load();
    if (loaded)
      data = std::move(*loaded);
    else
      error = llvm::toString(loaded.takeError());
  });
  if (!data)
    return llvm::createStringError(error);
  return data;
}

} // namespace nnc
