//===- InputFile.cpp - Reading the runtime's input files whole ------------===//
#include "runtime/InputFile.h"
#include "runtime/AlignedBuffer.h"

#include "llvm/Support/FileSystem.h"

namespace nnc {

namespace {
const char *describe(llvm::sys::fs::file_type type) {
  using llvm::sys::fs::file_type;
  switch (type) {
  case file_type::directory_file:
    return "a directory";
  case file_type::character_file:
    return "a character device";
  case file_type::block_file:
    return "a block device";
  case file_type::fifo_file:
    return "a pipe";
  case file_type::socket_file:
    return "a socket";
  default:
    return "of an unknown type";
  }
}
} // namespace

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return llvm::createStringError(ec, ec.message());
  if (!llvm::sys::fs::is_regular_file(status))
    return llvm::createStringError(
        std::make_error_code(std::errc::invalid_argument),
        llvm::Twine("not a regular file but ") + describe(status.type()));
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    std::error_code ec = buffer.getError();
    if (ec == std::errc::not_enough_memory)
      return llvm::createStringError(ec, "cannot map its " +
                                             formatByteSize(status.getSize()) +
                                             " into memory: out of memory");
    return llvm::createStringError(ec, ec.message());
  }
  return std::move(*buffer);
}

} // namespace nnc
