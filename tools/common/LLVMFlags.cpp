//===- LLVMFlags.cpp - Flags nnc shares with LLVM's own -------------------===//
#include "tools/common/LLVMFlags.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/Pass.h"

namespace nnc {

void adoptLLVMReportFlags(llvm::cl::OptionCategory &category) {
  auto &options = llvm::cl::getRegisteredOptions();
  auto adopt = [&](llvm::StringRef name, llvm::StringRef desc) {
    auto it = options.find(name);
    if (it == options.end())
      return;
    it->second->addCategory(category);
    it->second->setDescription(desc);
    it->second->setHiddenFlag(llvm::cl::NotHidden);
  };
  adopt("time-passes", "Report the time each pass takes");
  adopt("stats", "Report the counters passes keep (statistics)");
}

void adoptLLVMThreadsFlag(llvm::cl::OptionCategory &category,
                          llvm::StringRef description) {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("threads");
  if (it == options.end())
    return;
  it->second->addCategory(category);
  it->second->setDescription(description);
  it->second->setValueStr("N");
  it->second->setHiddenFlag(llvm::cl::NotHidden);
}

std::optional<int> llvmThreadsFlag() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("threads");
  if (it == options.end() || !it->second->getNumOccurrences())
    return std::nullopt;
  if (auto *opt = dynamic_cast<llvm::cl::opt<int> *>(it->second))
    return int(*opt);
  return std::nullopt;
}

ReportFlags takeLLVMReportFlags() {
  ReportFlags flags;
  flags.timePasses = llvm::TimePassesIsEnabled;
  flags.statistics = llvm::AreStatisticsEnabled();
  llvm::TimePassesIsEnabled = false;
  llvm::EnableStatistics(false);
  return flags;
}

} // namespace nnc
