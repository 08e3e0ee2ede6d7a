//===- Types.cpp - Element types and static tensor types ------------------===//
#include "ir/Types.h"

#include "llvm/Support/ErrorHandling.h"

namespace nnc {

llvm::StringRef elementTypeName(ElementType t) {
  switch (t) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I32:
    return "i32";
  case ElementType::I1:
    return "i1";
  case ElementType::U8:
    return "u8";
  }
  llvm_unreachable("unknown element type");
}

std::optional<ElementType> parseElementType(llvm::StringRef name) {
  for (ElementType t : {ElementType::F32, ElementType::F64, ElementType::I32,
                        ElementType::I1, ElementType::U8})
    if (elementTypeName(t) == name)
      return t;
  return std::nullopt;
}

unsigned elementByteSize(ElementType t) {
  switch (t) {
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F64:
    return 8;
  case ElementType::I1:
  case ElementType::U8:
    return 1;
  }
  llvm_unreachable("unknown element type");
}

bool isFloat(ElementType t) {
  return t == ElementType::F32 || t == ElementType::F64;
}

int64_t TensorType::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string TensorType::str() const {
  return elementTypeName(elt).str() + shapeStr(dims);
}

std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                     llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcastsTo(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> to) {
  auto joined = broadcastShapes(shape, to);
  return joined && llvm::ArrayRef<int64_t>(*joined) == to;
}

Shape rowMajorStrides(llvm::ArrayRef<int64_t> shape) {
  Shape strides(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<unsigned> normalizeAxis(int64_t axis, unsigned rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= int64_t(rank))
    return std::nullopt;
  return unsigned(axis);
}

} // namespace nnc
