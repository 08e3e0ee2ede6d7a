//===- NpyFile.h - NumPy .npy and .npz files --------------------*- C++ -*-===//
//
// The format numpy.save writes: the magic "\x93NUMPY", a version (1.0, 2.0
// or 3.0), a little-endian header length (2 bytes in version 1, 4 after), a
// header that is a Python dict literal
//
//   {'descr': '<f4', 'fortran_order': False, 'shape': (442, 10), }
//
// padded with spaces to a multiple of 64 bytes and ended by a newline, then
// the elements. nnc reads booleans, signed and unsigned integers of 1 to 8
// bytes and floats of 4 and 8 bytes, either byte order, C or Fortran order
// (converted to row-major); it refuses object arrays (pickles), structured
// dtypes and anything whose size does not match its header, naming the file
// and the fault. A .npz file is a zip archive of .npy files (numpy.savez;
// read through libzip, when nnc is built with it).
//
// The writer writes version 1.0 files of f32, f64, i32, u8 or i1 tensors,
// which numpy.load reads (the predictions of --predict).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_NPYFILE_H
#define NNC_RUNTIME_NPYFILE_H

#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nnc {

/// An array read from a .npy file.
struct NpyArray {
  char kind = 'f';       ///< 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  unsigned itemSize = 4; ///< bytes per element
  std::vector<int64_t> shape;
  /// Row-major, little-endian, numElements() * itemSize bytes.
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// Element i, converted to double (exact but for 64-bit integers beyond
  /// 2^53).
  double element(int64_t i) const;
  bool isInteger() const { return kind != 'f'; }
  /// NumPy's name of the dtype: "float32", "int64", "bool".
  std::string dtypeName() const;
  /// "(442, 10)", as NumPy prints shapes.
  std::string shapeString() const;
};

/// The largest array data nnc reads from one .npy file or .npz member.
constexpr uint64_t kMaxNpyDataBytes = uint64_t(4) << 30;
/// The largest rank accepted.
constexpr unsigned kMaxNpyRank = 16;

/// Parses .npy `bytes` that came from `name`, which only labels errors.
llvm::Expected<NpyArray> parseNpy(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name);
/// Reads the .npy file at `path`. Errors start with `path: `.
llvm::Expected<NpyArray> readNpyFile(llvm::StringRef path);

/// Whether nnc was built with libzip, which .npz files need.
bool haveNpzSupport();

/// The arrays of a .npz archive, named as numpy.savez named them (the
/// members' names without ".npy"), in the archive's order.
using NpzArchive = std::vector<std::pair<std::string, NpyArray>>;
llvm::Expected<NpzArchive> parseNpz(llvm::ArrayRef<uint8_t> bytes,
                                    llvm::StringRef name);
llvm::Expected<NpzArchive> readNpzFile(llvm::StringRef path);

/// The .npy dtype of an element type: '<f4', '<f8', '<i4', '|u1', '|b1'.
llvm::StringRef npyDtype(ElementType type);

/// The header of an array of `shape` elements of `type`.
std::string npyHeader(ElementType type, llvm::ArrayRef<int64_t> shape);

/// Writes `data` (row-major, type.byteSize() bytes of the element type) as
/// an array of `shape` to `path`, atomically (runtime/AtomicFile.h).
llvm::Error writeNpyFile(llvm::StringRef path, ElementType type,
                         llvm::ArrayRef<int64_t> shape, const void *data);

} // namespace nnc

#endif // NNC_RUNTIME_NPYFILE_H
