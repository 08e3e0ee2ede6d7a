//===- InProcessJob.cpp - The ranks of a job as threads of nnc ------------===//
#include "tools/nnc/InProcessJob.h"

#include "runtime/InProcessRanks.h"
#include "tools/common/TrainingPipeline.h"

#include <thread>

namespace nnc {

int runInProcessRanks(const ast::ModelFile &file, const TrainingConfig &config,
                      const RunOptions &options, DiagnosticEngine &diag,
                      llvm::raw_ostream &os) {
  auto comms = makeInProcessRanks(int(options.ranks));
  auto shared = std::make_shared<SharedSteps>();
  auto sharedData = std::make_shared<SharedDataset>();
  std::vector<int> status(comms.size(), 0);
  auto runRank = [&](size_t r, DiagnosticEngine &rankDiag,
                     llvm::raw_ostream &rankOut) {
    RunOptions mine = options;
    mine.communicator = comms[r].get();
    mine.sharedSteps = shared;
    mine.sharedData = sharedData;
    status[r] = runModel(file, config, mine, rankDiag, rankOut);
  };
  // The ranks compile the same model: rank 0 alone gives its diagnostics.
  std::vector<std::unique_ptr<DiagnosticEngine>> quiet;
  std::vector<std::thread> others;
  for (size_t r = 1; r < comms.size(); ++r) {
    quiet.push_back(std::make_unique<DiagnosticEngine>());
    quiet.back()->setHandler([](const Diagnostic &) {});
    others.emplace_back(runRank, r, std::ref(*quiet.back()),
                        std::ref(llvm::nulls()));
  }
  runRank(0, diag, os);
  for (std::thread &t : others)
    t.join();
  for (int s : status)
    if (s)
      return s;
  return 0;
}

void SharedSteps::publish(std::shared_ptr<TrainingProgram> p,
                          std::shared_ptr<CompiledProgram> c) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    program = std::move(p);
    code = std::move(c);
  }
  published.notify_all();
}

std::pair<std::shared_ptr<TrainingProgram>, std::shared_ptr<CompiledProgram>>
SharedSteps::take() {
  std::unique_lock<std::mutex> lock(mutex);
  published.wait(lock, [&] { return code != nullptr; });
  return {program, code};
}

} // namespace nnc
