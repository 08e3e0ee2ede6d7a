//===- AlignedBuffer.cpp - Zeroed, page-aligned host memory ---------------===//
#include "runtime/AlignedBuffer.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

namespace nnc {

namespace {
constexpr size_t kPage = 4096;
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugePageThreshold = size_t(1) << 20;

/// Zeroed memory for `bytes`, or null when the system refuses it.
char *allocateZeroed(size_t bytes) {
  size_t alignment = bytes >= kHugePageThreshold ? kHugePage : kPage;
  if (bytes > SIZE_MAX - alignment)
    return nullptr;
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0)
    rounded = alignment;
  char *p = static_cast<char *>(std::aligned_alloc(alignment, rounded));
  if (!p)
    return nullptr;
  // Advice only: where huge pages are off, the buffer keeps small pages.
  if (alignment == kHugePage)
    (void)madvise(p, rounded, MADV_HUGEPAGE);
  std::memset(p, 0, rounded);
  return p;
}
} // namespace

llvm::Expected<AlignedBuffer> AlignedBuffer::allocate(size_t bytes,
                                                      const llvm::Twine &what) {
  AlignedBuffer buffer;
  buffer.ptr.reset(allocateZeroed(bytes));
  if (!buffer.ptr)
    return llvm::createStringError(
        std::make_error_code(std::errc::not_enough_memory),
        "cannot allocate " + formatByteSize(bytes) + " for " + what +
            ": out of memory");
  buffer.bytes = bytes;
  return buffer;
}

AlignedBuffer::AlignedBuffer(size_t bytes) : bytes(bytes) {
  ptr.reset(allocateZeroed(bytes));
  if (!ptr)
    llvm::report_bad_alloc_error("an aligned buffer could not be allocated");
}

void AlignedBuffer::Free::operator()(char *p) const { std::free(p); }

std::string formatByteSize(uint64_t bytes) {
  if (bytes < 1024)
    return llvm::formatv("{0} bytes", bytes).str();
  const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = double(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  return llvm::formatv(value < 10 ? "{0:F1} {1} ({2} bytes)"
                                  : "{0:F0} {1} ({2} bytes)",
                       value, units[unit], bytes)
      .str();
}

} // namespace nnc
