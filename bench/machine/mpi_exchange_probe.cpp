//===- mpi_exchange_probe.cpp - What an allreduce costs, and when it moves
//-===//
//
// Run with two or more ranks (mpirun -np 2 build/bin/mpi_exchange_probe):
//
//   cost      a blocking MPI_Allreduce of floats, in place, by size: the
//             median of 30, and a robust (Theil-Sen) fit t = alpha + bytes *
//             beta over the sizes from 64 KiB to 4 MiB (past them the buffers
//             leave the caches)
//   progress  MPI_Iallreduce, then 5 ms of arithmetic that calls no MPI,
//             then MPI_Wait: if the library moved the exchange by itself,
//             the wait is short; then the same with an MPI_Test every 20,
//             100 and 500 us of the arithmetic (what nnc's steps do after
//             each kernel)
//
// Rank 0 prints; times are wall-clock microseconds.
//
//===----------------------------------------------------------------------===//
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

volatile double sink;

/// `seconds` of arithmetic, calling MPI_Test on `request` every `every`
/// seconds when it is not null.
void compute(double seconds, MPI_Request *request, double every) {
  double end = now() + seconds, next = now() + every;
  double x = 1.0;
  while (now() < end) {
    for (int i = 0; i < 200; ++i)
      x = x * 1.0000001 + 1e-9;
    if (request && now() >= next) {
      int done;
      MPI_Test(request, &done, MPI_STATUS_IGNORE);
      next += every;
    }
  }
  sink = x;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long sizes[] = {4,      64,     1024,    4096,    16384,   65536,
                        262144, 407232, 1048576, 1607680, 4194304, 16777216};
  if (rank == 0)
    std::printf("allreduce of floats in place on %d ranks (median of 30)\n"
                "%10s %12s %10s\n",
                size, "bytes", "us", "GB/s");
  std::vector<double> fitX, fitY;
  for (long bytes : sizes) {
    std::vector<float> buffer(std::max(1L, bytes / 4), 1.0f);
    std::vector<double> times;
    for (int rep = 0; rep < 33; ++rep) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = now();
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), int(buffer.size()), MPI_FLOAT,
                    MPI_SUM, MPI_COMM_WORLD);
      if (rep >= 3)
        times.push_back(now() - t0);
    }
    double t = median(times);
    if (bytes >= 65536 && bytes <= 4194304) {
      fitX.push_back(double(bytes));
      fitY.push_back(t);
    }
    if (rank == 0)
      std::printf("%10ld %12.1f %10.2f\n", bytes, t * 1e6, bytes / t / 1e9);
  }
  // t = alpha + beta * bytes, by Theil-Sen: the median of the slopes
  // between every two sizes, then the median intercept. A least-squares
  // fit followed one size whose median a loaded machine had inflated
  // (4 MiB at 13 ms instead of ~1 ms gave -1751 us + 3.2 ns/byte).
  std::vector<double> slopes, intercepts;
  for (size_t i = 0; i < fitX.size(); ++i)
    for (size_t j = i + 1; j < fitX.size(); ++j)
      slopes.push_back((fitY[j] - fitY[i]) / (fitX[j] - fitX[i]));
  double beta = median(slopes);
  for (size_t i = 0; i < fitX.size(); ++i)
    intercepts.push_back(fitY[i] - beta * fitX[i]);
  double alpha = median(intercepts);
  if (rank == 0)
    std::printf("fit from 64 KiB to 4 MiB: %.1f us + %.3f ns/byte (%.2f "
                "GB/s)\n\n",
                alpha * 1e6, beta * 1e9, 1 / beta / 1e9);

  if (rank == 0)
    std::printf("MPI_Iallreduce, 5 ms of arithmetic, MPI_Wait: time in the "
                "start and the wait (median of 21, and fastest)\n%10s %16s "
                "%16s %16s %16s %16s\n",
                "bytes", "alone", "no calls", "test/500us", "test/100us",
                "test/20us");
  for (long bytes : {65536L, 407232L, 1048576L, 1607680L, 4194304L}) {
    std::vector<float> buffer(bytes / 4, 1.0f);
    auto run = [&](double computing, double every, bool poll) {
      std::vector<double> waits;
      for (int rep = 0; rep < 21; ++rep) {
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Request request;
        double t0 = now();
        MPI_Iallreduce(MPI_IN_PLACE, buffer.data(), int(buffer.size()),
                       MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
        double t1 = now();
        compute(computing, poll ? &request : nullptr, every);
        double t2 = now();
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        waits.push_back(now() - t2 + (t1 - t0));
      }
      return std::pair{median(waits),
                       *std::min_element(waits.begin(), waits.end())};
    };
    auto alone = run(0, 0, false);
    auto none = run(5e-3, 0, false);
    auto t500 = run(5e-3, 500e-6, true);
    auto t100 = run(5e-3, 100e-6, true);
    auto t20 = run(5e-3, 20e-6, true);
    if (rank == 0) {
      std::printf("%10ld", bytes);
      for (auto [m, best] : {alone, none, t500, t100, t20})
        std::printf(" %8.1f (%5.1f)", m * 1e6, best * 1e6);
      std::printf("\n");
    }
  }
  MPI_Finalize();
  return 0;
}
