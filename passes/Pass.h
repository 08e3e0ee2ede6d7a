//===- Pass.h - Named transformations of a module ---------------*- C++ -*-===//
//
// A pass has a name (used in pipelines such as `--passes=cse,dce`), a one-line
// description, options written `name{key=value}`, and statistics: counters it
// bumps while it runs, printed by `--stats`. (LLVM's STATISTIC counts nothing
// in a release build of LLVM, so passes keep their own.)
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_PASS_H
#define NNC_PASSES_PASS_H

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace nnc {

class Pass {
public:
  virtual ~Pass() = default;

  virtual llvm::StringRef name() const = 0;
  virtual llvm::StringRef description() const = 0;

  /// Transforms the module. User-facing problems (a model that cannot be
  /// differentiated, say) are reported through `diag` and make it fail.
  virtual llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) = 0;

  /// Sets an option given in a pipeline as `name{key=value}`.
  virtual llvm::Error setOption(llvm::StringRef key, llvm::StringRef value);
  /// The options this pass accepts, as `key=default  description` lines.
  virtual std::vector<std::string> optionHelp() const { return {}; }

  /// A counter a pass keeps about its work; declared as a member:
  ///   Statistic numErased{this, "erased", "ops erased"};
  class Statistic {
  public:
    Statistic(Pass *owner, const char *name, const char *desc)
        : statName(name), statDesc(desc) {
      owner->stats.push_back(this);
    }
    Statistic &operator++() {
      ++count;
      return *this;
    }
    Statistic &operator+=(uint64_t n) {
      count += n;
      return *this;
    }
    uint64_t value() const { return count; }
    const char *name() const { return statName; }
    const char *description() const { return statDesc; }

  private:
    const char *statName;
    const char *statDesc;
    uint64_t count = 0;
  };

  llvm::ArrayRef<Statistic *> statistics() const { return stats; }

protected:
  Pass() = default;
  Pass(const Pass &) = delete;

private:
  std::vector<Statistic *> stats;
};

/// A pass that transforms each graph of a module on its own.
class GraphPass : public Pass {
public:
  llvm::LogicalResult run(Module &m, DiagnosticEngine &diag) final {
    for (Graph &g : m.graphs())
      if (llvm::failed(runOnGraph(g, diag)))
        return llvm::failure();
    return llvm::success();
  }

protected:
  virtual llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &diag) = 0;
};

/// Parses a floating-point option value, naming the pass and key on error.
llvm::Expected<double> parseDoubleOption(const Pass &pass, llvm::StringRef key,
                                         llvm::StringRef value);

} // namespace nnc

#endif // NNC_PASSES_PASS_H
