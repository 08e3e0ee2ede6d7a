//===- AlignedBuffer.h - Zeroed, page-aligned host memory -------*- C++ -*-===//
#ifndef NNC_RUNTIME_ALIGNEDBUFFER_H
#define NNC_RUNTIME_ALIGNEDBUFFER_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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

  /// A buffer of `bytes`, or an error naming `what` it was for and how much
  /// it needed ("cannot allocate 1.9 GiB (2040109465 bytes) for the arena
  /// of @train: out of memory") when the system refuses it. Every buffer
  /// whose size comes from the user's input (a batch, a data set) is
  /// allocated so.
  static llvm::Expected<AlignedBuffer> allocate(size_t bytes,
                                                const llvm::Twine &what);

  /// A buffer of `bytes` that the caller knows to be small; failing to get
  /// it is reported as running out of memory (llvm::report_bad_alloc_error),
  /// as a failed `new` is.
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

/// A byte count as people read it, with the exact figure: "1.9 GiB
/// (2040109465 bytes)", "512 bytes".
std::string formatByteSize(uint64_t bytes);

} // namespace nnc

#endif
