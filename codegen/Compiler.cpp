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

  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("nnc", *context);
  module->setDataLayout((*tm)->createDataLayout());
  module->setTargetTriple((*tm)->getTargetTriple().str());
  for (size_t i = 0; i < graphs.size(); ++i) {
    CompiledStep step;
    step.graphName = graphs[i]->name();
    step.plan = plans[i];
    auto fn = codegen::emitStep(*module, *graphs[i], *plans[i], options, target,
                                step);
    if (!fn)
      return fn.takeError();
    program->compiled.push_back(std::move(step));
  }
  std::string verifyErrors;
  llvm::raw_string_ostream verifyOut(verifyErrors);
  if (llvm::verifyModule(*module, &verifyOut))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: generated LLVM IR is "
                                   "invalid:\n" +
                                       verifyErrors);
  if (options.printLLVM)
    module->print(*options.printLLVM, nullptr);
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
        .count();
  };
  program->phaseSeconds.emit = since(start);
  auto optimizeStart = std::chrono::steady_clock::now();
  if (options.optimize)
    optimize(*module, **tm);
  program->phaseSeconds.optimize = since(optimizeStart);
  if (options.printOptimizedLLVM)
    module->print(*options.printOptimizedLLVM, nullptr);
  if (options.printAssembly)
    if (llvm::Error err = printAssembly(*module, **tm, *options.printAssembly))
      return err;

  auto machineStart = std::chrono::steady_clock::now();
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(jtmb))
                 .create();
  if (!jit)
    return jit.takeError();
  // Kernels call libm (expf, logf, ...) from this process.
  auto libs = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!libs)
    return libs.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*libs));
  if (llvm::Error err = (*jit)->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
    return err;
  for (size_t i = 0; i < graphs.size(); ++i) {
    auto sym = (*jit)->lookup(codegen::stepFunctionName(*graphs[i]));
    if (!sym)
      return sym.takeError();
    program->compiled[i].function = sym->toPtr<StepFunction>();
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
