//===- SpinBarrier.h - A barrier for a training step's phases --*- C++ -*-===//
//
// A step of the seed model takes a fraction of a millisecond and needs two
// barriers, so a futex-based std::barrier's wake-up latency would dominate.
// Threads spin briefly, then yield: the benchmark machine is shared, and a
// waiter that spins for long would take the core from the thread it waits for.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_SPINBARRIER_H
#define NNC_BENCH_REFERENCE_SPINBARRIER_H

#include <atomic>
#include <thread>

#include <immintrin.h>

namespace nnc::bench {

class SpinBarrier {
public:
  explicit SpinBarrier(int threads) : threads(threads) {}

  void wait() {
    if (threads == 1)
      return;
    unsigned generation = this->generation.load(std::memory_order_acquire);
    if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == threads) {
      arrived.store(0, std::memory_order_relaxed);
      this->generation.store(generation + 1, std::memory_order_release);
      return;
    }
    for (int spins = 0;
         this->generation.load(std::memory_order_acquire) == generation;
         ++spins) {
      if (spins < 20000)
        _mm_pause();
      else
        std::this_thread::yield();
    }
  }

private:
  const int threads;
  std::atomic<int> arrived{0};
  std::atomic<unsigned> generation{0};
};

} // namespace nnc::bench

#endif
