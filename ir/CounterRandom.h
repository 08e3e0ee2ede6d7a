//===- CounterRandom.h - Random numbers without state -----------*- C++ -*-===//
//
// The random numbers a training step draws (dropout's masks) are a pure
// function of a seed, the step counter and the element's index, so that
// every engine (the interpreter, the compiled step at any thread count)
// draws the same numbers and a rerun with the same seed repeats them. They
// are computed in 32-bit unsigned integer arithmetic, wrapping:
//
//   mix(x)      = x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15;
//                 x *= 0x846ca68b; x ^= x >> 16     (Wellons' lowbias32)
//   key         = mix(mix(seed_lo ^ mix(seed_hi)) + step + 0x9e3779b9)
//   bits(i)     = mix(mix(i ^ key) + key)
//   uniform(i)  = (bits(i) >> 8) * 2^-24             in [0, 1)
//
// where seed_lo and seed_hi are the low and high 32 bits of the 64-bit seed,
// step is taken modulo 2^32 and i is the row-major index of the element,
// modulo 2^32. The added constant keeps mix's fixed point at 0 out of the
// key. The outer mix
// keeps two steps from drawing shifted copies of each other's numbers
// (which i ^ key alone would do when two keys differ in low bits only).
// uniform is a multiple of 2^-24, exact in f32.
//
// In a data-parallel job each rank computes a share of the batch; the
// random numbers of a tensor over the batch are numbered as in the whole
// batch (random_uniform's `first` operand), so the ranks draw together
// what one process draws.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_COUNTERRANDOM_H
#define NNC_IR_COUNTERRANDOM_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace nnc::counter_random {

/// The training step's argument that the data-parallel pass adds when the
/// step draws random numbers for each example: the index, in the global
/// batch, of the first example of this rank's share (rank * share), which
/// the runtime writes before every step.
inline constexpr llvm::StringLiteral kFirstExampleArgument =
    "data_parallel.first_example";

constexpr uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

constexpr uint32_t key(int64_t seed, int64_t step) {
  uint64_t s = uint64_t(seed);
  return mix(mix(uint32_t(s) ^ mix(uint32_t(s >> 32))) + uint32_t(step) +
             0x9e3779b9u);
}

constexpr uint32_t bits(uint32_t key, uint64_t index) {
  return mix(mix(uint32_t(index) ^ key) + key);
}

/// Uniform in [0, 1): a multiple of 2^-24.
constexpr double uniform(uint32_t key, uint64_t index) {
  return double(bits(key, index) >> 8) * 0x1.0p-24;
}

} // namespace nnc::counter_random

#endif // NNC_IR_COUNTERRANDOM_H
