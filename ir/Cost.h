//===- Cost.h - Arithmetic and memory traffic of ops ------------*- C++ -*-===//
//
// What an op or a kernel must do at least: floating-point operations (a
// multiply-add counts two; an element-wise op, exp or sqrt included, one per
// element) and bytes read and written once each. `--profile` divides these
// by measured time to say how close each kernel runs to the machine's
// limits.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_COST_H
#define NNC_IR_COST_H

#include "ir/Graph.h"

namespace nnc {

struct Cost {
  double flops = 0;
  double bytes = 0;
};

/// The work of one top-level op or kernel: for a kernel, the arithmetic of
/// its body and the bytes of its operands and results.
Cost estimateCost(const Op &op);

} // namespace nnc

#endif
