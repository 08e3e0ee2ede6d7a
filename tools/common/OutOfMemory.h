//===- OutOfMemory.h - Running out of memory as an error --------*- C++ -*-===//
//
// The allocations whose size the user controls (the data set, the
// variables, each step's arena) are checked where they are made, and their
// errors say what they were for and how many bytes they needed. Everything
// else allocates through `new` and LLVM's allocators, which report failure
// through LLVM's bad-alloc handler (InitLLVM routes a failed `new` there
// too). The handler installed here turns that into nnc's error format, naming
// what the process was doing and how much address space it had, and exits
// with status 1: never an abort, a core dump or "PLEASE submit a bug report".
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_COMMON_OUTOFMEMORY_H
#define NNC_TOOLS_COMMON_OUTOFMEMORY_H

namespace nnc {

/// Installs the handler; `tool` prefixes its message ("nnc: error: ...").
/// `tool` must outlive the process (a string literal).
void installOutOfMemoryHandler(const char *tool);

/// What the process is doing, for the handler's message, for the length of
/// a scope: "loading the data set", "compiling the steps". `what` must be a
/// string literal.
class MemoryActivity {
public:
  explicit MemoryActivity(const char *what);
  ~MemoryActivity();
  MemoryActivity(const MemoryActivity &) = delete;
  MemoryActivity &operator=(const MemoryActivity &) = delete;

private:
  const char *previous;
};

} // namespace nnc

#endif
