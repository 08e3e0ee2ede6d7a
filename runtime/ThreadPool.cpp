//===- ThreadPool.cpp - Persistent threads that run compiled steps --------===//
#include "runtime/ThreadPool.h"
#include "runtime/AlignedBuffer.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <sys/resource.h>
#include <system_error>
#include <xmmintrin.h>

namespace nnc {

namespace {
/// MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
constexpr unsigned kFlushDenormals = 0x8040;

/// Waits spin this many times before sleeping. Kernels between barriers take
/// microseconds, so spinning usually wins; but when the machine is busier
/// than it has cores, a thread spinning for one that is not running wastes
/// a whole time slice, so waits fall back to sleeping in the kernel.
constexpr int kSpinsBeforeSleep = 2000;

inline void pause() { _mm_pause(); }
} // namespace

FlushDenormals::FlushDenormals() : saved(_mm_getcsr()) {
  _mm_setcsr(saved | kFlushDenormals);
}
FlushDenormals::~FlushDenormals() { _mm_setcsr(saved); }

llvm::Expected<std::unique_ptr<ThreadPool>>
ThreadPool::create(unsigned numThreads) {
  std::unique_ptr<ThreadPool> pool(new ThreadPool(std::max(numThreads, 1u)));
  pool->workers.reserve(pool->numThreads - 1);
  for (unsigned i = 1; i < pool->numThreads; ++i) {
    // std::thread reports the system's refusal as an exception; the pool's
    // destructor stops and joins the workers started before it.
    try {
      ThreadPool *self = pool.get();
      pool->workers.emplace_back([self, i] { self->workerLoop(i); });
    } catch (const std::system_error &e) {
      std::string why = e.code().message();
      // EAGAIN is either limit: on threads, or on the address space that
      // the new thread's stack must be mapped into.
      struct rlimit stack;
      if (e.code() == std::errc::resource_unavailable_try_again &&
          ::getrlimit(RLIMIT_STACK, &stack) == 0 &&
          stack.rlim_cur != RLIM_INFINITY)
        why += ": each thread's stack takes " + formatByteSize(stack.rlim_cur) +
               " of address space, and the system limits both the address "
               "space (ulimit -v) and the number of threads (ulimit -u)";
      return llvm::createStringError(
          e.code(), llvm::formatv("cannot start {0} threads: the system "
                                  "refused thread {1} ({2})",
                                  numThreads, i + 1, why)
                        .str());
    }
  }
  return pool;
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
    finished.notify_one();
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
  for (int spins = 0;; ++spins) {
    unsigned done = finished.load(std::memory_order_acquire);
    if (done == numThreads - 1)
      break;
    if (spins < kSpinsBeforeSleep)
      pause();
    else
      finished.wait(done, std::memory_order_acquire);
  }
}

void ThreadPool::arriveAndWait() {
  uint64_t phase = barrierPhase.load(std::memory_order_acquire);
  if (arrived.fetch_add(1, std::memory_order_acq_rel) == numThreads - 1) {
    arrived.store(0, std::memory_order_relaxed);
    barrierPhase.store(phase + 1, std::memory_order_release);
    barrierPhase.notify_all();
    return;
  }
  for (int spins = 0; barrierPhase.load(std::memory_order_acquire) == phase;
       ++spins) {
    if (spins < kSpinsBeforeSleep)
      pause();
    else
      barrierPhase.wait(phase, std::memory_order_acquire);
  }
}

void ThreadPool::barrier(void *pool) {
  auto *self = static_cast<ThreadPool *>(pool);
  if (self->numThreads > 1)
    self->arriveAndWait();
}

} // namespace nnc
