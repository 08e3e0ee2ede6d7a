//===- OutputLock.cpp - One writer per output file ------------------------===//
#include "runtime/OutputLock.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nnc {

namespace {

llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string errnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

/// The locks this process holds, by lock file.
std::mutex registryMutex;
llvm::StringSet<> &heldLocks() {
  static llvm::StringSet<> locks;
  return locks;
}

/// The process id written in a lock file, or "" when it has none.
std::string ownerOf(int fd) {
  char buffer[32] = {};
  ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0)
    return "";
  return llvm::StringRef(buffer, size_t(n)).trim().str();
}

} // namespace

llvm::Expected<std::string> lockFileOf(llvm::StringRef target) {
  namespace fs = llvm::sys::fs;
  namespace path = llvm::sys::path;
  llvm::SmallString<256> real;
  fs::file_status status;
  if (!fs::status(target, status)) {
    if (fs::real_path(target, real))
      real = target;
    if (fs::is_directory(status)) {
      path::append(real, ".nnc.lock");
      return real.str().str();
    }
    llvm::SmallString<256> lock(path::parent_path(real));
    path::append(lock, "." + path::filename(real) + ".lock");
    return lock.str().str();
  }
  llvm::StringRef parent = path::parent_path(target);
  if (parent.empty())
    parent = ".";
  if (std::error_code ec = fs::real_path(parent, real))
    return fail("the directory " + parent + " does not exist");
  if (!fs::is_directory(real))
    return fail(parent + " is not a directory");
  path::append(real, "." + path::filename(target) + ".lock");
  return real.str().str();
}

bool holdsOutputLock(llvm::StringRef target) {
  auto lock = lockFileOf(target);
  if (!lock) {
    llvm::consumeError(lock.takeError());
    return false;
  }
  std::lock_guard<std::mutex> guard(registryMutex);
  return heldLocks().contains(*lock);
}

llvm::Expected<OutputLock> OutputLock::acquire(llvm::StringRef target) {
  auto lockPath = lockFileOf(target);
  if (!lockPath)
    return lockPath.takeError();
  {
    std::lock_guard<std::mutex> guard(registryMutex);
    if (heldLocks().contains(*lockPath))
      return fail(target + " is written twice by this run");
  }
  // The file may be removed by its last owner between our open and our
  // flock; a lock on a removed file locks nothing, so try again until the
  // file locked is the one under the name.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(lockPath->c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      int err = errno;
      return fail("cannot write in the directory of " + target + ": " +
                  errnoMessage(err) + " (creating " + *lockPath + ")");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      std::string owner = ownerOf(fd);
      ::close(fd);
      if (err == EWOULDBLOCK)
        return fail(target + " is being written by another process" +
                    (owner.empty() ? "" : " (pid " + owner + ")") +
                    "; two runs writing the same outputs would interleave "
                    "them (the lock is " +
                    *lockPath + ")");
      return fail("cannot lock " + *lockPath + ": " + errnoMessage(err));
    }
    struct stat held, named;
    if (::fstat(fd, &held) != 0 || ::stat(lockPath->c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
      // The lock holds without the pid; only the message naming the owner
      // loses it.
    }
    OutputLock lock;
    lock.fd = fd;
    lock.lockPath = *lockPath;
    std::lock_guard<std::mutex> guard(registryMutex);
    heldLocks().insert(lock.lockPath);
    return lock;
  }
  return fail("cannot lock " + *lockPath + ": it keeps being replaced");
}

OutputLock::OutputLock(OutputLock &&other)
    : fd(other.fd), lockPath(std::move(other.lockPath)) {
  other.fd = -1;
}

OutputLock &OutputLock::operator=(OutputLock &&other) {
  if (this != &other) {
    release();
    fd = other.fd;
    lockPath = std::move(other.lockPath);
    other.fd = -1;
  }
  return *this;
}

OutputLock::~OutputLock() { release(); }

void OutputLock::release() {
  if (fd < 0)
    return;
  {
    std::lock_guard<std::mutex> guard(registryMutex);
    heldLocks().erase(lockPath);
  }
  // Removed while still locked: a process that opened the file before the
  // removal then finds, once it has the lock, that the name is gone, and
  // starts over with a new file.
  ::unlink(lockPath.c_str());
  ::close(fd);
  fd = -1;
}

} // namespace nnc
