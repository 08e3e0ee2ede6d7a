//===- Compiler.cpp - Graphs to native code through LLVM's ORC JIT --------===//
#include "codegen/Compiler.h"
#include "codegen/StepCodegen.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <chrono>
#include <mutex>
#include <thread>

namespace nnc {

namespace {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// The host CPU with every feature it has, so AVX-512 is used where present.
llvm::orc::JITTargetMachineBuilder hostMachine(codegen::TargetInfo &info) {
  llvm::orc::JITTargetMachineBuilder jtmb(
      llvm::Triple(llvm::sys::getProcessTriple()));
  info.cpu = llvm::sys::getHostCPUName().str();
  llvm::SubtargetFeatures features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  info.features = features.getString();
  jtmb.setCPU(info.cpu);
  jtmb.addFeatures(features.getFeatures());
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // What LLJIT picks for JITLink on x86-64 ELF when left unset; stated here
  // so that the target machines that optimise and print assembly (made
  // before the JIT) generate the code the JIT does.
  jtmb.setCodeModel(llvm::CodeModel::Small);
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  return jtmb;
}

void optimize(llvm::Module &m, llvm::TargetMachine &tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  // The kernels' loops carry a tile's work per iteration, and partial
  // unrolling only lengthened compilation (by a third of O3's time) without
  // changing the step's speed measurably.
  tuning.LoopUnrolling = false;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

llvm::Error printAssembly(const llvm::Module &m, llvm::TargetMachine &tm,
                          llvm::raw_ostream &os) {
  std::unique_ptr<llvm::Module> clone = llvm::CloneModule(m);
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream out(text);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr,
                             llvm::CodeGenFileType::AssemblyFile))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot print assembly");
  pm.run(*clone);
  os << text;
  return llvm::Error::success();
}

} // namespace

CompiledProgram::~CompiledProgram() = default;

llvm::Expected<std::unique_ptr<CompiledProgram>>
CompiledProgram::compile(llvm::ArrayRef<const Graph *> graphs,
                         llvm::ArrayRef<const MemoryPlan *> plans,
                         const CodegenOptions &options) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  std::unique_ptr<CompiledProgram> program(new CompiledProgram());
  codegen::TargetInfo target;
  llvm::orc::JITTargetMachineBuilder jtmb = hostMachine(target);
  program->cpu = target.cpu;
  auto tm = jtmb.createTargetMachine();
  if (!tm)
    return tm.takeError();

  // One module per graph, each in its own context, so that the graphs are
  // optimized and compiled to machine code in parallel.
  struct Unit {
    std::unique_ptr<llvm::LLVMContext> context;
    std::unique_ptr<llvm::Module> module;
  };
  std::vector<Unit> units;
  for (size_t i = 0; i < graphs.size(); ++i) {
    Unit u;
    u.context = std::make_unique<llvm::LLVMContext>();
    u.module = std::make_unique<llvm::Module>(graphs[i]->name(), *u.context);
    u.module->setDataLayout((*tm)->createDataLayout());
    u.module->setTargetTriple((*tm)->getTargetTriple().str());
    CompiledStep step;
    step.graphName = graphs[i]->name();
    step.plan = plans[i];
    step.profiled = options.profile;
    auto fn = codegen::emitStep(*u.module, *graphs[i], *plans[i], options,
                                target, step);
    if (!fn)
      return fn.takeError();
    std::string verifyErrors;
    llvm::raw_string_ostream verifyOut(verifyErrors);
    if (llvm::verifyModule(*u.module, &verifyOut))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "internal error: generated LLVM IR is "
                                     "invalid:\n" +
                                         verifyErrors);
    if (options.printLLVM)
      u.module->print(*options.printLLVM, nullptr);
    program->compiled.push_back(std::move(step));
    units.push_back(std::move(u));
  }
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
        .count();
  };
  program->phaseSeconds.emit = since(start);

  unsigned workers =
      std::max(1u, std::min<unsigned>(units.size(),
                                      std::thread::hardware_concurrency()));
  auto optimizeStart = std::chrono::steady_clock::now();
  if (options.optimize) {
    // Each thread takes every workers-th module, with a target machine of
    // its own (they are not shared between threads).
    std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
    for (unsigned w = 0; w < workers; ++w) {
      auto machine = jtmb.createTargetMachine();
      if (!machine)
        return machine.takeError();
      machines.push_back(std::move(*machine));
    }
    auto optimizeShare = [&](unsigned w) {
      for (size_t i = w; i < units.size(); i += workers)
        optimize(*units[i].module, *machines[w]);
    };
    std::vector<std::thread> threads;
    for (unsigned w = 1; w < workers; ++w)
      threads.emplace_back(optimizeShare, w);
    optimizeShare(0);
    for (std::thread &t : threads)
      t.join();
  }
  program->phaseSeconds.optimize = since(optimizeStart);
  for (Unit &u : units) {
    if (options.printOptimizedLLVM)
      u.module->print(*options.printOptimizedLLVM, nullptr);
    if (options.printAssembly)
      if (llvm::Error err =
              printAssembly(*u.module, **tm, *options.printAssembly))
        return err;
  }

  auto machineStart = std::chrono::steady_clock::now();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(jtmb))
                 .setNumCompileThreads(workers > 1 ? workers : 0)
                 .create();
  if (!jit)
    return jit.takeError();
  // Kernels call libm (expf, logf, ...) from this process.
  auto libs = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!libs)
    return libs.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*libs));
  llvm::orc::SymbolLookupSet names;
  for (size_t i = 0; i < units.size(); ++i) {
    if (llvm::Error err = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(
            std::move(units[i].module), std::move(units[i].context))))
      return err;
    names.add((*jit)->mangleAndIntern(codegen::stepFunctionName(*graphs[i])));
  }
  // One lookup for every step, so that their modules compile concurrently.
  auto symbols = (*jit)->getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(&(*jit)->getMainJITDylib()),
      std::move(names));
  if (!symbols)
    return symbols.takeError();
  for (size_t i = 0; i < graphs.size(); ++i) {
    auto it = symbols->find(
        (*jit)->mangleAndIntern(codegen::stepFunctionName(*graphs[i])));
    program->compiled[i].function =
        it->second.getAddress().toPtr<StepFunction>();
  }
  program->jit = std::move(*jit);
  program->phaseSeconds.machineCode = since(machineStart);
  program->seconds = since(start);
  return program;
}

const CompiledStep *CompiledProgram::step(llvm::StringRef graphName) const {
  for (const CompiledStep &s : compiled)
    if (s.graphName == graphName)
      return &s;
  return nullptr;
}

} // namespace nnc
