//===- Types.h - Element types and static tensor types ----------*- C++ -*-===//
//
// Every value in the graph IR is a tensor with an element type and a static
// shape. Shapes are fixed when a graph is compiled (the batch size included),
// which is what lets code generation specialise every loop.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_TYPES_H
#define NNC_IR_TYPES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace nnc {

enum class ElementType : uint8_t { F32, F64, I32, I1, U8 };

llvm::StringRef elementTypeName(ElementType t);
std::optional<ElementType> parseElementType(llvm::StringRef name);
unsigned elementByteSize(ElementType t);
bool isFloat(ElementType t);

using Shape = llvm::SmallVector<int64_t, 4>;

/// A tensor type: element type plus static shape. Rank 0 is a scalar.
class TensorType {
public:
  TensorType() = default;
  TensorType(ElementType elt, llvm::ArrayRef<int64_t> shape)
      : elt(elt), dims(shape.begin(), shape.end()) {}

  ElementType element() const { return elt; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }
  unsigned rank() const { return dims.size(); }
  int64_t dim(unsigned i) const { return dims[i]; }
  int64_t numElements() const;
  int64_t byteSize() const { return numElements() * elementByteSize(elt); }
  bool isScalar() const { return dims.empty(); }

  TensorType withElement(ElementType e) const { return {e, dims}; }
  TensorType withShape(llvm::ArrayRef<int64_t> s) const { return {elt, s}; }

  /// Prints as `f32[32,784]`; a scalar is `f32[]`.
  std::string str() const;

  bool operator==(const TensorType &o) const {
    return elt == o.elt && dims == o.dims;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }

private:
  ElementType elt = ElementType::F32;
  Shape dims;
};

std::string shapeStr(llvm::ArrayRef<int64_t> shape);

/// NumPy broadcasting of two shapes: dimensions are aligned from the right and
/// each pair must be equal or contain a 1. Returns nullopt when they clash.
std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                     llvm::ArrayRef<int64_t> b);

/// True if `shape` broadcasts to exactly `to` (NumPy rules).
bool broadcastsTo(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> to);

/// Row-major strides of a shape, in elements.
Shape rowMajorStrides(llvm::ArrayRef<int64_t> shape);

/// The product of the dimensions: 1 for a scalar.
int64_t numElements(llvm::ArrayRef<int64_t> shape);

/// Normalises a possibly negative axis against a rank; nullopt if out of range.
std::optional<unsigned> normalizeAxis(int64_t axis, unsigned rank);

} // namespace nnc

#endif // NNC_IR_TYPES_H
