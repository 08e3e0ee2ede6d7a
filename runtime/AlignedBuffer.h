//===- AlignedBuffer.h - Zeroed, page-aligned host memory -------*- C++ -*-===//
#ifndef NNC_RUNTIME_ALIGNEDBUFFER_H
#define NNC_RUNTIME_ALIGNEDBUFFER_H

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace nnc {

/// Memory for arenas and variable blocks: page-aligned (so threads' slices
/// can own whole pages, and every planned offset keeps its alignment) and
/// zeroed.
class AlignedBuffer {
public:
  static constexpr size_t kAlignment = 4096;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes) : bytes(bytes) {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    ptr.reset(static_cast<char *>(
        std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment)));
    std::memset(ptr.get(), 0, rounded ? rounded : kAlignment);
  }

  char *data() { return ptr.get(); }
  const char *data() const { return ptr.get(); }
  size_t size() const { return bytes; }

private:
  struct Free {
    void operator()(char *p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> ptr;
  size_t bytes = 0;
};

} // namespace nnc

#endif
