//===- IdxFile.h - Reading IDX files, plain or gzip-compressed --*- C++ -*-===//
//
// IDX is the format MNIST and Fashion-MNIST ship in: two zero bytes, a type
// byte, a rank byte, one big-endian uint32 per dimension, then the elements in
// row-major order, big-endian. nnc reads every type of the format: unsigned
// bytes (0x08, every image and label file of those data sets), signed bytes
// (0x09), 16- and 32-bit integers (0x0b, 0x0c), 32- and 64-bit floats (0x0d,
// 0x0e). Files may be gzip-compressed
// (Debian ships Fashion-MNIST that way); the reader recognises gzip by its
// magic bytes, whatever the file is called.
//
// Every malformed input, compressed or not, gives an error naming the file
// and what is wrong with it; nothing the reader is given makes it crash or
// allocate more than the header's (bounded) promise.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_IDXFILE_H
#define NNC_RUNTIME_IDXFILE_H

#include "runtime/Gzip.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

/// The contents of an IDX file.
struct IdxArray {
  uint8_t type = 0x08; ///< the element type's code
  llvm::SmallVector<int64_t, 4> dims;
  /// Row-major, numElements() * idxElementSize(type) bytes as in the file
  /// (big-endian).
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// Element i, converted exactly to double (every IDX type fits).
  double element(int64_t i) const;
  bool isInteger() const;
};

/// The size in bytes of an element of IDX type `code`; 0 for an unknown type.
unsigned idxElementSize(uint8_t code);
/// "unsigned byte", "32-bit float", ...; "" for an unknown type.
llvm::StringRef idxTypeName(uint8_t code);

/// The largest data an IDX file may promise: larger headers are taken for
/// corruption rather than allocated.
constexpr uint64_t kMaxIdxDataBytes = uint64_t(1) << 32;
/// The largest rank accepted.
constexpr unsigned kMaxIdxRank = 8;

/// Reads the IDX file at `path`, decompressing it first when it starts with
/// the gzip magic bytes. Errors start with `path: `.
llvm::Expected<IdxArray> readIdxFile(llvm::StringRef path);

/// Parses IDX `bytes` (plain or gzip) that came from `name`, which only
/// labels the errors.
llvm::Expected<IdxArray> parseIdx(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name);

} // namespace nnc

#endif // NNC_RUNTIME_IDXFILE_H
