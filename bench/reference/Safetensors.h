//===- Safetensors.h - F32 tensors in safetensors files ---------*- C++ -*-===//
//
// nnc writes its initial weights as safetensors (`--steps 0 --save`); the
// references read them so that every system starts from the same point, and
// write their own so that a run can be checked against another.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BENCH_REFERENCE_SAFETENSORS_H
#define NNC_BENCH_REFERENCE_SAFETENSORS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nnc::bench {

struct NamedTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Tensors by name. Only F32 entries are returned; entries of other dtypes
/// (none in nnc's files today) are skipped rather than misread.
using TensorMap = std::map<std::string, NamedTensor>;

llvm::Expected<TensorMap> readSafetensors(llvm::StringRef path);

/// Writes F32 tensors in name order.
llvm::Error writeSafetensors(llvm::StringRef path, const TensorMap &tensors);

} // namespace nnc::bench

#endif
