//===- NpyFile.h - NumPy's .npy array files ---------------------*- C++ -*-===//
//
// The .npy format (version 1.0): the magic "\x93NUMPY", version 1.0, a
// little-endian uint16 header length, a Python dict literal giving the
// dtype, the order and the shape, padded with spaces to a multiple of 64
// bytes and ended by a newline, then the elements in C order. numpy.load
// reads what this writes.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_NPYFILE_H
#define NNC_RUNTIME_NPYFILE_H

#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace nnc {

/// The .npy dtype of an element type: '<f4', '<f8', '<i4', '|u1', '|b1'.
llvm::StringRef npyDtype(ElementType type);

/// The header of an array of `shape` elements of `type`.
std::string npyHeader(ElementType type, llvm::ArrayRef<int64_t> shape);

/// Writes `data` (row-major, type.byteSize() bytes of the element type) as
/// an array of `shape` to `path`, atomically (runtime/AtomicFile.h).
llvm::Error writeNpyFile(llvm::StringRef path, ElementType type,
                         llvm::ArrayRef<int64_t> shape, const void *data);

} // namespace nnc

#endif
