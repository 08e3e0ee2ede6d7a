//===- PassManager.cpp - Pipelines of passes with instrumentation ---------===//
#include "passes/PassManager.h"

#include "ir/Verifier.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

namespace nnc {

llvm::Error Pass::setOption(llvm::StringRef key, llvm::StringRef) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "pass '" + name() + "' has no option '" + key +
                                     "'");
}

llvm::Expected<double> parseDoubleOption(const Pass &pass, llvm::StringRef key,
                                         llvm::StringRef value) {
  double d;
  if (value.trim().getAsDouble(d))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "option '" + key + "' of pass '" + pass.name() +
            "' expects a number, got '" + value + "'");
  return d;
}

void PassRegistry::add(llvm::StringRef name, Factory factory) {
  factories[name] = std::move(factory);
}

std::unique_ptr<Pass> PassRegistry::create(llvm::StringRef name) const {
  auto it = factories.find(name);
  return it == factories.end() ? nullptr : it->second();
}

std::vector<std::string> PassRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &entry : factories)
    out.push_back(entry.first().str());
  llvm::sort(out);
  return out;
}

llvm::Expected<std::vector<std::unique_ptr<Pass>>>
PassRegistry::parsePipeline(llvm::StringRef text) const {
  auto error = [](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  std::vector<std::unique_ptr<Pass>> out;
  while (!(text = text.ltrim()).empty()) {
    size_t end = text.find_first_of(",{");
    llvm::StringRef name = text.substr(0, end).trim();
    text = end == llvm::StringRef::npos ? "" : text.substr(end);
    std::unique_ptr<Pass> pass = create(name);
    if (!pass) {
      std::string known;
      for (const std::string &n : names())
        known += (known.empty() ? "" : ", ") + n;
      return error("unknown pass '" + name + "' (known passes: " + known + ")");
    }
    if (text.consume_front("{")) {
      size_t close = text.find('}');
      if (close == llvm::StringRef::npos)
        return error("options of pass '" + name + "' are not closed by '}'");
      llvm::SmallVector<llvm::StringRef, 4> options;
      text.substr(0, close).split(options, ',', -1, /*KeepEmpty=*/false);
      for (llvm::StringRef option : options) {
        auto [key, value] = option.split('=');
        if (llvm::Error err = pass->setOption(key.trim(), value.trim()))
          return err;
      }
      text = text.substr(close + 1);
    }
    text = text.ltrim();
    if (!text.empty() && !text.consume_front(","))
      return error("expected ',' between passes at '" + text + "'");
    out.push_back(std::move(pass));
  }
  return out;
}

void PassManager::dump(llvm::raw_ostream &os, const Module &m,
                       llvm::StringRef when, const Pass &pass) {
  os << "// -----// IR Dump " << when << " " << pass.name() << " //----- //\n";
  printModule(os, m, instr.printOptions);
  os << "\n";
}

llvm::LogicalResult PassManager::run(Module &m) {
  seconds.assign(passes.size(), 0.0);
  for (size_t i = 0; i < passes.size(); ++i) {
    Pass &pass = *passes[i];
    if (instr.printBeforeAll || instr.printBefore.contains(pass.name()))
      dump(llvm::errs(), m, "Before", pass);
    auto start = std::chrono::steady_clock::now();
    llvm::LogicalResult result = pass.run(m, diag);
    seconds[i] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (llvm::failed(result))
      return llvm::failure();
    if (instr.printAfterAll || instr.printAfter.contains(pass.name()))
      dump(llvm::errs(), m, "After", pass);
    if (instr.verifyEach && llvm::failed(verify(m, diag))) {
      diag.error(Location(),
                 "the IR is invalid after pass '" + pass.name() + "'");
      return llvm::failure();
    }
  }
  return llvm::success();
}

void PassManager::printReports(llvm::raw_ostream &os) const {
  const char *rule =
      "===-------------------------------------------------------"
      "------------------===\n";
  if (instr.timePasses) {
    double total = 0;
    for (double s : seconds)
      total += s;
    os << rule << "                      ... Pass execution timing report ...\n"
       << rule;
    os << llvm::format("  Total Execution Time: %.3f ms\n\n", total * 1e3);
    os << "  ---Wall Time---        ---Name---\n";
    for (size_t i = 0; i < passes.size() && i < seconds.size(); ++i)
      os << llvm::format("  %9.3f ms (%5.1f%%)  ", seconds[i] * 1e3,
                         total > 0 ? 100 * seconds[i] / total : 0.0)
         << passes[i]->name() << "\n";
    os << llvm::format("  %9.3f ms (100.0%%)  Total\n", total * 1e3);
  }
  if (instr.statistics) {
    os << rule << "                         ... Pass statistics report ...\n"
       << rule;
    for (const auto &pass : passes) {
      os << pass->name() << "\n";
      for (const Pass::Statistic *s : pass->statistics())
        os << llvm::format("  (S) %6llu %s - %s\n",
                           (unsigned long long)s->value(), s->name(),
                           s->description());
    }
  }
}

} // namespace nnc
