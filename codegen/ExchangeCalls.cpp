//===- ExchangeCalls.cpp - A step's calls into the runtime's exchange -----===//
#include "codegen/ExchangeCalls.h"
#include "codegen/StepABI.h"

#include "llvm/IR/Intrinsics.h"

#include <cassert>

namespace nnc::codegen {

namespace {

/// The first op after `allreduce` that reads one of its results, seen
/// through reshapes (which only view them); null if none does.
const Op *firstReaderOf(const Op &allreduce,
                        const llvm::DenseMap<const Op *, size_t> &position) {
  const Op *first = nullptr;
  llvm::SmallVector<nnc::Value *, 1> results = allreduce.results();
  llvm::SmallVector<const nnc::Value *, 4> views(results.begin(),
                                                 results.end());
  for (size_t i = 0; i < views.size(); ++i)
    for (const Use &u : views[i]->uses()) {
      if (u.user->is(OpKind::Reshape)) {
        views.push_back(u.user->result());
        continue;
      }
      if (!first || position.lookup(u.user) < position.lookup(first))
        first = u.user;
    }
  return first;
}

} // namespace

ExchangeCalls::ExchangeCalls(const Graph &g, const MemoryPlan &plan)
    : plan(plan) {
  llvm::DenseMap<const Op *, size_t> position;
  for (const Op &op : g.ops())
    position[&op] = position.size();
  for (const Op &op : g.ops())
    if (op.is(OpKind::AllReduce))
      firstReader[&op] = firstReaderOf(op, position);
}

void ExchangeCalls::call(llvm::IRBuilder<> &b, const StepValues &v,
                         int32_t request, int32_t index, llvm::Value *data,
                         int64_t count, unsigned profileSlot,
                         llvm::function_ref<void(llvm::IRBuilder<> &)> before) {
  llvm::LLVMContext &ctx = b.getContext();
  llvm::Function *f = b.GetInsertBlock()->getParent();
  auto *body = llvm::BasicBlock::Create(ctx, "exchange", f);
  auto *done = llvm::BasicBlock::Create(ctx, "exchange.done", f);
  b.CreateCondBr(b.CreateICmpEQ(v.thread, b.getInt32(0)), body, done);
  b.SetInsertPoint(body);
  auto now = [&] {
    return b.CreateIntrinsic(llvm::Intrinsic::readcyclecounter, {}, {});
  };
  llvm::Value *t0 = v.cycles ? now() : nullptr;
  if (before)
    before(b);
  llvm::Type *ptr = b.getPtrTy();
  auto *type = llvm::FunctionType::get(
      b.getVoidTy(), {ptr, b.getInt32Ty(), b.getInt32Ty(), ptr, b.getInt64Ty()},
      false);
  b.CreateCall(type, v.function,
               {v.state, b.getInt32(request), b.getInt32(index),
                data ? data : llvm::ConstantPointerNull::get(b.getPtrTy()),
                b.getInt64(count)});
  if (v.cycles) {
    // Into this thread's counter of the exchange's row (StepContext).
    llvm::Value *slot = b.CreateInBoundsGEP(b.getInt64Ty(), v.cycles,
                                            b.getInt64(2 * profileSlot + 1));
    b.CreateStore(
        b.CreateAdd(b.CreateLoad(b.getInt64Ty(), slot), b.CreateSub(now(), t0)),
        slot);
  }
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

void ExchangeCalls::start(llvm::IRBuilder<> &b, const StepValues &v,
                          const Op &allreduce, unsigned profileSlot,
                          AddressOf addressOf) {
  // The results lie side by side (passes/MemoryPlanning): one range.
  int64_t begin = plan.slot(allreduce.result(0)).offset;
  int64_t end = begin;
  for (const nnc::Value *r : allreduce.results()) {
    BufferSlot s = plan.slot(r);
    assert(s.storage == Storage::Arena && s.offset == alignTo(end, 64) &&
           "an allreduce's results must be contiguous in the arena");
    end = s.offset + r->type().byteSize();
  }
  int64_t count = (end - begin) / int64_t(sizeof(float));
  llvm::Value *data = addressOf(b, allreduce.result(0));
  auto copies = [&](llvm::IRBuilder<> &cb) {
    for (unsigned i = 0; i < allreduce.numOperands(); ++i) {
      BufferSlot from = plan.slot(allreduce.operand(i));
      BufferSlot to = plan.slot(allreduce.result(i));
      if (from.storage == to.storage && from.offset == to.offset)
        continue; // summed in place
      cb.CreateMemCpy(addressOf(cb, allreduce.result(i)), llvm::MaybeAlign(64),
                      addressOf(cb, allreduce.operand(i)), llvm::MaybeAlign(64),
                      allreduce.operand(i)->type().byteSize());
    }
  };
  int32_t index = started++;
  call(b, v, kExchangeStart, index, data, count, profileSlot, copies);
  inFlight.push_back({&allreduce, index, profileSlot});
}

void ExchangeCalls::wait(llvm::IRBuilder<> &b, const StepValues &v,
                         const InFlight &e) {
  call(b, v, kExchangeWait, e.index, nullptr, 0, e.profileSlot);
}

std::vector<const Op *> ExchangeCalls::waitBefore(llvm::IRBuilder<> &b,
                                                  const StepValues &v,
                                                  const Op &op) {
  std::vector<const Op *> done;
  for (auto it = inFlight.begin(); it != inFlight.end();) {
    if (firstReader.lookup(it->op) != &op) {
      ++it;
      continue;
    }
    wait(b, v, *it);
    done.push_back(it->op);
    it = inFlight.erase(it);
  }
  return done;
}

void ExchangeCalls::waitForAll(llvm::IRBuilder<> &b, const StepValues &v) {
  for (const InFlight &e : inFlight)
    wait(b, v, e);
  inFlight.clear();
}

void ExchangeCalls::poll(llvm::IRBuilder<> &b, const StepValues &v) {
  if (inFlight.empty())
    return;
  // The time goes to the oldest exchange, the one the polls serve first.
  call(b, v, kExchangePoll, -1, nullptr, 0, inFlight.front().profileSlot);
}

} // namespace nnc::codegen
