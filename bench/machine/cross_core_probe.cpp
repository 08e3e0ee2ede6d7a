//===- cross_core_probe.cpp - A cache line's round trip between two cores -===//
//
// Two threads, pinned to two CPUs, pass a counter back and forth through one
// cache line; the time per round trip is what every barrier and every line
// one core writes and the other reads costs at least. On a virtual machine
// it tells where the hypervisor has put the two CPUs: next to each other
// (tens of ns) or far apart (hundreds). bench.py runs it before each run.
//
// Usage: cross_core_probe [round trips] [cpu a] [cpu b]
// Prints the mean round trip in ns; exits 2 when it cannot pin two CPUs.
//
//===----------------------------------------------------------------------===//
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <sched.h>
#include <thread>

namespace {

alignas(64) std::atomic<long> ball{0};

bool pinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/// The first two CPUs this process may run on, unless given.
bool chooseCpus(int argc, char **argv, int &a, int &b) {
  if (argc > 3) {
    a = std::atoi(argv[2]);
    b = std::atoi(argv[3]);
    return a != b;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return false;
  int found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &set))
      (found++ == 0 ? a : b) = c;
  return found == 2;
}

} // namespace

int main(int argc, char **argv) {
  long trips = argc > 1 ? std::atol(argv[1]) : 20000;
  int a = 0, b = 1;
  if (trips < 1 || !chooseCpus(argc, argv, a, b)) {
    std::fprintf(stderr, "cross_core_probe: needs two CPUs to run on\n");
    return 2;
  }
  bool partnerPinned = false;
  std::thread partner([&] {
    partnerPinned = pinTo(b);
    for (long i = 0; i < trips; ++i) {
      while (ball.load(std::memory_order_acquire) != 2 * i + 1)
        ;
      ball.store(2 * i + 2, std::memory_order_release);
    }
  });
  bool pinned = pinTo(a);
  // The first trips wake the partner and warm the line; they are not timed.
  long warmup = trips / 10;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < trips; ++i) {
    if (i == warmup)
      start = std::chrono::steady_clock::now();
    ball.store(2 * i + 1, std::memory_order_release);
    while (ball.load(std::memory_order_acquire) != 2 * i + 2)
      ;
  }
  auto end = std::chrono::steady_clock::now();
  partner.join();
  if (!pinned || !partnerPinned) {
    std::fprintf(stderr, "cross_core_probe: cannot pin to CPUs %d and %d\n", a,
                 b);
    return 2;
  }
  double ns = std::chrono::duration<double, std::nano>(end - start).count() /
              double(trips - warmup);
  std::printf("%.0f\n", ns);
  return 0;
}
