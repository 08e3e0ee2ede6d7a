//===- OutOfMemory.cpp - Running out of memory as an error ----------------===//
#include "tools/common/OutOfMemory.h"

#include "llvm/Support/ErrorHandling.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace nnc {

namespace {

const char *toolName = "nnc";
std::atomic<const char *> activity{nullptr};

// The handler runs with the heap exhausted: it formats into fixed buffers
// and writes with write(2).

void append(char *buffer, size_t size, const char *text) {
  size_t used = std::strlen(buffer);
  if (used + 1 < size)
    std::strncat(buffer, text, size - used - 1);
}

/// `bytes` in MiB, as a decimal string.
void appendMiB(char *buffer, size_t size, unsigned long long bytes) {
  char number[32];
  std::snprintf(number, sizeof(number), "%llu MiB", bytes >> 20);
  append(buffer, size, number);
}

/// The process's mapped address space, from /proc/self/statm (in pages).
unsigned long long mappedBytes() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  char text[64] = {};
  ssize_t n = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (n <= 0)
    return 0;
  unsigned long long pages = 0;
  for (char *p = text; *p >= '0' && *p <= '9'; ++p)
    pages = pages * 10 + unsigned(*p - '0');
  return pages * unsigned(::sysconf(_SC_PAGESIZE));
}

void onOutOfMemory(void *, const char *reason, bool) {
  char message[512] = {};
  append(message, sizeof(message), toolName);
  append(message, sizeof(message), ": error: out of memory");
  if (const char *what = activity.load()) {
    append(message, sizeof(message), " while ");
    append(message, sizeof(message), what);
  }
  append(message, sizeof(message), " (");
  append(message, sizeof(message), reason ? reason : "an allocation failed");
  if (unsigned long long mapped = mappedBytes()) {
    append(message, sizeof(message), "; the process has ");
    appendMiB(message, sizeof(message), mapped);
    append(message, sizeof(message), " of address space");
  }
  struct rlimit limit;
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    append(message, sizeof(message), ", and may have ");
    appendMiB(message, sizeof(message), limit.rlim_cur);
    append(message, sizeof(message), " (ulimit -v)");
  }
  append(message, sizeof(message), ")\n");
  (void)!::write(STDERR_FILENO, message, std::strlen(message));
  // The process cannot continue: nothing it would do next can be trusted
  // to find memory, so it ends here, as any other error would end it.
  ::_exit(1);
}

} // namespace

void installOutOfMemoryHandler(const char *tool) {
  toolName = tool;
  llvm::install_bad_alloc_error_handler(onOutOfMemory);
  // InitLLVM sends a failed `new` to the handler above; so does this, for
  // tools that do not use InitLLVM.
  llvm::install_out_of_memory_new_handler();
}

MemoryActivity::MemoryActivity(const char *what)
    : previous(activity.exchange(what)) {}

MemoryActivity::~MemoryActivity() { activity.store(previous); }

} // namespace nnc
