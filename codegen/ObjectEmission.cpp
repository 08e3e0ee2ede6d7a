//===- ObjectEmission.cpp - Inference graphs as C libraries ---------------===//
#include "codegen/ObjectEmission.h"
#include "codegen/StepCodegen.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <fmt/format.h>

#include <mutex>

namespace nnc {

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

void initializeAllTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}

/// The target machine for `options`: the host's CPU and features by
/// default, position-independent code so that the object can go into a
/// shared library too.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
targetMachine(const LibraryOptions &options, codegen::TargetInfo &info,
              std::string &tripleName) {
  initializeAllTargets();
  bool host = options.triple.empty();
  llvm::Triple triple(host ? llvm::sys::getProcessTriple()
                           : llvm::Triple::normalize(options.triple));
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple.str(), error);
  if (!target)
    return makeError("--target " + options.triple + ": " + error);
  llvm::SubtargetFeatures features;
  if (host && options.cpu.empty()) {
    info.cpu = llvm::sys::getHostCPUName().str();
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features.AddFeature(f.first(), f.second);
  } else {
    info.cpu = options.cpu.empty() ? "generic" : options.cpu;
  }
  if (!options.features.empty())
    for (llvm::StringRef f : llvm::split(options.features, ','))
      features.AddFeature(f.trim());
  info.features = features.getString();
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple.str(), "", ""));
  if (!subtarget || !subtarget->isCPUStringValid(info.cpu))
    return makeError("--mcpu " + info.cpu + ": not a CPU of " + triple.str());
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple.str(), info.cpu, info.features, targetOptions, llvm::Reloc::PIC_,
      llvm::CodeModel::Small,
      codegen::machineCodeOptLevel(options.machineOptLevel)));
  if (!tm)
    return makeError("cannot make a code generator for " + triple.str());
  tripleName = triple.str();
  return tm;
}

/// One module of the step, in a context of its own as emitStep makes them.
struct Unit {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// Moves every unit's module into `dest`'s context through bitcode (modules
/// of different contexts cannot be linked directly) and links them.
llvm::Error linkUnits(std::vector<Unit> &units, llvm::Module &dest) {
  for (Unit &u : units) {
    llvm::SmallVector<char, 0> bitcode;
    llvm::raw_svector_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*u.module, os);
    auto parsed = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(llvm::StringRef(bitcode.data(), bitcode.size()),
                              u.module->getName()),
        dest.getContext());
    if (!parsed)
      return parsed.takeError();
    // Kernels were optimized as their own modules; their flags only said
    // which pipeline.
    if (llvm::NamedMDNode *flags = (*parsed)->getModuleFlagsMetadata())
      (*parsed)->eraseNamedMetadata(flags);
    if (llvm::Linker::linkModules(dest, std::move(*parsed)))
      return makeError("internal error: cannot link the step's modules");
    u.module.reset();
    u.context.reset();
  }
  return llvm::Error::success();
}

std::string cType(ElementType t) {
  switch (t) {
  case ElementType::F32:
    return "float";
  case ElementType::F64:
    return "double";
  case ElementType::I32:
    return "int32_t";
  case ElementType::I1:
  case ElementType::U8:
    return "uint8_t";
  }
  return "float";
}

std::string upper(llvm::StringRef s) { return s.upper(); }

/// The C header: the predict function and the shapes as constants.
std::string makeHeader(const Graph &g, const LibraryOptions &options,
                       const std::string &prefix, const std::string &triple,
                       const std::string &cpu, int64_t arenaBytes) {
  std::string guard = upper(prefix) + "_H";
  std::string P = upper(prefix);
  const Value *result = g.terminator()->operand(0);
  std::string resultName =
      cIdentifier(g.resultNames().empty() ? "output" : g.resultNames()[0]);
  int64_t batch = g.argument(0)->type().dim(0);
  std::string h;
  h += fmt::format("/* {}.h: the model {} compiled ahead of time by nnc",
                   prefix, options.name);
  if (!options.source.empty())
    h += fmt::format(" from {}", options.source);
  h += fmt::format(
      ", for {} ({}).\n *\n * Link {}.o with the program (and -lm): it needs "
      "nothing but libc and libm.\n * The trained weights are inside it. "
      "Each call runs on the calling thread\n * and allocates its "
      "activations with aligned_alloc, so calls from several\n * threads "
      "may run at once.\n */\n",
      triple, cpu, prefix);
  h += fmt::format("#ifndef {0}\n#define {0}\n\n#include <stdint.h>\n\n"
                   "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n",
                   guard);
  h += fmt::format("/* The batch the code was compiled for: larger batches "
                   "run in chunks of it,\n * the last one padded. */\n"
                   "#define {}_BATCH {}\n",
                   P, batch);
  auto describe = [&](const Value *v, const std::string &name) {
    std::string N = P + "_" + upper(name);
    const TensorType &t = v->type();
    int64_t perExample = t.numElements() / std::max<int64_t>(1, t.dim(0));
    h += fmt::format("\n/* {}: {}[batch", name, cType(t.element()));
    for (int64_t i = 1; i < t.rank(); ++i)
      h += fmt::format(", {}", t.dim(i));
    h += "], row-major */\n";
    h += fmt::format("#define {}_RANK {}\n", N, t.rank());
    for (int64_t i = 1; i < t.rank(); ++i)
      h += fmt::format("#define {}_DIM{} {}\n", N, i, t.dim(i));
    h += fmt::format("#define {}_SIZE {} /* elements per example */\n", N,
                     perExample);
  };
  std::vector<std::string> inputNames;
  for (const Value *arg : g.arguments()) {
    std::string name =
        cIdentifier(arg->name().empty() ? "input" + std::to_string(arg->index())
                                        : arg->name());
    inputNames.push_back(name);
    describe(arg, name);
  }
  describe(result, resultName);
  h += fmt::format("\n/* Bytes of memory one call allocates. */\n"
                   "#define {}_SCRATCH_BYTES {}\n",
                   P, arenaBytes);
  h += fmt::format(
      "\n/* Computes `{0}` for `batch` examples: reads batch * {1}_{2}_SIZE "
      "values\n * of each input, writes batch * {1}_{3}_SIZE values. "
      "Returns 0, or -1\n * when batch is negative, -2 when memory for the "
      "activations cannot be\n * allocated. */\n",
      resultName, P, upper(inputNames[0]), upper(resultName));
  h += fmt::format("int {}_predict(", prefix);
  for (size_t i = 0; i < inputNames.size(); ++i)
    h += fmt::format("const {} *{}, ", cType(g.argument(i)->type().element()),
                     inputNames[i]);
  h += fmt::format("{} *{}, int batch);\n", cType(result->type().element()),
                   resultName);
  h += fmt::format("\n#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {} */\n",
                   guard);
  return h;
}

/// Adds `<prefix>_predict`, which runs the step over the caller's batch in
/// chunks of the compiled batch size, on this thread alone.
void emitPredict(llvm::Module &m, const Graph &g, const MemoryPlan &plan,
                 llvm::GlobalVariable *weights, llvm::Function *step,
                 int64_t scratchBytes, const std::string &prefix,
                 int64_t arenaBytes) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type *ptr = b.getPtrTy(), *i32 = b.getInt32Ty(), *i64 = b.getInt64Ty();
  std::vector<llvm::Type *> params(g.numArguments() + 1, ptr);
  params.push_back(i32);
  llvm::Function *predict = llvm::Function::Create(
      llvm::FunctionType::get(i32, params, false),
      llvm::Function::ExternalLinkage, prefix + "_predict", m);
  predict->addFnAttr(llvm::Attribute::NoUnwind);

  // The barrier of a step that runs on one thread: nothing to wait for.
  llvm::Function *barrier = llvm::Function::Create(
      llvm::FunctionType::get(b.getVoidTy(), {ptr}, false),
      llvm::Function::InternalLinkage, prefix + ".barrier", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", barrier));
  b.CreateRetVoid();

  llvm::FunctionCallee alignedAlloc =
      m.getOrInsertFunction("aligned_alloc", ptr, i64, i64);
  llvm::FunctionCallee freeFn =
      m.getOrInsertFunction("free", b.getVoidTy(), ptr);

  auto *entry = llvm::BasicBlock::Create(ctx, "entry", predict);
  auto *negative = llvm::BasicBlock::Create(ctx, "negative", predict);
  auto *allocate = llvm::BasicBlock::Create(ctx, "allocate", predict);
  auto *noMemory = llvm::BasicBlock::Create(ctx, "no.memory", predict);
  auto *loop = llvm::BasicBlock::Create(ctx, "chunk", predict);
  auto *body = llvm::BasicBlock::Create(ctx, "chunk.body", predict);
  auto *done = llvm::BasicBlock::Create(ctx, "done", predict);
  llvm::Value *batch = predict->getArg(g.numArguments() + 1);
  llvm::Value *out = predict->getArg(g.numArguments());

  b.SetInsertPoint(entry);
  b.CreateCondBr(b.CreateICmpSLT(batch, b.getInt32(0)), negative, allocate);
  b.SetInsertPoint(negative);
  b.CreateRet(b.getInt32(-1));

  // The arena, then each thread's scratch (one thread): zeroed, as the
  // runtime gives them to the step.
  int64_t arenaPart = llvm::alignTo(std::max<int64_t>(arenaBytes, 1), 64);
  int64_t total = arenaPart + llvm::alignTo(scratchBytes, 64);
  b.SetInsertPoint(allocate);
  llvm::Value *arena =
      b.CreateCall(alignedAlloc, {b.getInt64(64), b.getInt64(total)}, "arena");
  b.CreateCondBr(b.CreateIsNull(arena), noMemory, loop);
  b.SetInsertPoint(noMemory);
  b.CreateRet(b.getInt32(-2));

  llvm::StructType *contextType = llvm::StructType::get(
      ctx, {ptr, ptr, i32, i32, ptr, ptr, ptr, ptr}); // StepABI.h
  b.SetInsertPoint(allocate, allocate->getFirstInsertionPt());
  llvm::Value *context = b.CreateAlloca(contextType, nullptr, "context");

  b.SetInsertPoint(loop);
  llvm::PHINode *begin = b.CreatePHI(i32, 2, "begin");
  begin->addIncoming(b.getInt32(0), allocate);
  b.CreateCondBr(b.CreateICmpSLT(begin, batch), body, done);

  b.SetInsertPoint(body);
  int64_t rowsPerChunk = g.argument(0)->type().dim(0);
  llvm::Value *left = b.CreateSub(batch, begin);
  llvm::Value *rows = b.CreateSExt(
      b.CreateSelect(b.CreateICmpSLT(left, b.getInt32(rowsPerChunk)), left,
                     b.getInt32(rowsPerChunk)),
      i64, "rows");
  llvm::Value *first = b.CreateSExt(begin, i64);
  b.CreateMemSet(arena, b.getInt8(0), b.getInt64(total), llvm::MaybeAlign(64));
  auto rowBytes = [](const TensorType &t) {
    return t.byteSize() / std::max<int64_t>(1, t.dim(0));
  };
  for (unsigned i = 0; i < g.numArguments(); ++i) {
    const TensorType &t = g.argument(i)->type();
    llvm::Value *to = b.CreateGEP(b.getInt8Ty(), arena,
                                  b.getInt64(plan.slot(g.argument(i)).offset));
    llvm::Value *from =
        b.CreateGEP(b.getInt8Ty(), predict->getArg(i),
                    b.CreateMul(first, b.getInt64(rowBytes(t))));
    b.CreateMemCpy(to, llvm::MaybeAlign(1), from, llvm::MaybeAlign(1),
                   b.CreateMul(rows, b.getInt64(rowBytes(t))));
  }
  auto set = [&](unsigned field, llvm::Value *v) {
    b.CreateStore(v, b.CreateStructGEP(contextType, context, field));
  };
  set(0, arena);
  set(1, weights);
  set(2, b.getInt32(0));
  set(3, b.getInt32(1));
  set(4, barrier);
  set(5, llvm::ConstantPointerNull::get(b.getPtrTy()));
  set(6, llvm::ConstantPointerNull::get(b.getPtrTy()));
  set(7, b.CreateGEP(b.getInt8Ty(), arena, b.getInt64(arenaPart)));
  b.CreateCall(step, {context});
  const Value *result = g.terminator()->operand(0);
  BufferSlot slot = plan.slot(result);
  llvm::Value *base = slot.storage == Storage::State ? weights : arena;
  llvm::Value *from = b.CreateGEP(b.getInt8Ty(), base, b.getInt64(slot.offset));
  llvm::Value *to =
      b.CreateGEP(b.getInt8Ty(), out,
                  b.CreateMul(first, b.getInt64(rowBytes(result->type()))));
  b.CreateMemCpy(to, llvm::MaybeAlign(1), from, llvm::MaybeAlign(1),
                 b.CreateMul(rows, b.getInt64(rowBytes(result->type()))));
  begin->addIncoming(b.CreateAdd(begin, b.getInt32(rowsPerChunk)), body);
  b.CreateBr(loop);

  b.SetInsertPoint(done);
  b.CreateCall(freeFn, {arena});
  b.CreateRet(b.getInt32(0));
}

} // namespace

std::string cIdentifier(llvm::StringRef name) {
  std::string s;
  for (char c : name)
    s += (llvm::isAlnum(c) || c == '_') ? c : '_';
  if (s.empty() || llvm::isDigit(s[0]))
    s = "_" + s;
  return s;
}

llvm::Expected<InferenceLibrary>
emitInferenceLibrary(const Graph &g, const MemoryPlan &plan,
                     const StateLayout &layout, const char *state,
                     const LibraryOptions &options) {
  if (g.numArguments() == 0 || !g.terminator() ||
      g.terminator()->numOperands() != 1)
    return makeError("internal error: an inference library needs a graph of "
                     "inputs and one result");
  const Value *result = g.terminator()->operand(0);
  if (plan.slot(result).storage == Storage::Constant)
    return makeError("the model's output is a constant: nothing to compile");
  codegen::TargetInfo target;
  std::string triple;
  auto tm = targetMachine(options, target, triple);
  if (!tm)
    return tm.takeError();

  // The step and its kernels, as the JIT makes them, one thread.
  std::vector<Unit> units;
  auto newUnit = [&](llvm::StringRef name) -> llvm::Module & {
    Unit u;
    u.context = std::make_unique<llvm::LLVMContext>();
    u.module = std::make_unique<llvm::Module>(name, *u.context);
    u.module->setDataLayout((*tm)->createDataLayout());
    u.module->setTargetTriple(triple);
    units.push_back(std::move(u));
    return *units.back().module;
  };
  CodegenOptions codegen;
  codegen.machineOptLevel = options.machineOptLevel;
  codegen.blockArgumentsByOwner = false;
  CompiledStep step;
  step.graphName = g.name();
  step.plan = &plan;
  llvm::Module &stepModule = newUnit(g.name());
  auto fn =
      codegen::emitStep(stepModule, newUnit, g, plan, codegen, target, step);
  if (!fn)
    return fn.takeError();
  std::string stepName = (*fn)->getName().str();
  for (Unit &u : units) {
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (llvm::verifyModule(*u.module, &os))
      return makeError("internal error: generated LLVM IR is invalid:\n" +
                       errors);
    codegen::optimizeModule(*u.module, **tm);
  }

  llvm::LLVMContext context;
  std::string prefix = cIdentifier(options.name);
  llvm::Module lib(prefix, context);
  lib.setDataLayout((*tm)->createDataLayout());
  lib.setTargetTriple(triple);
  if (llvm::Error err = linkUnits(units, lib))
    return err;

  // The weights: the params this graph reads, at their layout offsets.
  llvm::StringRef bytes(state, size_t(layout.byteSize()));
  auto *weights = new llvm::GlobalVariable(
      lib, llvm::ArrayType::get(llvm::Type::getInt8Ty(context), bytes.size()),
      /*isConstant=*/true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantDataArray::getRaw(bytes, bytes.size(),
                                      llvm::Type::getInt8Ty(context)),
      prefix + ".weights");
  weights->setAlignment(llvm::Align(64));
  emitPredict(lib, g, plan, weights, lib.getFunction(stepName),
              step.threadScratchBytes, prefix, plan.arenaBytes);
  // Only the predict function is the library's: the step and kernels are
  // internal, so two models' libraries link into one program.
  for (llvm::Function &f : lib)
    if (!f.isDeclaration() && f.getName() != prefix + "_predict")
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  std::string errors;
  llvm::raw_string_ostream verifyOut(errors);
  if (llvm::verifyModule(lib, &verifyOut))
    return makeError("internal error: the library's LLVM IR is invalid:\n" +
                     errors);

  InferenceLibrary out;
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr,
                                 llvm::CodeGenFileType::ObjectFile))
    return makeError("the target " + triple + " cannot emit object files");
  pm.run(lib);
  out.object.assign(object.begin(), object.end());
  out.triple = triple;
  out.cpu = target.cpu;
  int64_t scratch = llvm::alignTo(std::max<int64_t>(plan.arenaBytes, 1), 64) +
                    llvm::alignTo(step.threadScratchBytes, 64);
  out.header = makeHeader(g, options, prefix, triple, target.cpu, scratch);
  return out;
}

} // namespace nnc
