//===- ThreadPool.h - Persistent threads that run compiled steps ----------===//
//
// A training step takes tens of microseconds, so threads must not be created
// or woken through the kernel per step: workers spin briefly waiting for the
// next step before sleeping, and the barrier between kernels spins. Every
// thread that runs kernels flushes denormals to zero (FTZ and DAZ), as
// TensorFlow does on CPU: Adam's moments decay into the denormal range, where
// arithmetic is many times slower.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_THREADPOOL_H
#define NNC_RUNTIME_THREADPOOL_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace nnc {

class ThreadPool {
public:
  /// Starts the workers. `numThreads` counts the calling thread, which runs
  /// index 0. Fails, with no thread left running, when the system refuses
  /// a thread (its limits on threads, memory maps or address space).
  static llvm::Expected<std::unique_ptr<ThreadPool>>
  create(unsigned numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;

  unsigned size() const { return numThreads; }

  /// Runs `fn(index)` on every thread and returns when all have finished.
  void run(llvm::function_ref<void(unsigned)> fn);

  /// The barrier among the threads inside run(), with the signature of
  /// StepContext::barrier.
  static void barrier(void *pool);

private:
  explicit ThreadPool(unsigned numThreads) : numThreads(numThreads) {}
  void workerLoop(unsigned index);
  void arriveAndWait();

  unsigned numThreads;
  std::vector<std::thread> workers;
  llvm::function_ref<void(unsigned)> job;
  alignas(64) std::atomic<uint64_t> generation{0};
  alignas(64) std::atomic<unsigned> finished{0};
  alignas(64) std::atomic<unsigned> arrived{0};
  alignas(64) std::atomic<uint64_t> barrierPhase{0};
  std::atomic<bool> stopping{false};
};

/// Sets flush-to-zero and denormals-are-zero on the calling thread while in
/// scope, and restores the previous mode after.
class FlushDenormals {
public:
  FlushDenormals();
  ~FlushDenormals();

private:
  unsigned saved;
};

} // namespace nnc

#endif
