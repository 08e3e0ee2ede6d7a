//===- Executor.h - Running one graph, compiled or interpreted --*- C++ -*-===//
//
// The training loop drives both engines through this interface: write the
// batch into argument(i), run(), read result(i). The variables live in a
// ModelState that both engines read and update, so the interpreter and the
// JIT can continue each other's training from identical weights.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_EXECUTOR_H
#define NNC_RUNTIME_EXECUTOR_H

#include "codegen/Compiler.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/Communicator.h"
#include "runtime/Interpreter.h"
#include "runtime/ModelState.h"
#include "runtime/ThreadPool.h"

#include <memory>

namespace nnc {

class GraphExecutor {
public:
  explicit GraphExecutor(const Graph &g) : g(g) {}
  virtual ~GraphExecutor() = default;

  const Graph &graph() const { return g; }

  /// Where argument `i` is written before run(), in its element type,
  /// row-major.
  virtual void *argument(unsigned i) = 0;
  virtual llvm::Error run() = 0;

  /// Where a writer passed to run(write) puts its share of argument `i`,
  /// viewed as [rows, columns] (its first dimension by the rest): element
  /// (r, c) of a column c that thread `thread` owns (nnc::ownedRows over
  /// the columns) goes to origin[r * rowStride + c]. Row-major unless the
  /// compiled step wants the argument blocked by owner.
  struct ArgumentRows {
    void *origin;
    int64_t rowStride;
  };
  virtual ArgumentRows argumentRows(unsigned i, unsigned thread,
                                    unsigned numThreads);

  /// Writes the arguments and runs: `write(t, n)` is called on each of the
  /// n threads that will run the step, which writes its share (a thread
  /// writing the rows it owns, by nnc::ownedRows, finds them in its own
  /// cache when its kernels read them). `afterStep(t, n)`, if given, is
  /// called on each thread when it has done its share of the step, while
  /// other threads may still be running theirs: for work that touches
  /// neither the arguments nor the results (asking for the next batch).
  using ThreadTask =
      llvm::function_ref<void(unsigned thread, unsigned numThreads)>;
  using ArgumentWriter = ThreadTask;
  virtual llvm::Error run(ArgumentWriter write, ThreadTask afterStep = {}) {
    write(0, 1);
    llvm::Error err = run();
    if (!err && afterStep)
      afterStep(0, 1);
    return err;
  }
  /// Result `i` of the last run.
  virtual HostTensor result(unsigned i) const = 0;
  /// The first element of result `i`, without allocating (the loss and the
  /// accuracy, read every step).
  virtual double scalarResult(unsigned i) const { return result(i)[0]; }

protected:
  const Graph &g;
};

/// Runs a compiled step over its planned arena on a thread pool. A step
/// with `allreduce` ops (a data-parallel step) exchanges through `comm`.
class JitExecutor : public GraphExecutor {
public:
  /// An executor whose arena and per-thread scratch memory the system
  /// refused is an error naming the graph and the bytes it needed.
  static llvm::Expected<std::unique_ptr<JitExecutor>>
  create(const Graph &g, const CompiledStep &step, ModelState &state,
         ThreadPool &pool, Communicator *comm = nullptr);
  /// For steps known to be small (tests): running out of memory is
  /// reported as a failed `new` is.
  JitExecutor(const Graph &g, const CompiledStep &step, ModelState &state,
              ThreadPool &pool, Communicator *comm = nullptr);

  void *argument(unsigned i) override;
  ArgumentRows argumentRows(unsigned i, unsigned thread,
                            unsigned numThreads) override;
  llvm::Error run() override;
  llvm::Error run(ArgumentWriter write, ThreadTask afterStep = {}) override;
  HostTensor result(unsigned i) const override;
  double scalarResult(unsigned i) const override;

  /// When compiled with profiling: thread `t`'s cycle-counter ticks so far,
  /// laid out as StepContext::kernelCycles.
  llvm::ArrayRef<uint64_t> threadCycles(unsigned t) const {
    return llvm::ArrayRef(cycles).slice(t * cyclesStride,
                                        2 * step.kernelNames.size());
  }
  /// When compiled with profiling: per kernel, the fewest ticks one run of
  /// it took, on its slowest thread. Unlike the totals, this is what the
  /// code costs when nothing else on the machine interferes.
  llvm::ArrayRef<uint64_t> bestKernelCycles() const { return best; }
  /// When compiled with profiling, the runtime's part of run(write): per
  /// thread, ticks spent writing the arguments and waiting at the barrier
  /// after; and the fewest ticks one run's writing took on its slowest
  /// thread. Zero when no run wrote its arguments.
  struct ArgumentWriteCycles {
    std::vector<uint64_t> writing, waiting;
    uint64_t best = UINT64_MAX;
    int64_t runs = 0;
  };
  const ArgumentWriteCycles &argumentWriteCycles() const { return writes; }
  unsigned numThreads() const { return pool.size(); }
  int64_t runs() const { return runCount; }
  const CompiledStep &compiledStep() const { return step; }
  /// The ranks a data-parallel step exchanges with; null in one process.
  const Communicator *communicator() const { return comm; }

private:
  JitExecutor(const Graph &g, const CompiledStep &step, ModelState &state,
              ThreadPool &pool, Communicator *comm, AlignedBuffer arena,
              AlignedBuffer threadScratch);
  const void *bufferOf(const Value *v) const;
  void recordBestCycles();
  /// Whether argument `i` is stored blocked by owner on this pool.
  bool blocked(unsigned i) const {
    return pool.size() > 1 && i < step.argumentsBlockedByOwner.size() &&
           step.argumentsBlockedByOwner[i];
  }
  /// Copies what was written to argument(i) (row-major) into the blocked
  /// layout the step reads.
  void blockStagedArguments();
  StepContext contextOf(unsigned thread);
  /// Before a run: whether the step's exchanges have somewhere to go.
  llvm::Error checkExchange() const;
  /// After a run: what went wrong in its exchanges.
  llvm::Error exchangeErrors();

  const CompiledStep &step;
  Communicator *comm;
  StepExchange exchange;
  ModelState &state;
  ThreadPool &pool;
  AlignedBuffer arena;
  AlignedBuffer threadScratch;
  /// Each thread's counters start on their own cache line.
  size_t cyclesStride;
  std::vector<uint64_t> cycles, cyclesBefore, best;
  ArgumentWriteCycles writes;
  /// Per argument blocked by owner: where argument(i) is written for run().
  std::vector<AlignedBuffer> staged;
  /// One run's ticks writing, waiting and after the step, a cache line
  /// per thread.
  static constexpr size_t kTicksStride = 64 / sizeof(uint64_t);
  std::vector<uint64_t> writeTicks;
  int64_t runCount = 0;
};

/// Runs the graph with the reference interpreter, rounding to f32 per op;
/// its `allreduce` ops sum through `comm`.
class InterpreterExecutor : public GraphExecutor {
public:
  InterpreterExecutor(const Graph &g, ModelState &state,
                      Communicator *comm = nullptr);

  void *argument(unsigned i) override { return arguments[i].data(); }
  llvm::Error run() override;
  using GraphExecutor::run;
  HostTensor result(unsigned i) const override { return results[i]; }

private:
  ModelState &state;
  Communicator *comm;
  std::vector<AlignedBuffer> arguments;
  std::vector<HostTensor> results;
};

} // namespace nnc

#endif
