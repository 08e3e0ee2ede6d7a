//===- Shuffle.h - nnc's per-epoch batch order ------------------*- C++ -*-===//
//
// The references must see the batches in exactly nnc's order, or their loss
// curves could not be compared with nnc's step by step. nnc seeds a
// SplitMix64 stream per epoch and runs a Fisher-Yates shuffle from the back;
// this is the same arithmetic (uint64, wrapping).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_SHUFFLE_H
#define NNC_BENCH_REFERENCE_SHUFFLE_H

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace nnc::bench {

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

private:
  uint64_t state;
};

/// The order of the training items in `epoch` (counted from 0).
inline std::vector<uint32_t> epochPermutation(uint64_t seed, uint64_t epoch,
                                              uint32_t count, bool shuffle) {
  std::vector<uint32_t> perm(count);
  std::iota(perm.begin(), perm.end(), 0u);
  if (!shuffle)
    return perm;
  SplitMix64 rng(seed ^ (0xD1B54A32D192ED03ull * (epoch + 1)));
  for (uint32_t i = count - 1; i >= 1; --i) {
    uint64_t j = rng.next() % (uint64_t(i) + 1);
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

} // namespace nnc::bench

#endif
