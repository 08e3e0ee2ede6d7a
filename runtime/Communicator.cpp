//===- Communicator.cpp - The ranks of a data-parallel job ----------------===//
#include "runtime/Communicator.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>
#include <cstdlib>

namespace nnc {

Communicator::~Communicator() = default;

llvm::Error checkSameOnEveryRank(Communicator &comm,
                                 llvm::ArrayRef<Fingerprint> mine) {
  std::vector<uint64_t> hashes;
  for (const Fingerprint &f : mine)
    hashes.push_back(f.hash);
  auto all = comm.gather(hashes);
  if (!all)
    return all.takeError();
  size_t n = mine.size();
  std::string problems;
  for (int r = 1; r < comm.size(); ++r)
    for (size_t i = 0; i < n; ++i)
      if ((*all)[r * n + i] != (*all)[i])
        problems +=
            llvm::formatv(
                "\n  rank {0}: {1} differ from rank 0's{2}", r, mine[i].what,
                mine[i].detail.empty() ? "" : " (" + mine[i].detail + ")")
                .str();
  if (problems.empty())
    return llvm::Error::success();
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "the ranks of this job would not train the same model on the same "
      "data:" +
          problems +
          "\n(every rank must run the same nnc on the same model, options, "
          "data and checkpoint)");
}

namespace {
std::optional<int> environmentInt(const char *name) {
  const char *value = std::getenv(name);
  int n;
  if (!value || llvm::StringRef(value).getAsInteger(10, n))
    return std::nullopt;
  return n;
}
} // namespace

std::optional<LaunchedRank> launchedRank() {
  // Open MPI's mpirun, then the PMI of MPICH's Hydra and of Slurm.
  for (auto [size, rank, local] :
       {std::array{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
                   "OMPI_COMM_WORLD_LOCAL_SIZE"},
        std::array{"PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS"}}) {
    std::optional<int> n = environmentInt(size), r = environmentInt(rank);
    if (!n || !r)
      continue;
    LaunchedRank l;
    l.size = *n;
    l.rank = *r;
    l.localSize = environmentInt(local).value_or(1);
    return l;
  }
  return std::nullopt;
}

#ifndef NNC_HAVE_MPI
bool haveMPI() { return false; }

llvm::Expected<std::unique_ptr<Communicator>> joinMPIJob() {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "this nnc was built without MPI, so it cannot join the ranks of a "
      "data-parallel job: install Open MPI (scripts/bootstrap.sh) and "
      "rebuild");
}
#endif

} // namespace nnc
