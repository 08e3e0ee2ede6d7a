//===- nnc-opt.cpp - Parse graph IR, run passes, print --------------------===//
//
// The tool lit tests drive: reads `.nnir` from a file or stdin, verifies it,
// runs the passes named by --passes, verifies again and prints the result.
//
//===----------------------------------------------------------------------===//
#include "ir/DotPrinter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Structured.h"
#include "ir/Verifier.h"
#include "ir/VerifyDiagnostics.h"
#include "passes/PassManager.h"
#include "tools/common/InputChunks.h"
#include "tools/common/LLVMFlags.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace nnc;
namespace cl = llvm::cl;

static cl::OptionCategory category("nnc-opt options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.nnir>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::opt<std::string>
    pipeline("passes", cl::desc("Passes to run, in order: a,b{key=value},c"),
             cl::value_desc("pipeline"), cl::cat(category));
static cl::opt<bool> splitInput(
    "split-input-file",
    cl::desc("Process each part between '// -----' lines separately"),
    cl::cat(category));
static cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check diagnostics against expected-error comments"),
    cl::cat(category));
static cl::opt<bool> printLocations("print-locations",
                                    cl::desc("Print op locations"),
                                    cl::cat(category));
enum class OutputFormat { IR, Dot };
static cl::opt<OutputFormat>
    emit("emit", cl::desc("What to print after the passes"),
         cl::init(OutputFormat::IR),
         cl::values(clEnumValN(OutputFormat::IR, "ir", "the graphs as .nnir"),
                    clEnumValN(OutputFormat::Dot, "dot",
                               "the graphs as a Graphviz picture (dot -Tsvg)")),
         cl::cat(category));
static cl::opt<bool> listPasses("list-passes",
                                cl::desc("List the passes and exit"),
                                cl::cat(category));
static cl::opt<bool> printStructure(
    "print-structure",
    cl::desc("Print, after the IR, each op's structured description: its "
             "stages' domains, index maps, scalar bodies and combiners"),
    cl::cat(category));
static cl::opt<bool> listOps("list-ops", cl::desc("List the ops and exit"),
                             cl::cat(category));
static cl::list<std::string>
    printBefore("print-ir-before", cl::desc("Print IR before the named pass"),
                cl::value_desc("pass"), cl::CommaSeparated, cl::cat(category));
static cl::list<std::string>
    printAfter("print-ir-after", cl::desc("Print IR after the named pass"),
               cl::value_desc("pass"), cl::CommaSeparated, cl::cat(category));
static cl::opt<bool> printBeforeAll("print-ir-before-all",
                                    cl::desc("Print IR before every pass"),
                                    cl::cat(category));
static cl::opt<bool> printAfterAll("print-ir-after-all",
                                   cl::desc("Print IR after every pass"),
                                   cl::cat(category));
static cl::opt<bool> verifyEach("verify-each",
                                cl::desc("Verify the IR after every pass"),
                                cl::init(true), cl::cat(category));
static ReportFlags reports;

static void printPassList(llvm::raw_ostream &os) {
  const PassRegistry &registry = PassRegistry::global();
  os << "Passes:\n";
  for (const std::string &name : registry.names()) {
    auto pass = registry.create(name);
    os << "  " << name << " - " << pass->description() << "\n";
    for (const std::string &opt : pass->optionHelp())
      os << "      " << opt << "\n";
  }
}

static void printOpList(llvm::raw_ostream &os) {
  os << "Ops:\n";
  for (const OpDef &def : allOpDefs())
    os << "  " << def.name << " (" << opRoleName(def.role)
       << (def.structure ? ", structured" : "")
       << (def.grad ? ", differentiable" : "") << ") - " << def.summary << "\n";
}

/// Parses, verifies, transforms and prints one input; false on failure.
static bool processChunk(unsigned bufferId, DiagnosticEngine &diag,
                         llvm::raw_ostream &os) {
  std::unique_ptr<Module> module = parseModule(bufferId, diag);
  if (!module || llvm::failed(verify(*module, diag)))
    return false;
  PassManager pm(diag);
  auto passes = PassRegistry::global().parsePipeline(pipeline);
  if (!passes) {
    diag.error(Location(), llvm::toString(passes.takeError()));
    return false;
  }
  pm.addPasses(std::move(*passes));
  PassInstrumentation &instr = pm.instrumentation();
  for (const std::string &p : printBefore)
    instr.printBefore.insert(p);
  for (const std::string &p : printAfter)
    instr.printAfter.insert(p);
  instr.printBeforeAll = printBeforeAll;
  instr.printAfterAll = printAfterAll;
  instr.verifyEach = verifyEach;
  instr.timePasses = reports.timePasses;
  instr.statistics = reports.statistics;
  instr.printOptions.printLocations = printLocations;
  bool ok = llvm::succeeded(pm.run(*module)) &&
            llvm::succeeded(verify(*module, diag));
  pm.printReports(llvm::errs());
  if (ok && emit == OutputFormat::Dot)
    printModuleDot(os, *module);
  else if (ok)
    printModule(os, *module, instr.printOptions);
  if (ok && printStructure)
    for (const Graph &g : module->graphs())
      for (const Op &op : g.ops())
        if (std::optional<StructuredOp> s = describe(op)) {
          os << "// structure of " << op.name() << " in @" << g.name();
          if (!op.results().empty() && !op.result()->name().empty())
            os << ": %" << op.result()->name();
          os << "\n" << s->str();
        }
  return ok;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  adoptLLVMReportFlags(category);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "nnc-opt: parse graph IR, run passes, print\n");
  reports = takeLLVMReportFlags();
  if (listPasses || listOps) {
    if (listPasses)
      printPassList(llvm::outs());
    if (listOps)
      printOpList(llvm::outs());
    return 0;
  }

  DiagnosticEngine diag;
  diag.setProgramName("nnc-opt");
  std::unique_ptr<DiagnosticVerifier> verifier;
  if (verifyDiagnostics)
    verifier = std::make_unique<DiagnosticVerifier>(diag);

  auto chunks = readInputChunks(inputFile, splitInput, "// -----", diag);
  if (!chunks) {
    llvm::WithColor::error(llvm::errs(), "nnc-opt")
        << llvm::toString(chunks.takeError()) << "\n";
    return 1;
  }
  std::error_code ec;
  llvm::ToolOutputFile out(outputFile, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::WithColor::error(llvm::errs(), "nnc-opt")
        << "cannot write '" << outputFile << "': " << ec.message() << "\n";
    return 1;
  }

  bool allOk = true;
  for (size_t i = 0; i < chunks->size(); ++i) {
    if (i && emit == OutputFormat::IR)
      out.os() << "// -----\n";
    if (verifier)
      verifier->addExpectations((*chunks)[i]);
    allOk &= processChunk((*chunks)[i], diag, out.os());
  }
  if (verifier)
    allOk = llvm::succeeded(verifier->finish());
  if (!allOk)
    return 1;
  out.keep();
  return 0;
}
