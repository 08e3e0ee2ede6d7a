//===- DataParallel.cpp - Gradients averaged over the ranks of a job ------===//
//
// In data-parallel training every rank runs the same training step on its
// own 1/N of the global batch; the step's gradients are the means of the
// ranks' gradients, and each rank then applies the same update to the same
// weights. This pass runs between autodiff and the optimizer and makes that
// exchange part of the graph:
//
//   - the values to exchange are the `grad.*` results and the other f32
//     results: the loss and the metrics, which a training step returns as
//     means over the batch (of a scalar, or of a statistic such as a
//     confusion matrix's), so that their mean over the ranks is the global
//     batch's; constants are the same on every rank and stay as they are;
//   - they are sorted by when they become ready (the position of the op
//     computing them: the last layers' gradients come first in the backward
//     pass) and cut into buckets as PyTorch DDP cuts its gradient buckets
//     (and Horovod fuses tensors): a bucket closes once it holds
//     `bucket-bytes` or more;
//   - each bucket becomes one `allreduce`, placed right after the op that
//     computes its last value, so that its exchange runs while the rest of
//     the backward pass is computed; the runtime waits for it only before
//     the first op that reads its results;
//   - each result of the step is replaced by its sum over ranks times 1/N,
//     computed at the end of the graph, where the optimizer will read it:
//     fusion folds the scaling into the update;
//   - the grad.* results are put in the order their buckets complete, so
//     that the optimizer updates the first bucket's parameters while the
//     later buckets are still in flight;
//   - the step's state updates (batch normalization's moving statistics)
//     are exchanged too and averaged, as the results are, then assigned at
//     the end of the step, so that every rank keeps the same state;
//   - random numbers drawn for each example (dropout's masks: a
//     random_uniform whose first axis is the rank's share of the batch) are
//     numbered from the share's first element in the global batch, so that
//     the ranks together draw the numbers one process draws, not each the
//     first share's: the graph gets an i32[] argument, the index of the
//     rank's first example (counter_random::kFirstExampleArgument), which
//     the runtime writes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/CounterRandom.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

namespace nnc {

namespace {

/// A value to exchange and when it is ready.
struct Exchanged {
  Value *value;
  size_t readyAt; ///< position of its defining op (0 for an argument)
};

class DataParallel : public Pass {
public:
  llvm::StringRef name() const override { return "data-parallel"; }
  llvm::StringRef description() const override {
    return "average the grad.* results and the other results (batch means) "
           "over the ranks of a data-parallel job, in buckets exchanged by "
           "allreduce";
  }
  std::vector<std::string> optionHelp() const override {
    return {"ranks=" + std::to_string(ranks) +
                "  processes in the job (1: the pass changes nothing)",
            "bucket-bytes=" + std::to_string(bucketBytes) +
                "  an allreduce's bucket closes once it holds this many "
                "bytes"};
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    int64_t *slot = key == "ranks"          ? &ranks
                    : key == "bucket-bytes" ? &bucketBytes
                                            : nullptr;
    if (!slot)
      return Pass::setOption(key, value);
    int64_t n;
    if (value.trim().getAsInteger(10, n) || n < 1)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "option '" + key +
              "' of pass 'data-parallel' expects a positive "
              "integer, got '" +
              value + "'");
    *slot = n;
    return llvm::Error::success();
  }

  llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) override {
    bool any = false;
    for (Graph &g : m.graphs()) {
      if (!hasGradients(g))
        continue;
      any = true;
      if (ranks > 1) {
        exchange(g);
        numberShares(g);
      }
    }
    if (!any) {
      diag.error(Location(),
                 "'data-parallel' needs gradients: run 'autodiff' first");
      return llvm::failure();
    }
    return llvm::success();
  }

private:
  /// Whether result `i` of the graph is averaged over the ranks: every f32
  /// result that is not the same on every rank.
  static bool isExchanged(const Graph &g, unsigned i) {
    Value *v = g.terminator()->operand(i);
    Op *def = v->definingOp();
    if (def && def->is(OpKind::Constant))
      return false;
    return v->type().element() == ElementType::F32;
  }

  /// Puts the grad.* results in the order their buckets complete, so that
  /// the optimizer, which updates in the order of the results, updates the
  /// parameters of the first bucket while the later ones are in flight.
  static void orderGradients(Graph &g,
                             const llvm::DenseMap<Value *, size_t> &rank) {
    Op *ret = g.terminator();
    std::vector<unsigned> order(ret->numOperands());
    std::iota(order.begin(), order.end(), 0u);
    auto key = [&](unsigned i) -> size_t {
      if (!llvm::StringRef(g.resultNames()[i]).starts_with("grad."))
        return 0; // the loss and the metrics keep their places, first
      auto it = rank.find(ret->operand(i));
      return it == rank.end() ? SIZE_MAX : it->second + 1;
    };
    llvm::stable_sort(order,
                      [&](unsigned a, unsigned b) { return key(a) < key(b); });
    llvm::SmallVector<Value *, 8> operands;
    std::vector<std::string> names;
    for (unsigned i : order) {
      operands.push_back(ret->operand(i));
      names.push_back(g.resultNames()[i]);
    }
    ret->setOperands(operands);
    g.setResultNames(std::move(names));
  }

  void exchange(Graph &g) {
    Op *ret = g.terminator();
    llvm::DenseMap<const Op *, size_t> position;
    for (Op &op : g.ops())
      position[&op] = position.size() + 1;

    // Each value once, however many results return it.
    llvm::SetVector<Value *> values;
    for (unsigned i = 0; i < ret->numOperands(); ++i)
      if (isExchanged(g, i))
        values.insert(ret->operand(i));
    // Before the optimizer, the step's assigns are its state updates.
    std::vector<Op *> stateUpdates;
    for (Op &op : g.ops())
      if (op.is(OpKind::Assign) && isAveragedUpdate(op)) {
        stateUpdates.push_back(&op);
        values.insert(op.operand(1));
      }
    std::vector<Exchanged> ready;
    for (Value *v : values)
      ready.push_back({v, v->definingOp() ? position[v->definingOp()] : 0});
    llvm::stable_sort(ready, [](const Exchanged &a, const Exchanged &b) {
      return a.readyAt < b.readyAt;
    });

    // Buckets in the order they fill; as in DDP, a bucket is closed once
    // it holds bucket-bytes or more, so only the last is smaller.
    std::vector<std::vector<Exchanged>> buckets;
    int64_t filled = bucketBytes;
    for (const Exchanged &e : ready) {
      if (filled >= bucketBytes) {
        buckets.emplace_back();
        filled = 0;
      }
      buckets.back().push_back(e);
      filled += e.value->type().byteSize();
    }

    // One allreduce per bucket, after the op computing its last value.
    llvm::DenseMap<Value *, Value *> sums;
    llvm::DenseMap<Value *, size_t> readiness; // of the values returned
    for (const std::vector<Exchanged> &bucket : buckets)
      for (const Exchanged &e : bucket)
        readiness[e.value] = readiness.size();
    orderGradients(g, readiness);
    Builder b(g);
    for (const std::vector<Exchanged> &bucket : buckets) {
      const Exchanged &last = bucket.back();
      Op *lastDef = last.value->definingOp();
      if (lastDef)
        b.setInsertionPointAfter(lastDef);
      else
        b.setInsertionPointToStart(g);
      b.setLoc(lastDef ? lastDef->loc() : ret->loc());
      llvm::SmallVector<Value *, 4> operands;
      for (const Exchanged &e : bucket)
        operands.push_back(e.value);
      Op *allreduce = b.create(OpKind::AllReduce, operands);
      for (unsigned i = 0; i < bucket.size(); ++i) {
        Value *sum = allreduce->result(i);
        if (!bucket[i].value->name().empty())
          sum->setName(bucket[i].value->name() + ".sum");
        sums[bucket[i].value] = sum;
        bytesExchanged += bucket[i].value->type().byteSize();
      }
      ++numBuckets;
    }

    // The means, where the optimizer reads them.
    b.setInsertionPoint(ret);
    b.setLoc(ret->loc());
    Value *scale = b.scalar(1.0 / double(ranks));
    llvm::DenseMap<Value *, Value *> means;
    for (unsigned i = 0; i < ret->numOperands(); ++i) {
      Value *v = ret->operand(i);
      Value *sum = sums.lookup(v);
      if (!sum)
        continue;
      Value *&mean = means[v];
      if (!mean) {
        mean = b.mul(sum, scale);
        if (!v->name().empty())
          mean->setName(v->name() + ".mean");
        ++numExchanged;
      }
      ret->setOperand(i, mean);
    }
    // The state updates, averaged, at the end of the step: every read of
    // a variable sees its value from before the step wherever its assign
    // stands, so the update waits for its exchange there, not mid-step.
    for (Op *update : stateUpdates) {
      Value *value = update->operand(1);
      Value *&mean = means[value];
      if (!mean) {
        mean = b.mul(sums.lookup(value), scale);
        if (!value->name().empty())
          mean->setName(value->name() + ".mean");
        ++numAveragedUpdates;
      }
      b.setLoc(update->loc());
      b.assign(update->operand(0), mean);
      update->erase();
    }
  }

  /// Whether a state update differs between ranks: one of an f32 value
  /// that is not a constant, as batch normalization's moving statistics
  /// (computed from each rank's share of the batch). Averaged, every rank
  /// keeps the same state, updated as Keras's BatchNormalization updates
  /// it under a MirroredStrategy: the mean of the replicas' updates.
  static bool isAveragedUpdate(const Op &assign) {
    Value *value = assign.operand(1);
    Op *def = value->definingOp();
    return value->type().element() == ElementType::F32 &&
           !(def && def->is(OpKind::Constant));
  }

  /// Gives each random_uniform over the share of the batch the index of
  /// its first element in the global batch: the rank's first example (an
  /// argument) times the elements per example. The share's first axis is
  /// the arguments' (the inputs' and the label's); a tensor whose first
  /// axis is not the batch is drawn whole on every rank, as in one process.
  void numberShares(Graph &g) {
    if (g.numArguments() == 0 || g.argument(0)->type().rank() == 0)
      return;
    int64_t share = g.argument(0)->type().dim(0);
    std::vector<Op *> draws;
    for (Op &op : g.ops())
      if (op.is(OpKind::RandomUniform) && op.numOperands() == 1 &&
          op.result()->type().rank() > 0 && op.result()->type().dim(0) == share)
        draws.push_back(&op);
    if (draws.empty())
      return;
    Value *first = g.addArgument(TensorType(ElementType::I32, {}),
                                 counter_random::kFirstExampleArgument.str());
    Builder b(g);
    for (Op *op : draws) {
      b.setInsertionPoint(op);
      b.setLoc(op->loc());
      int64_t perExample = op->result()->type().numElements() / share;
      Value *offset =
          b.mul(first, b.scalar(double(perExample), ElementType::I32));
      op->setOperands({op->operand(0), offset});
      ++numShardedDraws;
    }
  }

  int64_t ranks = 1;
  /// PyTorch DDP's first bucket holds 1 MiB, later ones 25 MiB; on models
  /// whose gradients are a few MiB in all, 1 MiB buckets are what lets the
  /// exchange start before the backward pass ends (docs/distributed.md).
  int64_t bucketBytes = 1 << 20;

  Statistic numBuckets{this, "buckets", "allreduce ops (gradient buckets)"};
  Statistic numExchanged{this, "values", "results averaged over the ranks"};
  Statistic bytesExchanged{this, "bytes", "bytes each rank exchanges a step"};
  Statistic numAveragedUpdates{this, "state-updates",
                               "state updates averaged over the ranks"};
  Statistic numShardedDraws{this, "sharded-draws",
                            "random_uniform ops numbered from the rank's "
                            "first example"};
};

} // namespace

std::unique_ptr<Pass> createDataParallelPass() {
  return std::make_unique<DataParallel>();
}

} // namespace nnc
