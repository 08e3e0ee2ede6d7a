//===- PerfMap.cpp - Naming JIT-compiled kernels for perf -----------------===//
#include "codegen/PerfMap.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

namespace nnc::codegen {

llvm::Error collectFunctionSizes(llvm::MemoryBufferRef object,
                                 llvm::StringMap<uint64_t> &sizes) {
  auto file = llvm::object::ObjectFile::createObjectFile(object);
  if (!file)
    return file.takeError();
  for (const llvm::object::SymbolRef &symbol : (*file)->symbols()) {
    auto type = symbol.getType();
    if (!type)
      return type.takeError();
    if (*type != llvm::object::SymbolRef::ST_Function)
      continue;
    auto name = symbol.getName();
    if (!name)
      return name.takeError();
    sizes[*name] = llvm::object::ELFSymbolRef(symbol).getSize();
  }
  return llvm::Error::success();
}

llvm::Error appendPerfMap(llvm::ArrayRef<PerfMapEntry> entries) {
  std::string path = "/tmp/perf-" + std::to_string(::getpid()) + ".map";
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Append);
  if (ec)
    return llvm::createStringError(ec, "cannot write " + path + ": " +
                                           ec.message());
  for (const PerfMapEntry &e : entries)
    out << llvm::format("%llx %llx ", (unsigned long long)e.address,
                        (unsigned long long)e.size)
        << e.name << '\n';
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "cannot write " + path + ": " +
                                                    out.error().message());
  return llvm::Error::success();
}

} // namespace nnc::codegen
