//===- AtomicFile.cpp - Files that appear whole or not at all -------------===//
#include "runtime/AtomicFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace nnc {

std::error_code writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return std::error_code(errno, std::generic_category());
    }
    p += n;
    size -= size_t(n);
  }
  return {};
}

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Writes straight to a target that is not a regular file (a terminal, a
/// pipe, /dev/stdout, /dev/null), which a rename would replace instead.
llvm::Error writeInPlace(llvm::StringRef path,
                         llvm::function_ref<std::error_code(int fd)> write) {
  int fd = ::open(path.str().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return fail("cannot open it: " +
                std::error_code(errno, std::generic_category()).message());
  std::error_code ec = write(fd);
  if (::close(fd) != 0 && !ec)
    ec = std::error_code(errno, std::generic_category());
  if (ec)
    return fail(ec.message());
  return llvm::Error::success();
}
} // namespace

llvm::Error
writeFileAtomically(llvm::StringRef requested,
                    llvm::function_ref<std::error_code(int fd)> write) {
  // An existing target is written where it really is: renaming over a
  // symbolic link would replace the link, and over a device or a pipe
  // would replace the device or pipe with a regular file.
  llvm::SmallString<256> path(requested);
  llvm::sys::fs::file_status target;
  if (!llvm::sys::fs::status(requested, target)) {
    if (llvm::sys::fs::is_directory(target))
      return fail(requested + " is a directory");
    if (!llvm::sys::fs::is_regular_file(target))
      return writeInPlace(requested, write);
    if (llvm::sys::fs::real_path(requested, path))
      path = requested;
  }
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(path));
  if (dir.empty())
    dir = ".";
  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(path) +
                                     ".tmp-%%%%%%%%");
  int fd = -1;
  llvm::SmallString<256> tempPath;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tempPath))
    return fail("cannot create a temporary file in " + dir + ": " +
                ec.message());

  std::error_code ec = write(fd);
  // The data must be on disk before the rename makes it the file, or a
  // crash could leave an empty file under the real name.
  if (!ec && ::fsync(fd) != 0)
    ec = std::error_code(errno, std::generic_category());
  if (::close(fd) != 0 && !ec)
    ec = std::error_code(errno, std::generic_category());
  if (ec) {
    llvm::sys::fs::remove(tempPath);
    return fail("writing " + tempPath + ": " + ec.message());
  }
  if ((ec = llvm::sys::fs::rename(tempPath, path))) {
    llvm::sys::fs::remove(tempPath);
    return fail("cannot rename " + tempPath + " to it: " + ec.message());
  }
  // Make the rename itself durable. The file is complete either way, so a
  // directory that cannot be synced is not an error.
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dirFd >= 0) {
    (void)::fsync(dirFd);
    ::close(dirFd);
  }
  return llvm::Error::success();
}

llvm::Error writeFileAtomically(llvm::StringRef path,
                                llvm::StringRef contents) {
  return writeFileAtomically(path, [&](int fd) {
    return writeAll(fd, contents.data(), contents.size());
  });
}

} // namespace nnc
