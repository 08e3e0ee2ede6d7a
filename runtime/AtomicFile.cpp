//===- AtomicFile.cpp - Files that appear whole or not at all -------------===//
#include "runtime/AtomicFile.h"
#include "runtime/OutputLock.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
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

// The temporary file being written, for removeUnfinishedTemporaryFile. A
// signal handler may read it at any point of the writer's code, so the path
// is only changed while `pendingValid` is false, and a plain array holds it.
char pendingPath[4096];
std::atomic<bool> pendingValid{false};
static_assert(std::atomic<bool>::is_always_lock_free,
              "read from a signal handler");
std::atomic<BeforeCommitHook> beforeCommitHook{nullptr};

/// Marks `path` as the write in progress for the length of a scope.
class PendingTemporaryFile {
public:
  explicit PendingTemporaryFile(llvm::StringRef path) {
    if (path.size() >= sizeof(pendingPath))
      return;
    std::memcpy(pendingPath, path.data(), path.size());
    pendingPath[path.size()] = 0;
    pendingValid.store(true);
  }
  ~PendingTemporaryFile() { pendingValid.store(false); }
};

/// The prefix of the temporary files of `file`: `.NAME.tmp-`.
std::string temporaryPrefix(llvm::StringRef file) {
  return ("." + file + ".tmp-").str();
}

/// Removes the temporary files of `file` in `dir` that a writer killed
/// before its rename left behind. Only called under the target's lock, so
/// none of them belongs to a write in progress.
void removeStaleTemporaryFiles(llvm::StringRef dir, llvm::StringRef file) {
  std::string prefix = temporaryPrefix(file);
  std::error_code ec;
  std::vector<std::string> stale;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    // createUniqueFile replaces the model's eight '%' with eight characters.
    if (name.starts_with(prefix) && name.size() == prefix.size() + 8)
      stale.push_back(it->path());
  }
  for (const std::string &path : stale)
    (void)llvm::sys::fs::remove(path);
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
  llvm::StringRef file = llvm::sys::path::filename(path);

  // The run's lock on the target if it has one, else one for this write.
  std::optional<OutputLock> lock;
  if (!holdsOutputLock(path)) {
    auto taken = OutputLock::acquire(path);
    if (!taken)
      return taken.takeError();
    lock.emplace(std::move(*taken));
  }
  removeStaleTemporaryFiles(dir, file);

  // The file it replaces, whose mode and owner the new one keeps.
  struct stat replaced;
  bool replacing = ::stat(path.c_str(), &replaced) == 0;

  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, temporaryPrefix(file) + "%%%%%%%%");
  int fd = -1;
  llvm::SmallString<256> tempPath;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tempPath))
    return fail("cannot create a temporary file in " + dir + ": " +
                ec.message());
  PendingTemporaryFile pending(tempPath);

  std::error_code ec = write(fd);
  if (!ec && replacing) {
    if (::fchmod(fd, replaced.st_mode & 07777) != 0)
      ec = std::error_code(errno, std::generic_category());
    // Only a privileged process may give a file away; the contents matter
    // more than the owner, so failing to is not an error.
    else if (replaced.st_uid != ::geteuid() || replaced.st_gid != ::getegid())
      (void)::fchown(fd, replaced.st_uid, replaced.st_gid);
  }
  if (BeforeCommitHook hook = beforeCommitHook.load(); !ec && hook)
    hook(tempPath.c_str());
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

void removeUnfinishedTemporaryFile() {
  if (pendingValid.load())
    ::unlink(pendingPath);
}

void setBeforeCommitHookForTesting(BeforeCommitHook hook) {
  beforeCommitHook.store(hook);
}

llvm::Error writeFileAtomically(llvm::StringRef path,
                                llvm::StringRef contents) {
  return writeFileAtomically(path, [&](int fd) {
    return writeAll(fd, contents.data(), contents.size());
  });
}

} // namespace nnc
