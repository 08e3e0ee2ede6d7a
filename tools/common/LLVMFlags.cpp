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
  };
  adopt("time-passes", "Report the time each pass takes");
  adopt("stats", "Report the counters passes keep (statistics)");
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
