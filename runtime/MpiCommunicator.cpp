//===- MpiCommunicator.cpp - The ranks of a job, over MPI -----------------===//
//
// A compiled step's exchanges are non-blocking allreduces (MPI_Iallreduce)
// of float ranges of the arena, in place, started and waited for by the
// step's thread 0, which also called MPI_Init (MPI_THREAD_FUNNELED). Open
// MPI moves a non-blocking collective forward only inside MPI calls, so
// the step polls (MPI_Test) after each kernel while exchanges are in
// flight: docs/distributed.md says how the exchange overlaps the step, and
// docs/benchmarks.md has the measurements.
//
// No wait is unbounded: an exchange that has not completed after
// NNC_EXCHANGE_TIMEOUT seconds (60 by default; 0 waits forever) is an
// error, reported after the step. A rank that dies is not waited for at
// all: mpirun ends the job when one of its processes does.
//
//===----------------------------------------------------------------------===//
#include "runtime/Communicator.h"

#include "codegen/StepABI.h"

#include "llvm/Support/FormatVariadic.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>

namespace nnc {

namespace {

using Clock = std::chrono::steady_clock;

double exchangeTimeout() {
  const char *text = std::getenv("NNC_EXCHANGE_TIMEOUT");
  double seconds;
  if (text && !llvm::StringRef(text).getAsDouble(seconds) && seconds >= 0)
    return seconds;
  return 60;
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator() : timeout(exchangeTimeout()) {
    // A communicator of nnc's own, so that nothing else's messages match
    // ours.
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &myRank);
    MPI_Comm_size(comm, &worldSize);
    MPI_Comm local;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, myRank, MPI_INFO_NULL,
                        &local);
    MPI_Comm_rank(local, &myLocalRank);
    MPI_Comm_size(local, &myLocalSize);
    MPI_Comm_free(&local);
  }

  ~MpiCommunicator() override {
    MPI_Comm_free(&comm);
    MPI_Finalize();
  }

  int rank() const override { return myRank; }
  int size() const override { return worldSize; }
  int localRank() const override { return myLocalRank; }
  int localSize() const override { return myLocalSize; }

  llvm::Error sum(llvm::MutableArrayRef<double> values) override {
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_DOUBLE,
                   MPI_SUM, comm, &request);
    if (!complete(request))
      return timedOut("a sum over the ranks");
    return llvm::Error::success();
  }

  llvm::Error broadcast(llvm::MutableArrayRef<char> bytes) override {
    for (size_t at = 0; at < bytes.size(); at += INT_MAX) {
      int n = int(std::min<size_t>(INT_MAX, bytes.size() - at));
      MPI_Bcast(bytes.data() + at, n, MPI_BYTE, 0, comm);
    }
    return llvm::Error::success();
  }

  llvm::Expected<std::vector<uint64_t>>
  gather(llvm::ArrayRef<uint64_t> mine) override {
    std::vector<uint64_t> all(mine.size() * worldSize);
    MPI_Allgather(mine.data(), int(mine.size()), MPI_UINT64_T, all.data(),
                  int(mine.size()), MPI_UINT64_T, comm);
    return all;
  }

  StepExchange stepExchange() override { return {&exchange, this}; }

  std::vector<double> exchangeWaitSeconds() const override {
    return waitSeconds;
  }

  llvm::Error takeStepError() override {
    if (stepError.empty())
      return llvm::Error::success();
    std::string message = std::move(stepError);
    stepError.clear();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  }

  [[noreturn]] void abortJob(int exitCode) override {
    MPI_Abort(MPI_COMM_WORLD, exitCode);
    std::_Exit(exitCode);
  }

private:
  /// StepContext::exchange.
  static void exchange(void *state, int32_t request, int32_t index, float *data,
                       int64_t count) {
    auto *self = static_cast<MpiCommunicator *>(state);
    switch (request) {
    case kExchangeStart:
      self->start(index, data, count);
      break;
    case kExchangePoll:
      self->poll();
      break;
    case kExchangeWait:
      self->wait(index);
      break;
    }
  }

  void start(int32_t index, float *data, int64_t count) {
    if (size_t(index) >= requests.size())
      requests.resize(index + 1, MPI_REQUEST_NULL);
    if (count > INT_MAX) {
      fail(llvm::formatv("exchange {0} holds {1} floats; MPI counts stop at "
                         "{2}: use smaller buckets (data-parallel's "
                         "bucket-bytes)",
                         index, count, INT_MAX));
      return;
    }
    MPI_Iallreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM, comm,
                   &requests[index]);
  }

  /// One MPI call moves every request forward; the oldest in flight is
  /// the one to test.
  void poll() {
    for (MPI_Request &r : requests)
      if (r != MPI_REQUEST_NULL) {
        int done;
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        return;
      }
  }

  void wait(int32_t index) {
    if (size_t(index) >= requests.size() || !stepError.empty())
      return;
    if (size_t(index) >= waitSeconds.size())
      waitSeconds.resize(index + 1, 0.0);
    // Two clock reads an exchange a step: too few to matter, so always.
    auto begin = Clock::now();
    bool completed = complete(requests[index]);
    waitSeconds[index] +=
        std::chrono::duration<double>(Clock::now() - begin).count();
    if (!completed)
      fail(llvm::formatv("exchange {0} of the step has not completed after "
                         "{1} s: another rank stopped without exiting (hung, "
                         "or its machine unreachable); NNC_EXCHANGE_TIMEOUT "
                         "sets the limit",
                         index, timeout));
  }

  /// Waits for `request`, at most the timeout; false if it ran out.
  bool complete(MPI_Request &request) {
    auto start = Clock::now();
    for (unsigned spins = 0;; ++spins) {
      int done;
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (done)
        return true;
      if (timeout > 0 && spins % 1024 == 0 &&
          std::chrono::duration<double>(Clock::now() - start).count() > timeout)
        return false;
    }
  }

  llvm::Error timedOut(llvm::StringRef what) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("{0} has not completed after {1} s: another rank "
                      "stopped without exiting; NNC_EXCHANGE_TIMEOUT sets the "
                      "limit",
                      what, timeout)
            .str());
  }

  void fail(const llvm::Twine &message) {
    if (stepError.empty())
      stepError = message.str();
  }

  MPI_Comm comm = MPI_COMM_NULL;
  int myRank = 0, worldSize = 1, myLocalRank = 0, myLocalSize = 1;
  double timeout;
  std::vector<MPI_Request> requests;
  std::vector<double> waitSeconds;
  std::string stepError;
};

} // namespace

bool haveMPI() { return true; }

llvm::Expected<std::unique_ptr<Communicator>> joinMPIJob() {
  int provided = 0;
  // Only the thread that runs a step's thread 0, this one, calls MPI.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "MPI_Init_thread failed");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "this MPI library does not let the threads of a process share it "
        "(MPI_THREAD_FUNNELED)");
  }
  return std::make_unique<MpiCommunicator>();
}

} // namespace nnc
