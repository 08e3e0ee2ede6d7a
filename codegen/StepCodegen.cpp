//===- StepCodegen.cpp - One graph's step as LLVM IR ----------------------===//
#include "codegen/StepCodegen.h"
#include "codegen/ExchangeCalls.h"
#include "codegen/FusedKernels.h"
#include "codegen/GenericKernel.h"
#include "codegen/OperandAnalysis.h"

#include "ir/Builder.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/IR/Intrinsics.h"

#include <map>
#include <optional>

namespace nnc::codegen {

using llvm::Value;

std::string stepFunctionName(const Graph &g) { return "nnc.step." + g.name(); }

namespace {

/// Ops that compute nothing at the top level: storage, aliases, structure.
/// A constant is computed only when the plan gave it memory of its own.
bool needsKernel(const Op &op, const MemoryPlan &plan) {
  if (op.is(OpKind::Constant))
    return plan.slot(op.result()).storage == Storage::Arena;
  return !(isVariable(op) || op.is(OpKind::Reshape) || op.is(OpKind::Assign) ||
           op.is(OpKind::Return));
}

class StepEmitter {
public:
  StepEmitter(llvm::Module &m, const ModuleFactory &newModule, const Graph &g,
              const MemoryPlan &plan, const CodegenOptions &options,
              const TargetInfo &target)
      : m(m), ctx(m.getContext()), newModule(newModule), g(g), plan(plan),
        options(options), target(target) {}

  llvm::Expected<llvm::Function *> emit(CompiledStep &compiled) {
    llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
    llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
    // Mirrors StepContext in StepABI.h.
    contextType = llvm::StructType::create(
        ctx, {ptr, ptr, i32, i32, ptr, ptr, ptr, ptr, ptr, ptr},
        "nnc.StepContext");
    llvm::Function *step = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false),
        llvm::Function::ExternalLinkage, stepFunctionName(g), m);
    setAttributes(*step);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", step));
    Value *c = step->getArg(0);
    auto field = [&](unsigned i, llvm::Type *t, const char *name) {
      return b.CreateLoad(t, b.CreateStructGEP(contextType, c, i), name);
    };
    arena = field(0, ptr, "arena");
    state = field(1, ptr, "state");
    Value *tid = field(2, i32, "thread");
    Value *nthreads = field(3, i32, "threads");
    Value *barrier = field(4, ptr, "barrier");
    Value *barrierState = field(5, ptr, "barrier.state");
    Value *cycles = options.profile ? field(6, ptr, "cycles") : nullptr;
    Value *scratch = field(7, ptr, "thread.scratch");
    auto *barrierType =
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
    ExchangeCalls exchanges(g, plan);
    ExchangeCalls::StepValues exchange{};
    if (exchanges.any())
      exchange = {field(8, ptr, "exchange"), field(9, ptr, "exchange.state"),
                  tid, cycles};
    auto addressOf = [&](llvm::IRBuilder<> &ib, const nnc::Value *v) {
      return pointerTo(ib, v);
    };

    compiled.argumentsBlockedByOwner = argumentsBlockedByOwner(
        g, plan, options, [&](const Op &op, const KernelFormInfo &form) {
          return contractionOptions(op, form);
        });
    for (unsigned i = 0; i < g.numArguments(); ++i)
      if (compiled.argumentsBlockedByOwner[i])
        blockedArguments.insert(g.argument(i));

    auto now = [&] {
      return b.CreateIntrinsic(llvm::Intrinsic::readcyclecounter, {}, {});
    };
    auto accumulate = [&](unsigned slotIndex, Value *from, Value *to) {
      Value *slot =
          b.CreateInBoundsGEP(b.getInt64Ty(), cycles, b.getInt64(slotIndex));
      b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), slot),
                                b.CreateSub(to, from)),
                    slot);
    };
    unsigned index = 0;
    for (const Op &op : g.ops()) {
      // An exchange completes just before the first op that reads it; then
      // its thread-0 write of the block must be seen by the others.
      for (const Op *done : exchanges.waitBefore(b, exchange, op)) {
        std::vector<Access> block = accessesOf(*done, true);
        pending.insert(pending.end(), block.begin(), block.end());
      }
      if (op.is(OpKind::AllReduce)) {
        // Thread 0 reads the bucket once every thread has written its part.
        std::vector<Access> accesses = accessesOf(op, true);
        Value *waitStart = cycles ? now() : nullptr;
        if (conflicts(accesses)) {
          b.CreateCall(barrierType, barrier, {barrierState});
          pending.clear();
          scratchRead = false;
          ++compiled.barriers;
        }
        if (cycles)
          accumulate(2 * index, waitStart, now());
        pending.insert(pending.end(), accesses.begin(), accesses.end());
        exchanges.start(b, exchange, op, index, addressOf);
        compiled.kernelNames.push_back(g.name() + ".k" + std::to_string(index) +
                                       ".allreduce");
        compiled.kernelOps.push_back(&op);
        ++index;
        continue;
      }
      if (!needsKernel(op, plan))
        continue;
      std::string name =
          g.name() + ".k" + std::to_string(index) + "." + kernelLabel(op);
      auto kernel = emitKernel(op, name);
      if (!kernel)
        return kernel.takeError();
      Value *waitStart = cycles ? now() : nullptr;
      // A barrier only where this kernel would otherwise read what another
      // thread may still be writing, or overwrite what it may still read.
      // The thread scratch memory is one buffer that such kernels share: one
      // may not start writing it while another thread may still be reading
      // what the last one left there.
      std::vector<Access> accesses = accessesOf(op, kernel->threadZeroOnly);
      bool usesScratch = kernel->threadScratchBytes > 0;
      compiled.threadScratchBytes =
          std::max(compiled.threadScratchBytes, kernel->threadScratchBytes);
      if (conflicts(accesses) || (usesScratch && scratchRead)) {
        b.CreateCall(barrierType, barrier, {barrierState});
        pending.clear();
        scratchRead = false;
        ++compiled.barriers;
      }
      scratchRead |= usesScratch;
      pending.insert(pending.end(), accesses.begin(), accesses.end());
      Value *start = cycles ? now() : nullptr;
      if (cycles)
        accumulate(2 * index, waitStart, start);
      llvm::SmallVector<Value *, 8> args;
      for (const nnc::Value *buffer : kernel->buffers)
        args.push_back(pointerTo(b, buffer));
      args.push_back(tid);
      args.push_back(nthreads);
      args.push_back(barrier);
      args.push_back(barrierState);
      args.push_back(scratch);
      b.CreateCall(kernel->function, args);
      if (cycles)
        accumulate(2 * index + 1, start, now());
      compiled.kernelNames.push_back(name);
      compiled.kernelOps.push_back(&op);
      ++index;
      exchanges.poll(b, exchange);
    }
    exchanges.waitForAll(b, exchange);
    // The copies of assignments not done in place read values that other
    // threads wrote. The runtime waits for every thread after the step, so
    // nothing else needs a barrier at the end.
    if (!plan.finalCopies.empty()) {
      b.CreateCall(barrierType, barrier, {barrierState});
      ++compiled.barriers;
    }
    emitFinalCopies(b, tid);
    b.CreateRetVoid();
    return step;
  }

private:
  struct Kernel {
    llvm::Function *function;
    std::vector<const nnc::Value *> buffers; ///< one per pointer argument
    bool threadZeroOnly = false;
    int64_t threadScratchBytes = 0;
  };

  /// The bytes a kernel reads or writes, and whether only thread 0 does.
  struct Access {
    Storage storage;
    int64_t begin, end;
    bool write;
    bool threadZeroOnly;
  };

  /// Whether `next` touches memory that an access since the last barrier
  /// wrote (or, if `next` writes, read) from another thread.
  bool conflicts(llvm::ArrayRef<Access> next) const {
    for (const Access &a : next)
      for (const Access &p : pending) {
        if (a.storage != p.storage || a.end <= p.begin || p.end <= a.begin)
          continue;
        if (!a.write && !p.write)
          continue;
        if (a.threadZeroOnly && p.threadZeroOnly)
          continue;
        return true;
      }
    return false;
  }

  std::vector<Access> accessesOf(const Op &op, bool threadZeroOnly) const {
    std::vector<Access> out;
    auto add = [&](const nnc::Value *v, bool write) {
      BufferSlot s = plan.slot(v);
      if (s.storage == Storage::Constant)
        return;
      out.push_back({s.storage, s.offset, s.offset + v->type().byteSize(),
                     write, threadZeroOnly});
    };
    for (const nnc::Value *v : op.operands())
      add(v, false);
    for (const nnc::Value *v : op.results())
      add(v, true);
    return out;
  }

  /// The options of a contraction kernel's generator.
  ContractionOptions contractionOptions(const Op &op,
                                        const KernelFormInfo &form) const {
    ContractionOptions copts;
    copts.vectorWidth = options.preferVectorWidth == 256 ? 8 : 16;
    const nnc::Value *lhs = form.product->operand(form.shape.lhs);
    const nnc::Value *a = op.operand(lhs->index());
    ExpectedZeros zeros = expectedZeros(a);
    copts.skipZeroRows = options.skipZeros && zeros != ExpectedZeros::Rarely;
    copts.aMostlyZero = zeros == ExpectedZeros::Mostly;
    llvm::StringRef features(target.features);
    copts.avx512Compress =
        features.contains("+avx512f") &&
        (copts.vectorWidth == 16 || features.contains("+avx512vl"));
    copts.aBlockedByOwner = blockedArguments.contains(throughReshapes(a));
    return copts;
  }

  /// A kernel whose result becomes a variable's next value.
  static bool computesUpdate(const Op &op) {
    return llvm::any_of(op.results(), [](nnc::Value *r) {
      return llvm::any_of(
          r->uses(), [](const Use &u) { return u.user->is(OpKind::Assign); });
    });
  }

  static std::string kernelLabel(const Op &op) {
    if (op.is(OpKind::Kernel))
      return op.attrs().getString("name");
    return op.name().str();
  }

  void setAttributes(llvm::Function &f) {
    f.addFnAttr(llvm::Attribute::NoUnwind);
    f.addFnAttr("target-cpu", target.cpu);
    f.addFnAttr("target-features", target.features);
    if (options.preferVectorWidth)
      f.addFnAttr("prefer-vector-width",
                  std::to_string(options.preferVectorWidth));
  }

  /// The address of a value's buffer inside the step function.
  Value *pointerTo(llvm::IRBuilder<> &b, const nnc::Value *v) {
    BufferSlot s = plan.slot(v);
    Value *base = s.storage == Storage::State ? state : arena;
    return b.CreateInBoundsGEP(b.getInt8Ty(), base, b.getInt64(s.offset));
  }

  /// Memory is identified by its slot, so values sharing a buffer (a
  /// reshape and its operand, an in-place assign) become one argument.
  static std::pair<int, int64_t> slotKey(BufferSlot s) {
    return {int(s.storage), s.offset};
  }

  llvm::Expected<Kernel> emitKernel(const Op &op, const std::string &name) {
    Kernel k;
    std::map<std::pair<int, int64_t>, unsigned> argOf;
    auto bufferArg = [&](const nnc::Value *v) -> int {
      BufferSlot s = plan.slot(v);
      if (s.storage == Storage::Constant)
        return -1;
      auto [it, inserted] = argOf.try_emplace(slotKey(s), k.buffers.size());
      if (inserted)
        k.buffers.push_back(v);
      return int(it->second);
    };
    llvm::SmallVector<int, 4> operandArgs, resultArgs;
    for (const nnc::Value *v : op.operands())
      operandArgs.push_back(bufferArg(v));
    for (const nnc::Value *v : op.results())
      resultArgs.push_back(bufferArg(v));

    // The kernel is defined in a module of its own (so that kernels are
    // optimised and compiled in parallel) and declared in the step's.
    auto signature = [&](llvm::LLVMContext &c) {
      llvm::Type *ptr = llvm::PointerType::getUnqual(c);
      llvm::Type *i32 = llvm::Type::getInt32Ty(c);
      std::vector<llvm::Type *> params(k.buffers.size(), ptr);
      params.push_back(i32);
      params.push_back(i32);
      params.push_back(ptr); // the barrier
      params.push_back(ptr); // its state
      params.push_back(ptr); // the thread scratch memory
      return llvm::FunctionType::get(llvm::Type::getVoidTy(c), params, false);
    };
    k.function = llvm::Function::Create(
        signature(ctx), llvm::Function::ExternalLinkage, name, m);
    llvm::Module &km = newModule(name);
    llvm::LLVMContext &kctx = km.getContext();
    llvm::Function *fn = llvm::Function::Create(
        signature(kctx), llvm::Function::ExternalLinkage, name, km);
    setAttributes(*fn);
    for (unsigned i = 0; i < k.buffers.size(); ++i) {
      fn->addParamAttr(i, llvm::Attribute::NoAlias);
      fn->addParamAttr(
          i, llvm::Attribute::getWithAlignment(kctx, llvm::Align(64)));
    }
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(kctx, "entry", fn));
    KernelBuilder kb(b);
    if (options.fastUpdates && computesUpdate(op) &&
        llvm::StringRef(target.features).contains("+avx512f"))
      kb.setApproximateReciprocals(true);
    auto ref = [&](const nnc::Value *v, int arg) {
      TensorRef t{v->type()};
      if (arg >= 0)
        t.ptr = fn->getArg(arg);
      else if (auto splat = getSplatConstant(v))
        t.splat = kb.constant(v->type().element(), *splat);
      else
        t.ptr = kb.constantArray(*v->definingOp());
      return t;
    };
    llvm::SmallVector<TensorRef, 4> operands, results;
    for (unsigned i = 0; i < op.numOperands(); ++i)
      operands.push_back(ref(op.operand(i), operandArgs[i]));
    if (op.is(OpKind::Constant)) // materialised: its value is the input
      operands.push_back(ref(op.result(), -1));
    for (unsigned i = 0; i < op.numResults(); ++i)
      results.push_back(ref(op.result(i), resultArgs[i]));
    unsigned threadArgs = k.buffers.size();
    ThreadInfo threads{fn->getArg(threadArgs), fn->getArg(threadArgs + 1),
                       fn->getArg(threadArgs + 2), fn->getArg(threadArgs + 3),
                       fn->getArg(threadArgs + 4)};
    const Graph *body = op.body();
    std::optional<KernelFormInfo> form =
        body && options.specialize ? classifyKernel(*body) : std::nullopt;
    if (form) {
      switch (form->form) {
      case KernelForm::Elementwise:
        emitElementwiseKernel(kb, *body, *form, operands, results, threads);
        break;
      case KernelForm::Rowwise:
        emitRowwiseKernel(kb, *body, *form, operands, results, threads);
        break;
      case KernelForm::Contraction:
        emitContractionKernel(kb, *body, *form, operands, results, threads,
                              contractionOptions(op, *form));
        break;
      }
      if (form->form != KernelForm::Elementwise)
        km.addModuleFlag(llvm::Module::Warning, ExplicitVectorsFlag, 1);
    } else {
      llvm::Error err =
          body ? emitGenericKernel(kb, *body, operands, results, threads)
               : emitGenericOp(kb, op, operands, results, threads);
      if (err)
        return err;
    }
    b.CreateRetVoid();
    k.threadZeroOnly = !kb.splitsWork();
    k.threadScratchBytes = kb.threadScratchBytes();
    return k;
  }

  /// Assignments that could not be done in place copy their value into the
  /// variable once every kernel has run; thread 0 does it.
  void emitFinalCopies(llvm::IRBuilder<> &b, Value *tid) {
    if (plan.finalCopies.empty())
      return;
    llvm::Function *f = b.GetInsertBlock()->getParent();
    auto *copy = llvm::BasicBlock::Create(ctx, "copies", f);
    auto *done = llvm::BasicBlock::Create(ctx, "copies.done", f);
    b.CreateCondBr(b.CreateICmpEQ(tid, b.getInt32(0)), copy, done);
    b.SetInsertPoint(copy);
    for (const MemoryPlan::Copy &c : plan.finalCopies) {
      Value *dst =
          b.CreateInBoundsGEP(b.getInt8Ty(), state, b.getInt64(c.stateOffset));
      b.CreateMemCpy(dst, llvm::MaybeAlign(64), pointerTo(b, c.value),
                     llvm::MaybeAlign(64), c.bytes);
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  llvm::Module &m;
  llvm::LLVMContext &ctx;
  const ModuleFactory &newModule;
  const Graph &g;
  const MemoryPlan &plan;
  const CodegenOptions &options;
  const TargetInfo &target;
  llvm::StructType *contextType = nullptr;
  Value *arena = nullptr, *state = nullptr;
  std::vector<Access> pending;
  /// Whether a kernel since the last barrier used the thread scratch.
  bool scratchRead = false;
  /// The arguments stored blocked by owner. Not their slots: the memory
  /// plan gives an argument's bytes to other values once it is dead.
  llvm::SmallPtrSet<const nnc::Value *, 4> blockedArguments;
};

} // namespace

llvm::Expected<llvm::Function *>
emitStep(llvm::Module &m, const ModuleFactory &newModule, const Graph &g,
         const MemoryPlan &plan, const CodegenOptions &options,
         const TargetInfo &target, CompiledStep &step) {
  return StepEmitter(m, newModule, g, plan, options, target).emit(step);
}

} // namespace nnc::codegen
