//===- Random.h - The random numbers of training ----------------*- C++ -*-===//
//
// Every random choice nnc makes (initial weights, the epoch shuffle,
// synthetic data) comes from SplitMix64 (Steele, Lea and Flood): small, fast,
// and simple enough to reimplement exactly elsewhere, which is what lets a
// reference in another framework see the same weights and batch order.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_RANDOM_H
#define NNC_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>

namespace nnc {

class SplitMix64 {
public:
  explicit SplitMix64(uint64_t state) : state(state) {}

  uint64_t next() {
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1), from the top 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }

  /// Standard normal by Box-Muller, one value per pair of uniforms.
  double normal() {
    double u1 = 1.0 - uniform(); // (0, 1]: log(u1) is finite
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

  /// Standard normal redrawn until within two standard deviations, as
  /// Keras's TruncatedNormal.
  double truncatedNormal() {
    for (;;) {
      double x = normal();
      if (std::abs(x) <= 2.0)
        return x;
    }
  }

private:
  uint64_t state;
};

} // namespace nnc

#endif
