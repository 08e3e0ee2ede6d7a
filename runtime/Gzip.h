//===- Gzip.h - Decompressing gzip data in memory ---------------*- C++ -*-===//
//
// Data files may come gzip-compressed (Debian ships Fashion-MNIST and
// scikit-learn's larger CSV files that way). GzipStream inflates a gzip
// file held in memory piece by piece, so that a reader can check a header
// before it allocates what the header promises; members concatenated as
// gzip(1) writes them are read as one stream, each member's CRC is checked,
// and truncated, corrupt or trailing data is an error naming the file.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_GZIP_H
#define NNC_RUNTIME_GZIP_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace nnc {

/// Whether `bytes` start with the gzip magic bytes 0x1f 0x8b.
bool isGzip(llvm::ArrayRef<uint8_t> bytes);

class GzipStream {
public:
  /// Starts inflating `bytes`, which come from `name` (for errors). Both
  /// must outlive the stream.
  static llvm::Expected<std::unique_ptr<GzipStream>>
  open(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name);
  ~GzipStream();

  /// Reads up to `n` bytes into `dst`; fewer only at the end of the data.
  llvm::Expected<size_t> read(uint8_t *dst, size_t n);

private:
  GzipStream(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name);
  void refill();

  struct State;
  std::unique_ptr<State> state;
  llvm::ArrayRef<uint8_t> input;
  llvm::StringRef name;
  size_t consumed = 0;
  bool finished = false;
};

/// The whole decompressed contents of the gzip data `bytes` from `name`;
/// more than `maxBytes` of it is an error.
llvm::Expected<std::vector<uint8_t>>
decompressGzip(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name,
               uint64_t maxBytes);

} // namespace nnc

#endif // NNC_RUNTIME_GZIP_H
