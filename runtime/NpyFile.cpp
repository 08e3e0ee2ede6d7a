//===- NpyFile.cpp - NumPy's .npy array files -----------------------------===//
#include "runtime/NpyFile.h"
#include "runtime/AtomicFile.h"

#include <cerrno>
#include <system_error>

namespace nnc {

llvm::StringRef npyDtype(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "<f4";
  case ElementType::F64:
    return "<f8";
  case ElementType::I32:
    return "<i4";
  case ElementType::U8:
    return "|u1";
  case ElementType::I1:
    return "|b1";
  }
  return "<f4";
}

std::string npyHeader(ElementType type, llvm::ArrayRef<int64_t> shape) {
  std::string dict = "{'descr': '" + npyDtype(type).str() +
                     "', 'fortran_order': False, 'shape': (";
  for (int64_t d : shape)
    dict += std::to_string(d) + ", ";
  if (shape.size() > 1) // (3,) for one dimension, (3, 4) for two
    dict.resize(dict.size() - 2);
  else if (shape.size() == 1)
    dict.pop_back();
  dict += "), }";
  // Magic (6), version (2), length (2), dict, padding, newline: a multiple
  // of 64 bytes, so that the data is aligned.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += char(1);
  header += char(0);
  header += char(dict.size() & 0xff);
  header += char(dict.size() >> 8);
  return header + dict;
}

llvm::Error writeNpyFile(llvm::StringRef path, ElementType type,
                         llvm::ArrayRef<int64_t> shape, const void *data) {
  std::string header = npyHeader(type, shape);
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  size_t bytes = size_t(count) * elementByteSize(type);
  return writeFileAtomically(path, [&](int fd) -> std::error_code {
    if (std::error_code ec = writeAll(fd, header.data(), header.size()))
      return ec;
    return writeAll(fd, data, bytes);
  });
}

} // namespace nnc
