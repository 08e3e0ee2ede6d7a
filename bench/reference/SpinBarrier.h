//===- SpinBarrier.h - A barrier for a training step's phases --*- C++ -*-===//
//
// A step of the seed model takes a fraction of a millisecond and needs two
// barriers, so waiters spin first: a futex wake-up would cost more than the
// wait. The benchmark machine is shared, though, and when another process
// holds a core a spinning waiter only delays the thread it waits for; so
// after a short spin it sleeps (C++20 atomic wait, a futex on Linux).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_SPINBARRIER_H
#define NNC_BENCH_REFERENCE_SPINBARRIER_H

#include <atomic>

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
      // libstdc++ skips the system call when no thread sleeps.
      this->generation.notify_all();
      return;
    }
    // Microseconds: longer than the two halves of a step usually differ,
    // far shorter than a scheduler time slice.
    for (int spins = 0; spins < 2000; ++spins) {
      if (this->generation.load(std::memory_order_acquire) != generation)
        return;
      _mm_pause();
    }
    while (this->generation.load(std::memory_order_acquire) == generation)
      this->generation.wait(generation, std::memory_order_acquire);
  }

private:
  const int threads;
  std::atomic<int> arrived{0};
  std::atomic<unsigned> generation{0};
};

} // namespace nnc::bench

#endif
