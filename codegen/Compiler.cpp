//===- Compiler.cpp - Graphs to native code through LLVM's ORC JIT --------===//
#include "codegen/Compiler.h"
#include "codegen/PerfMap.h"
#include "codegen/StepCodegen.h"

#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/StructuralHash.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <system_error>
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

/// nnc's -O level as LLVM's code generator's.
llvm::CodeGenOptLevel codeGenOptLevel(unsigned level) {
  switch (level) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 2:
    return llvm::CodeGenOptLevel::Default;
  default:
    assert(level == 3 && "machine code optimisation levels are 0 to 3");
    return llvm::CodeGenOptLevel::Aggressive;
  }
}

/// The host CPU with every feature it has, so AVX-512 is used where present.
llvm::orc::JITTargetMachineBuilder hostMachine(codegen::TargetInfo &info,
                                               unsigned optLevel) {
  llvm::orc::JITTargetMachineBuilder jtmb{
      llvm::Triple(llvm::sys::getProcessTriple())};
  info.cpu = llvm::sys::getHostCPUName().str();
  llvm::SubtargetFeatures features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.first(), f.second);
  info.features = features.getString();
  jtmb.setCPU(info.cpu);
  jtmb.addFeatures(features.getFeatures());
  jtmb.setCodeGenOptLevel(codeGenOptLevel(optLevel));
  // What LLJIT picks for JITLink on x86-64 ELF when left unset; stated here
  // so that the target machines that optimise and print assembly (made
  // before the JIT) generate the code the JIT does.
  jtmb.setCodeModel(llvm::CodeModel::Small);
  jtmb.setRelocationModel(llvm::Reloc::PIC_);
  return jtmb;
}

/// The passes that kernels with emitter-written vectors need: promotion of
/// their accumulators, clean-up, loop-invariant code motion, and loop
/// vectorisation for the scalar loops row-wise kernels leave (a row's
/// reduction, a batch's). On the seed model this is a third of O3's time,
/// and no kernel's best time changed (docs/codegen.md).
constexpr const char *ExplicitVectorPipeline =
    "function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,"
    "loop-mssa(loop-rotate,licm),loop-vectorize,"
    "instcombine<no-verify-fixpoint>,simplifycfg)";

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
  if (!m.getModuleFlag(codegen::ExplicitVectorsFlag)) {
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
    return;
  }
  llvm::ModulePassManager mpm;
  // A constant pipeline: every JIT test parses it.
  llvm::cantFail(pb.parsePassPipeline(mpm, ExplicitVectorPipeline));
  mpm.run(m, mam);
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

/// The code of a kernel's module with the kernel's name left out.
std::string kernelCode(llvm::Module &m, llvm::Function &kernel) {
  std::string name = kernel.getName().str();
  kernel.setName("nnc.kernel");
  std::string code;
  llvm::raw_string_ostream os(code);
  for (const llvm::GlobalVariable &gv : m.globals())
    gv.print(os);
  for (const llvm::Function &f : m)
    f.print(os);
  kernel.setName(name);
  return code;
}

/// Kernels emitted so far, by a hash of their code.
using KernelsByHash = std::multimap<uint64_t, llvm::Module *>;

/// If kernel module `m` has the same code as a kernel emitted before (the
/// evaluation step's forward kernels are the training step's), points the
/// step's calls at that one and returns true: `m` is not needed. Codes are
/// compared in full only when their hashes agree.
bool reuseIdenticalKernel(llvm::Module &m, llvm::Module &stepModule,
                          KernelsByHash &kernels) {
  llvm::Function *kernel = m.getFunction(m.getName());
  if (!kernel || kernel->isDeclaration())
    return false;
  uint64_t hash = llvm::StructuralHash(*kernel, /*DetailedHash=*/true);
  auto [begin, end] = kernels.equal_range(hash);
  std::string code;
  for (auto it = begin; it != end; ++it) {
    llvm::Module &other = *it->second;
    llvm::Function *earlier = other.getFunction(other.getName());
    if (code.empty())
      code = kernelCode(m, *kernel);
    if (kernelCode(other, *earlier) != code)
      continue;
    std::string name = kernel->getName().str();
    llvm::Function *declared = stepModule.getFunction(name);
    if (llvm::Function *existing = stepModule.getFunction(earlier->getName())) {
      declared->replaceAllUsesWith(existing);
      declared->eraseFromParent();
    } else {
      declared->setName(earlier->getName());
    }
    return true;
  }
  kernels.emplace(hash, &m);
  return false;
}

/// A step function's or a kernel's module, in a context of its own, and
/// what it becomes.
struct CompilationUnit {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::MemoryBuffer> object;
  /// Printed here when asked for, and written out in the units' order.
  std::string optimizedIR, assembly;
};

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

/// Optimizes each unit and compiles it to an object file, the largest
/// modules first, each to the next free thread, with a target machine per
/// thread (they are not shared between threads). A thread goes on to the
/// next module as soon as it has the object of the last, so no thread
/// waits for a phase to end.
llvm::Error compileUnits(std::vector<CompilationUnit> &units,
                         llvm::orc::JITTargetMachineBuilder &jtmb,
                         const CodegenOptions &options, unsigned workers,
                         CompiledProgram::Phases &phases) {
  std::vector<size_t> order(units.size());
  std::vector<size_t> sizes(units.size());
  for (size_t u = 0; u < units.size(); ++u) {
    order[u] = u;
    sizes[u] = units[u].module->getInstructionCount();
  }
  llvm::stable_sort(order,
                    [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
  for (unsigned w = 0; w < workers; ++w) {
    auto machine = jtmb.createTargetMachine();
    if (!machine)
      return machine.takeError();
    machines.push_back(std::move(*machine));
  }
  std::vector<std::string> errors(units.size());
  std::vector<double> optimizeSeconds(workers), machineSeconds(workers);
  std::atomic<size_t> next{0};
  auto compileShare = [&](unsigned w) {
    llvm::TargetMachine &tm = *machines[w];
    for (size_t i; (i = next.fetch_add(1)) < order.size();) {
      CompilationUnit &u = units[order[i]];
      auto optimizeStart = std::chrono::steady_clock::now();
      if (options.optimize)
        optimize(*u.module, tm);
      optimizeSeconds[w] += secondsSince(optimizeStart);
      if (options.printOptimizedLLVM) {
        llvm::raw_string_ostream os(u.optimizedIR);
        u.module->print(os, nullptr);
      }
      if (options.printAssembly) {
        llvm::raw_string_ostream os(u.assembly);
        if (llvm::Error err = printAssembly(*u.module, tm, os))
          errors[order[i]] = llvm::toString(std::move(err));
      }
      auto machineStart = std::chrono::steady_clock::now();
      auto object = llvm::orc::SimpleCompiler(tm)(*u.module);
      machineSeconds[w] += secondsSince(machineStart);
      if (!object)
        errors[order[i]] = llvm::toString(object.takeError());
      else
        u.object = std::move(*object);
    }
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w) {
    // Compiling on several threads only saves time: when the system refuses
    // a thread, the threads already running take the units it would have.
    try {
      threads.emplace_back(compileShare, w);
    } catch (const std::system_error &) {
      break;
    }
  }
  compileShare(0);
  for (std::thread &t : threads)
    t.join();
  phases.compile = secondsSince(start);
  phases.threads = unsigned(threads.size()) + 1;
  for (unsigned w = 0; w < workers; ++w) {
    phases.optimizeThreadSeconds += optimizeSeconds[w];
    phases.machineCodeThreadSeconds += machineSeconds[w];
  }
  for (size_t u = 0; u < units.size(); ++u)
    if (!errors[u].empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     units[u].module->getName() + ": " +
                                         errors[u]);
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
  llvm::orc::JITTargetMachineBuilder jtmb =
      hostMachine(target, options.machineOptLevel);
  program->cpu = target.cpu;
  auto tm = jtmb.createTargetMachine();
  if (!tm)
    return tm.takeError();

  // One module per step function and one per kernel, each in its own
  // context, so that they are optimized and compiled to machine code in
  // parallel.
  std::vector<CompilationUnit> units;
  auto newUnit = [&](llvm::StringRef name) -> llvm::Module & {
    CompilationUnit u;
    u.context = std::make_unique<llvm::LLVMContext>();
    u.module = std::make_unique<llvm::Module>(name, *u.context);
    u.module->setDataLayout((*tm)->createDataLayout());
    u.module->setTargetTriple((*tm)->getTargetTriple().str());
    units.push_back(std::move(u));
    return *units.back().module;
  };
  std::vector<std::string> symbols;
  KernelsByHash kernelsByHash;
  for (size_t i = 0; i < graphs.size(); ++i) {
    size_t first = units.size();
    llvm::Module &stepModule = newUnit(graphs[i]->name());
    CompiledStep step;
    step.graphName = graphs[i]->name();
    step.plan = plans[i];
    step.profiled = options.profile;
    auto fn = codegen::emitStep(stepModule, newUnit, *graphs[i], *plans[i],
                                options, target, step);
    if (!fn)
      return fn.takeError();
    for (size_t u = first; u < units.size();) {
      llvm::Module &m = *units[u].module;
      std::string verifyErrors;
      llvm::raw_string_ostream verifyOut(verifyErrors);
      if (llvm::verifyModule(m, &verifyOut))
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "internal error: generated LLVM IR is "
                                       "invalid:\n" +
                                           verifyErrors);
      if (u > first && reuseIdenticalKernel(m, stepModule, kernelsByHash)) {
        // A module goes before its context.
        units[u].module.reset();
        units[u].context.reset();
        units.erase(units.begin() + u);
        continue;
      }
      ++u;
    }
    // Printed once the step calls the kernels it keeps.
    for (size_t u = first; u < units.size(); ++u) {
      llvm::Module &m = *units[u].module;
      if (options.printLLVM)
        m.print(*options.printLLVM, nullptr);
      for (const llvm::Function &f : m)
        if (!f.isDeclaration())
          symbols.push_back(f.getName().str());
    }
    program->compiled.push_back(std::move(step));
  }
  program->phaseSeconds.emit = secondsSince(start);

  unsigned workers =
      std::max(1u, std::min<unsigned>(units.size(),
                                      std::thread::hardware_concurrency()));
  if (llvm::Error err =
          compileUnits(units, jtmb, options, workers, program->phaseSeconds))
    return err;
  for (CompilationUnit &u : units) {
    if (options.printOptimizedLLVM)
      *options.printOptimizedLLVM << u.optimizedIR;
    if (options.printAssembly)
      *options.printAssembly << u.assembly;
  }

  auto linkStart = std::chrono::steady_clock::now();
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
  llvm::StringMap<uint64_t> sizes;
  for (CompilationUnit &u : units) {
    if (options.perfMap)
      if (llvm::Error err =
              codegen::collectFunctionSizes(u.object->getMemBufferRef(), sizes))
        return err;
    if (llvm::Error err = (*jit)->addObjectFile(std::move(u.object)))
      return err;
  }
  llvm::orc::SymbolLookupSet names;
  for (const std::string &name : symbols)
    names.add((*jit)->mangleAndIntern(name));
  auto found = (*jit)->getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(&(*jit)->getMainJITDylib()),
      std::move(names));
  if (!found)
    return found.takeError();
  for (size_t i = 0; i < graphs.size(); ++i) {
    auto it = found->find(
        (*jit)->mangleAndIntern(codegen::stepFunctionName(*graphs[i])));
    program->compiled[i].function =
        it->second.getAddress().toPtr<StepFunction>();
  }
  if (options.perfMap) {
    std::vector<codegen::PerfMapEntry> entries;
    for (const std::string &name : symbols) {
      auto it = found->find((*jit)->mangleAndIntern(name));
      entries.push_back(
          {it->second.getAddress().getValue(), sizes.lookup(name), name});
    }
    if (llvm::Error err = codegen::appendPerfMap(entries))
      return err;
  }
  program->jit = std::move(*jit);
  program->phaseSeconds.link = secondsSince(linkStart);
  program->seconds = secondsSince(start);
  return program;
}

const CompiledStep *CompiledProgram::step(llvm::StringRef graphName) const {
  for (const CompiledStep &s : compiled)
    if (s.graphName == graphName)
      return &s;
  return nullptr;
}

namespace codegen {
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm) {
  optimize(m, tm);
}
llvm::CodeGenOptLevel machineCodeOptLevel(unsigned level) {
  return codeGenOptLevel(level);
}
} // namespace codegen

} // namespace nnc
