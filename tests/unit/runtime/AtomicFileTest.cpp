// Atomic writes keep the replaced file's mode, clean up after writers that
// were killed, and refuse a target that another process is writing.
#include "runtime/AtomicFile.h"
#include "runtime/OutputLock.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace nnc;
using namespace nnc::test;

namespace {

std::string writeError(const std::string &path, llvm::StringRef contents) {
  llvm::Error e = writeFileAtomically(path, contents);
  return e ? llvm::toString(std::move(e)) : "ok";
}

mode_t modeOf(const std::string &path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string text(const std::string &path) {
  Bytes b = readFile(path);
  return std::string(b.begin(), b.end());
}

/// A child process that holds the lock of `target` until told to go.
class LockingChild {
public:
  explicit LockingChild(const std::string &target) {
    int ready[2], go[2];
    EXPECT_EQ(::pipe(ready), 0);
    EXPECT_EQ(::pipe(go), 0);
    pid = ::fork();
    if (pid == 0) {
      auto lock = OutputLock::acquire(target);
      char c = lock ? 'y' : 'n';
      if (!lock)
        llvm::consumeError(lock.takeError());
      (void)!::write(ready[1], &c, 1);
      (void)!::read(go[0], &c, 1);
      ::_exit(0); // the lock dies with the process
    }
    char c = 0;
    EXPECT_EQ(::read(ready[0], &c, 1), 1);
    EXPECT_EQ(c, 'y') << "the child could not take the lock";
    goFd = go[1];
    ::close(ready[0]);
    ::close(ready[1]);
    ::close(go[0]);
  }
  /// Lets the child exit and waits for it.
  void finish() {
    if (pid <= 0)
      return;
    char c = 'g';
    (void)!::write(goFd, &c, 1);
    ::close(goFd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  ~LockingChild() { finish(); }
  pid_t id() const { return pid; }

private:
  pid_t pid = -1;
  int goFd = -1;
};

const char *hookSaw = nullptr;
void removeWhileWriting(const char *temporary) {
  hookSaw = temporary;
  removeUnfinishedTemporaryFile();
}

} // namespace

TEST(AtomicFile, ReplacingKeepsTheMode) {
  ScratchDir dir;
  std::string path = dir.path("metrics.json");
  ASSERT_EQ(writeError(path, "one"), "ok");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_EQ(writeError(path, "two"), "ok");
  EXPECT_EQ(text(path), "two");
  EXPECT_EQ(modeOf(path), mode_t(0640));
  ASSERT_EQ(::chmod(path.c_str(), 0604), 0);
  ASSERT_EQ(writeError(path, "three"), "ok");
  EXPECT_EQ(modeOf(path), mode_t(0604));
}

TEST(AtomicFile, StaleTemporaryFilesOfTheTargetAreRemoved) {
  ScratchDir dir;
  std::string path = dir.path("m.safetensors");
  // What a writer killed before its rename leaves: the target's temporary
  // files. Others' (another target, or not of the temporary form) stay.
  writeFile(dir.path(".m.safetensors.tmp-a1B2c3D4"), Bytes(1000, 7));
  writeFile(dir.path(".m.safetensors.tmp-zzzzzzzz"), Bytes(10, 7));
  writeFile(dir.path(".m.safetensors.tmp-short"), Bytes(10, 7));
  writeFile(dir.path(".n.safetensors.tmp-a1B2c3D4"), Bytes(10, 7));
  ASSERT_EQ(writeError(path, "new"), "ok");
  EXPECT_EQ(dir.list(), std::vector<std::string>({".m.safetensors.tmp-short",
                                                  ".n.safetensors.tmp-a1B2c3D4",
                                                  "m.safetensors"}));
}

TEST(AtomicFile, LockFilesAreRemovedWithTheLock) {
  ScratchDir dir;
  std::string path = dir.path("trace.txt");
  {
    auto lock = OutputLock::acquire(path);
    ASSERT_TRUE(bool(lock)) << llvm::toString(lock.takeError());
    EXPECT_EQ(lock->path(), dir.path(".trace.txt.lock"));
    EXPECT_TRUE(holdsOutputLock(path));
    // The run's own lock covers its writes.
    ASSERT_EQ(writeError(path, "1\n"), "ok");
    auto again = OutputLock::acquire(path);
    ASSERT_FALSE(bool(again));
    EXPECT_EQ(llvm::toString(again.takeError()),
              path + " is written twice by this run");
    EXPECT_EQ(dir.list(),
              std::vector<std::string>({".trace.txt.lock", "trace.txt"}));
  }
  EXPECT_FALSE(holdsOutputLock(path));
  EXPECT_EQ(dir.list(), std::vector<std::string>({"trace.txt"}));
}

TEST(AtomicFile, ADirectoryIsLockedInside) {
  ScratchDir dir;
  auto lock = OutputLock::acquire(dir.path());
  ASSERT_TRUE(bool(lock)) << llvm::toString(lock.takeError());
  EXPECT_EQ(lock->path(), dir.path(".nnc.lock"));
}

TEST(AtomicFile, ATargetLockedByAnotherProcessIsRefused) {
  ScratchDir dir;
  std::string path = dir.path("m.safetensors");
  ASSERT_EQ(writeError(path, "old"), "ok");
  LockingChild child(path);
  std::string msg = writeError(path, "new");
  EXPECT_EQ(msg, path + " is being written by another process (pid " +
                     std::to_string(child.id()) +
                     "); two runs writing the same outputs would interleave "
                     "them (the lock is " +
                     dir.path(".m.safetensors.lock") + ")");
  auto lock = OutputLock::acquire(path);
  EXPECT_FALSE(bool(lock));
  llvm::consumeError(lock.takeError());
  EXPECT_EQ(text(path), "old");
  child.finish();
  // The child died holding the lock: nothing of it is left in the way.
  EXPECT_EQ(writeError(path, "new"), "ok");
  EXPECT_EQ(text(path), "new");
  EXPECT_EQ(dir.list(), std::vector<std::string>({"m.safetensors"}));
}

TEST(AtomicFile, AnUnfinishedWriteCanBeRemovedFromASignalHandler) {
  ScratchDir dir;
  std::string path = dir.path("m.safetensors");
  ASSERT_EQ(writeError(path, "old"), "ok");
  setBeforeCommitHookForTesting(removeWhileWriting);
  std::string msg = writeError(path, "new");
  setBeforeCommitHookForTesting(nullptr);
  ASSERT_NE(hookSaw, nullptr);
  EXPECT_NE(msg.find("cannot rename"), std::string::npos) << msg;
  EXPECT_EQ(text(path), "old");
  EXPECT_EQ(dir.list(), std::vector<std::string>({"m.safetensors"}));
  // With no write in progress there is nothing to remove.
  removeUnfinishedTemporaryFile();
  EXPECT_EQ(text(path), "old");
}
