//===- ThreadPool.cpp - Persistent threads that run compiled steps --------===//
#include "runtime/ThreadPool.h"

#include <xmmintrin.h>

namespace nnc {

namespace {
/// MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
constexpr unsigned kFlushDenormals = 0x8040;

/// Spins for a while before sleeping: the next step usually comes within
/// microseconds.
constexpr int kSpinsBeforeSleep = 1 << 16;

inline void pause() { _mm_pause(); }
} // namespace

FlushDenormals::FlushDenormals() : saved(_mm_getcsr()) {
  _mm_setcsr(saved | kFlushDenormals);
}
FlushDenormals::~FlushDenormals() { _mm_setcsr(saved); }

ThreadPool::ThreadPool(unsigned n) : numThreads(n ? n : 1) {
  for (unsigned i = 1; i < numThreads; ++i)
    workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stopping.store(true);
  generation.fetch_add(1);
  generation.notify_all();
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::workerLoop(unsigned index) {
  _mm_setcsr(_mm_getcsr() | kFlushDenormals);
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    uint64_t now;
    while ((now = generation.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinsBeforeSleep)
        pause();
      else
        generation.wait(seen, std::memory_order_acquire);
    }
    seen = now;
    if (stopping.load())
      return;
    job(index);
    finished.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(llvm::function_ref<void(unsigned)> fn) {
  FlushDenormals flush;
  if (numThreads == 1) {
    fn(0);
    return;
  }
  job = fn;
  finished.store(0, std::memory_order_relaxed);
  generation.fetch_add(1, std::memory_order_acq_rel);
  generation.notify_all();
  fn(0);
  while (finished.load(std::memory_order_acquire) != numThreads - 1)
    pause();
}

void ThreadPool::arriveAndWait() {
  uint64_t phase = barrierPhase.load(std::memory_order_acquire);
  if (arrived.fetch_add(1, std::memory_order_acq_rel) == numThreads - 1) {
    arrived.store(0, std::memory_order_relaxed);
    barrierPhase.store(phase + 1, std::memory_order_release);
    return;
  }
  while (barrierPhase.load(std::memory_order_acquire) == phase)
    pause();
}

void ThreadPool::barrier(void *pool) {
  auto *self = static_cast<ThreadPool *>(pool);
  if (self->numThreads > 1)
    self->arriveAndWait();
}

} // namespace nnc
