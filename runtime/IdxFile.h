//===- IdxFile.h - Reading IDX files, plain or gzip-compressed --*- C++ -*-===//
//
// IDX is the format MNIST and Fashion-MNIST ship in: two zero bytes, a type
// byte, a rank byte, one big-endian uint32 per dimension, then the elements in
// row-major order. nnc reads only unsigned bytes (type 0x08), the type of
// every image and label file of those data sets. Files may be gzip-compressed
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

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

/// The contents of an unsigned-byte IDX file.
struct IdxArray {
  llvm::SmallVector<int64_t, 4> dims;
  std::vector<uint8_t> data; ///< row-major, numElements() bytes

  int64_t numElements() const;
};

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

/// Whether `bytes` start with the gzip magic bytes 0x1f 0x8b.
bool isGzip(llvm::ArrayRef<uint8_t> bytes);

} // namespace nnc

#endif // NNC_RUNTIME_IDXFILE_H
