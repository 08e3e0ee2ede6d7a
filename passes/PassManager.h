//===- PassManager.h - Pipelines of passes with instrumentation -*- C++ -*-===//
//
// Runs passes in order over a module, as configured from the command line:
// `--passes=canonicalize,cse,dce`, `--print-ir-before=NAME`,
// `--print-ir-after=NAME`, `--print-ir-after-all`, `--verify-each`,
// `--time-passes` and `--stats`. IR dumps and reports go to stderr, as in
// MLIR, so stdout carries only the final IR.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_PASSMANAGER_H
#define NNC_PASSES_PASSMANAGER_H

#include "passes/Pass.h"

#include "ir/Printer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>

namespace nnc {

/// Knows every pass by name.
class PassRegistry {
public:
  using Factory = std::function<std::unique_ptr<Pass>()>;

  /// The registry with every pass nnc has.
  static const PassRegistry &global();

  void add(llvm::StringRef name, Factory factory);
  std::unique_ptr<Pass> create(llvm::StringRef name) const;
  std::vector<std::string> names() const;

  /// Parses `a,b{key=value,key=value},c` into passes.
  llvm::Expected<std::vector<std::unique_ptr<Pass>>>
  parsePipeline(llvm::StringRef text) const;

private:
  llvm::StringMap<Factory> factories;
};

struct PassInstrumentation {
  llvm::StringSet<> printBefore, printAfter;
  bool printBeforeAll = false;
  bool printAfterAll = false;
  bool verifyEach = false;
  bool timePasses = false;
  bool statistics = false;
  PrintOptions printOptions;
};

class PassManager {
public:
  explicit PassManager(DiagnosticEngine &diag) : diag(diag) {}

  void addPass(std::unique_ptr<Pass> pass) {
    passes.push_back(std::move(pass));
  }
  void addPasses(std::vector<std::unique_ptr<Pass>> more) {
    for (auto &p : more)
      passes.push_back(std::move(p));
  }
  llvm::ArrayRef<std::unique_ptr<Pass>> getPasses() const { return passes; }

  PassInstrumentation &instrumentation() { return instr; }

  /// Runs every pass; stops at the first that fails or, with verify-each,
  /// leaves invalid IR behind.
  llvm::LogicalResult run(Module &m);

  /// Prints the `--time-passes` and `--stats` reports, if enabled.
  void printReports(llvm::raw_ostream &os) const;

private:
  void dump(llvm::raw_ostream &os, const Module &m, llvm::StringRef when,
            const Pass &pass);

  DiagnosticEngine &diag;
  std::vector<std::unique_ptr<Pass>> passes;
  PassInstrumentation instr;
  std::vector<double> seconds;
};

} // namespace nnc

#endif // NNC_PASSES_PASSMANAGER_H
