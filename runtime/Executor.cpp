//===- Executor.cpp - Running one graph, compiled or interpreted ----------===//
#include "runtime/Executor.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <x86intrin.h>

namespace nnc {

llvm::Expected<std::unique_ptr<JitExecutor>>
JitExecutor::create(const Graph &g, const CompiledStep &step, ModelState &state,
                    ThreadPool &pool, Communicator *comm) {
  std::string batch;
  if (g.numArguments() && g.argument(0)->type().rank())
    batch = " at batch " + std::to_string(g.argument(0)->type().dim(0));
  auto arena = AlignedBuffer::allocate(
      size_t(step.plan->arenaBytes), "the arena of step @" + g.name() + batch);
  if (!arena)
    return arena.takeError();
  auto scratch = AlignedBuffer::allocate(
      size_t(step.threadScratchBytes) * pool.size(),
      "the per-thread scratch memory of step @" + g.name());
  if (!scratch)
    return scratch.takeError();
  return std::unique_ptr<JitExecutor>(new JitExecutor(
      g, step, state, pool, comm, std::move(*arena), std::move(*scratch)));
}

JitExecutor::JitExecutor(const Graph &g, const CompiledStep &step,
                         ModelState &state, ThreadPool &pool,
                         Communicator *comm)
    : JitExecutor(
          g, step, state, pool, comm, AlignedBuffer(step.plan->arenaBytes),
          AlignedBuffer(size_t(step.threadScratchBytes) * pool.size())) {}

JitExecutor::JitExecutor(const Graph &g, const CompiledStep &step,
                         ModelState &state, ThreadPool &pool,
                         Communicator *comm, AlignedBuffer arena,
                         AlignedBuffer threadScratch)
    : GraphExecutor(g), step(step), comm(comm),
      exchange(comm ? comm->stepExchange() : StepExchange{}), state(state),
      pool(pool), arena(std::move(arena)),
      threadScratch(std::move(threadScratch)),
      cyclesStride(llvm::alignTo(2 * step.kernelNames.size(), 8)),
      cycles(cyclesStride * pool.size(), 0) {
  if (step.profiled) {
    cyclesBefore = cycles;
    best.assign(step.kernelNames.size(), UINT64_MAX);
    writes.writing.assign(pool.size(), 0);
    writes.waiting.assign(pool.size(), 0);
    writeTicks.assign(kTicksStride * pool.size(), 0);
  }
}

namespace {
/// An argument viewed as [rows, columns].
std::pair<int64_t, int64_t> rowsAndColumns(const TensorType &t) {
  int64_t rows = t.rank() ? t.dim(0) : 1;
  return {rows, rows ? t.numElements() / rows : 0};
}
} // namespace

GraphExecutor::ArgumentRows GraphExecutor::argumentRows(unsigned i, unsigned,
                                                        unsigned) {
  return {argument(i), rowsAndColumns(g.argument(i)->type()).second};
}

void *JitExecutor::argument(unsigned i) {
  if (blocked(i)) {
    if (staged.size() <= i)
      staged.resize(g.numArguments());
    if (!staged[i].data())
      staged[i] = AlignedBuffer(g.argument(i)->type().byteSize());
    return staged[i].data();
  }
  return const_cast<void *>(bufferOf(g.argument(i)));
}

GraphExecutor::ArgumentRows
JitExecutor::argumentRows(unsigned i, unsigned thread, unsigned numThreads) {
  const TensorType &t = g.argument(i)->type();
  auto [rows, columns] = rowsAndColumns(t);
  char *base = static_cast<char *>(const_cast<void *>(bufferOf(g.argument(i))));
  if (!blocked(i))
    return {base, columns};
  assert(numThreads == pool.size() && "written by the pool's threads");
  auto [begin, end] = ownedRows(columns, thread, numThreads);
  int64_t shift = (rows - 1) * begin * elementByteSize(t.element());
  return {base + shift, end - begin};
}

void JitExecutor::blockStagedArguments() {
  for (unsigned i = 0; i < g.numArguments(); ++i) {
    if (!blocked(i) || staged.size() <= i || !staged[i].data())
      continue;
    const TensorType &t = g.argument(i)->type();
    auto [rows, columns] = rowsAndColumns(t);
    size_t bytes = elementByteSize(t.element());
    const char *from = static_cast<const char *>(staged[i].data());
    for (unsigned thread = 0; thread < pool.size(); ++thread) {
      auto [begin, end] = ownedRows(columns, thread, pool.size());
      ArgumentRows to = argumentRows(i, thread, pool.size());
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(
            static_cast<char *>(to.origin) + (r * to.rowStride + begin) * bytes,
            from + (r * columns + begin) * bytes, (end - begin) * bytes);
    }
  }
}

const void *JitExecutor::bufferOf(const Value *v) const {
  BufferSlot s = step.plan->slot(v);
  const char *base = s.storage == Storage::State ? state.data() : arena.data();
  return base + s.offset;
}

StepContext JitExecutor::contextOf(unsigned thread) {
  return {arena.data(),
          state.data(),
          int32_t(thread),
          int32_t(pool.size()),
          &ThreadPool::barrier,
          &pool,
          cycles.data() + thread * cyclesStride,
          threadScratch.data(),
          exchange.function,
          exchange.state};
}

llvm::Error JitExecutor::exchangeErrors() {
  return comm ? comm->takeStepError() : llvm::Error::success();
}

llvm::Error JitExecutor::checkExchange() const {
  bool exchanges = llvm::any_of(
      g.ops(), [](const Op &op) { return op.is(OpKind::AllReduce); });
  if (exchanges && !exchange.function)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "@" + g.name() +
            " sums its gradients over the ranks of a data-parallel job, but "
            "this process is not part of one: start it with mpirun");
  return llvm::Error::success();
}

llvm::Error JitExecutor::run() {
  if (llvm::Error err = checkExchange())
    return err;
  blockStagedArguments();
  ++runCount;
  StepFunction fn = step.function;
  pool.run([&](unsigned thread) {
    StepContext ctx = contextOf(thread);
    fn(&ctx);
  });
  if (step.profiled)
    recordBestCycles();
  return exchangeErrors();
}

llvm::Error JitExecutor::run(ArgumentWriter write, ThreadTask afterStep) {
  if (llvm::Error err = checkExchange())
    return err;
  ++runCount;
  StepFunction fn = step.function;
  unsigned threads = pool.size();
  if (!step.profiled) {
    pool.run([&](unsigned thread) {
      write(thread, threads);
      ThreadPool::barrier(&pool);
      StepContext ctx = contextOf(thread);
      fn(&ctx);
      if (afterStep)
        afterStep(thread, threads);
    });
    return exchangeErrors();
  }
  pool.run([&](unsigned thread) {
    uint64_t t0 = __rdtsc();
    write(thread, threads);
    uint64_t t1 = __rdtsc();
    ThreadPool::barrier(&pool);
    uint64_t *mine = writeTicks.data() + thread * kTicksStride;
    mine[0] = t1 - t0;
    mine[1] = __rdtsc() - t1;
    StepContext ctx = contextOf(thread);
    fn(&ctx);
    uint64_t t2 = __rdtsc();
    if (afterStep)
      afterStep(thread, threads);
    mine[2] = __rdtsc() - t2;
  });
  uint64_t slowest = 0;
  for (unsigned t = 0; t < threads; ++t) {
    // The batch's work on this thread: writing it, and asking for the next.
    const uint64_t *ticks = writeTicks.data() + t * kTicksStride;
    uint64_t work = ticks[0] + ticks[2];
    writes.writing[t] += work;
    writes.waiting[t] += ticks[1];
    slowest = std::max(slowest, work);
  }
  writes.best = std::min(writes.best, slowest);
  ++writes.runs;
  recordBestCycles();
  return exchangeErrors();
}

void JitExecutor::recordBestCycles() {
  for (size_t k = 0; k < best.size(); ++k) {
    uint64_t slowest = 0;
    for (unsigned t = 0; t < pool.size(); ++t) {
      size_t slot = t * cyclesStride + 2 * k + 1;
      slowest = std::max(slowest, cycles[slot] - cyclesBefore[slot]);
    }
    best[k] = std::min(best[k], slowest);
  }
  cyclesBefore = cycles;
}

HostTensor JitExecutor::result(unsigned i) const {
  const Value *v = g.terminator()->operand(i);
  HostTensor t(v->type());
  const void *base = bufferOf(v);
  for (int64_t k = 0; k < t.size(); ++k)
    t[k] = loadElement(base, v->type().element(), k);
  return t;
}

double JitExecutor::scalarResult(unsigned i) const {
  const Value *v = g.terminator()->operand(i);
  return loadElement(bufferOf(v), v->type().element(), 0);
}

InterpreterExecutor::InterpreterExecutor(const Graph &g, ModelState &state,
                                         Communicator *comm)
    : GraphExecutor(g), state(state), comm(comm) {
  for (const Value *arg : g.arguments())
    arguments.emplace_back(arg->type().byteSize());
}

llvm::Error InterpreterExecutor::run() {
  std::vector<HostTensor> args;
  for (unsigned i = 0; i < g.numArguments(); ++i) {
    const TensorType &type = g.argument(i)->type();
    HostTensor t(type);
    for (int64_t k = 0; k < t.size(); ++k)
      t[k] = loadElement(arguments[i].data(), type.element(), k);
    args.push_back(std::move(t));
  }
  VariableValues vars;
  for (const StateLayout::Entry &e : state.layout().entries())
    vars[e.name] = state.read(e);
  auto sumOverRanks = [&](llvm::MutableArrayRef<double> values) {
    return comm ? comm->sum(values) : llvm::Error::success();
  };
  auto out = interpret(g, args, vars, Precision::F32, sumOverRanks);
  if (!out)
    return out.takeError();
  results = std::move(*out);
  for (const StateLayout::Entry &e : state.layout().entries())
    state.write(e, vars[e.name]);
  return llvm::Error::success();
}

} // namespace nnc
