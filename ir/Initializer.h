//===- Initializer.h - How parameters and state start out -------*- C++ -*-===//
//
// An initializer is written as a string attribute on `param` and `state`
// (`"glorot_uniform"`, `"normal(0.05)"`). This header parses and prints that
// spelling and computes the scale of the variance-scaling families; the
// runtime draws the numbers.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_INITIALIZER_H
#define NNC_IR_INITIALIZER_H

#include "ir/Types.h"

#include "llvm/Support/Error.h"

#include <string>

namespace nnc {

struct Initializer {
  enum class Kind {
    Zeros,
    Ones,
    Constant,      ///< constant(value)
    Uniform,       ///< uniform(lo, hi)
    Normal,        ///< normal(std) or normal(mean, std)
    GlorotUniform, ///< U(-l, l), l = sqrt(6 / (fan_in + fan_out))
    GlorotNormal,  ///< truncated N(0, s), s = sqrt(2 / (fan_in + fan_out))
    HeUniform,     ///< U(-l, l), l = sqrt(6 / fan_in)
    HeNormal,      ///< truncated N(0, s), s = sqrt(2 / fan_in)
  };
  Kind kind = Kind::Zeros;
  double a = 0, b = 0; ///< Constant: a; Uniform: [a, b); Normal: mean a, std b.

  std::string str() const;
  bool isDeterministic() const {
    return kind == Kind::Zeros || kind == Kind::Ones || kind == Kind::Constant;
  }
};

/// Parses the spelling used in IR and model files. Errors say which
/// initializers exist.
llvm::Expected<Initializer> parseInitializer(llvm::StringRef text);

/// Keras's fans: for a [in, out] kernel fan_in = in and fan_out = out; for a
/// convolution kernel [kh, kw, in, out] both are multiplied by kh * kw; a
/// vector has fan_in = fan_out = its length.
std::pair<double, double> computeFans(llvm::ArrayRef<int64_t> shape);

} // namespace nnc

#endif // NNC_IR_INITIALIZER_H
