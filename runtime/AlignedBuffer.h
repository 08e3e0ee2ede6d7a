//===- AlignedBuffer.h - Zeroed, page-aligned host memory -------*- C++ -*-===//
#ifndef NNC_RUNTIME_ALIGNEDBUFFER_H
#define NNC_RUNTIME_ALIGNEDBUFFER_H

#include <cstddef>
#include <memory>

namespace nnc {

/// Memory for arenas and variable blocks: page-aligned (so threads' slices
/// can own whole pages, and every planned offset keeps its alignment) and
/// zeroed. Blocks of a megabyte or more are aligned to 2 MiB and asked for
/// transparent huge pages: a training step sweeps the whole variable block
/// (the Adam update reads and writes three copies of the weights), and with
/// 4 KiB pages those sweeps miss the TLB on every page — in a virtual
/// machine, a two-level walk each time.
class AlignedBuffer {
public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);

  char *data() { return ptr.get(); }
  const char *data() const { return ptr.get(); }
  size_t size() const { return bytes; }

private:
  struct Free {
    void operator()(char *p) const;
  };
  std::unique_ptr<char, Free> ptr;
  size_t bytes = 0;
};

} // namespace nnc

#endif
