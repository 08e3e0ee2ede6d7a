//===- AlignedBuffer.cpp - Zeroed, page-aligned host memory ---------------===//
#include "runtime/AlignedBuffer.h"

#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

namespace nnc {

namespace {
constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugePageThreshold = size_t(1) << 20;
} // namespace

AlignedBuffer::AlignedBuffer(size_t bytes) : bytes(bytes) {
  size_t alignment = bytes >= kHugePageThreshold ? kHugePage : kPage;
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0)
    rounded = alignment;
  ptr.reset(static_cast<char *>(std::aligned_alloc(alignment, rounded)));
  // Advice only: where huge pages are off, the buffer keeps small pages.
  if (alignment == kHugePage)
    (void)madvise(ptr.get(), rounded, MADV_HUGEPAGE);
  std::memset(ptr.get(), 0, rounded);
}

void AlignedBuffer::Free::operator()(char *p) const { std::free(p); }

} // namespace nnc
