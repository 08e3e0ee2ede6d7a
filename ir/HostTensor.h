//===- HostTensor.h - Tensors on the host for reference semantics -*- C++ -*-=//
//
// The reference semantics of every op computes on HostTensors. Elements are
// held as doubles whatever the element type: integers up to 2^53 are exact,
// booleans are 0 and 1, and the interpreter rounds f32 results to float after
// each op. Gradient checks can then run the same code in double precision.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_HOSTTENSOR_H
#define NNC_IR_HOSTTENSOR_H

#include "ir/Types.h"

#include <vector>

namespace nnc {

struct HostTensor {
  TensorType type;
  std::vector<double> data;

  HostTensor() = default;
  explicit HostTensor(TensorType t)
      : type(std::move(t)), data(type.numElements(), 0.0) {}
  HostTensor(TensorType t, std::vector<double> values)
      : type(std::move(t)), data(std::move(values)) {}

  int64_t size() const { return int64_t(data.size()); }

  /// Rounds every element to what the element type can hold (f32 elements
  /// to the nearest float), as the compiled code would store it.
  void roundToElementType() {
    if (type.element() == ElementType::F32)
      for (double &d : data)
        d = double(float(d));
  }
  double &operator[](int64_t i) { return data[i]; }
  double operator[](int64_t i) const { return data[i]; }
};

} // namespace nnc

#endif // NNC_IR_HOSTTENSOR_H
