//===- Metrics.cpp - The metrics JSON every benchmarked system writes -----===//
#include "bench/reference/Metrics.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace nnc::bench {

llvm::Error writeMetrics(llvm::StringRef path, const RunMetrics &metrics) {
  llvm::json::Array epochs;
  for (const EpochMetrics &e : metrics.epochs)
    epochs.push_back(llvm::json::Object{{"epoch", e.epoch},
                                        {"train_loss", e.trainLoss},
                                        {"train_accuracy", e.trainAccuracy},
                                        {"test_loss", e.testLoss},
                                        {"test_accuracy", e.testAccuracy},
                                        {"seconds", e.seconds}});
  llvm::json::Object root{{"model", metrics.model},
                          {"steps", int64_t(metrics.steps)},
                          {"compile_seconds", metrics.compileSeconds},
                          {"train_seconds", metrics.trainSeconds},
                          {"test_loss", metrics.testLoss},
                          {"test_accuracy", metrics.testAccuracy},
                          {"epochs", std::move(epochs)}};
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: cannot write: %s",
                                   path.str().c_str(), ec.message().c_str());
  out << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "%s: write failed",
                                   path.str().c_str());
  return llvm::Error::success();
}

} // namespace nnc::bench
