//===- RunOutputs.cpp - The files a run writes, claimed before it starts --===//
#include "tools/nnc/RunOutputs.h"

#include "tools/common/StopSignals.h"
#include "tools/nnc/Diagnostics.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <sys/statvfs.h>

namespace nnc {

namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Whether `p` exists and is something other than a regular file (a
/// device, a pipe, /dev/stdout): written in place, with no lock and no
/// temporary file.
bool isSpecialFile(llvm::StringRef p) {
  fs::file_status status;
  return !fs::status(p, status) && !fs::is_regular_file(status) &&
         !fs::is_directory(status);
}

std::string directoryOf(llvm::StringRef p) {
  llvm::StringRef dir = path::parent_path(p);
  return dir.empty() ? "." : dir.str();
}

std::string bytesText(uint64_t bytes) {
  if (bytes >= (uint64_t(1) << 20))
    return llvm::formatv("{0:F1} MiB", double(bytes) / (1 << 20)).str();
  if (bytes >= 1024)
    return llvm::formatv("{0:F1} KiB", double(bytes) / 1024).str();
  return llvm::formatv("{0} bytes", bytes).str();
}

/// `ckpt` and `.safetensors` of `ckpt.safetensors`.
std::pair<std::string, std::string> stemAndExtension(llvm::StringRef save) {
  llvm::StringRef ext = path::extension(save);
  return {save.drop_back(ext.size()).str(),
          ext.empty() ? std::string(".safetensors") : ext.str()};
}

} // namespace

llvm::Expected<std::vector<OutputLock>>
claimOutputs(llvm::ArrayRef<OutputFile> outputs) {
  std::vector<OutputLock> locks;
  for (const OutputFile &o : outputs) {
    if (o.path.empty() || isSpecialFile(o.path))
      continue;
    if (fs::is_directory(o.path))
      return makeError(o.what + " " + o.path +
                       ": is a directory; give a file name");
    if (!fs::is_directory(directoryOf(o.path)))
      return makeError(o.what + " " + o.path + ": the directory " +
                       directoryOf(o.path) + " does not exist");
    auto lock = OutputLock::acquire(o.path);
    if (!lock)
      return makeError(o.what + " " + o.path + ": " +
                       llvm::toString(lock.takeError()));
    locks.push_back(std::move(*lock));
  }
  return locks;
}

llvm::Error checkOutputSpace(llvm::ArrayRef<OutputFile> outputs) {
  for (const OutputFile &o : outputs) {
    if (o.path.empty() || isSpecialFile(o.path))
      continue;
    std::string dir = directoryOf(o.path);
    struct statvfs vfs;
    if (::statvfs(dir.c_str(), &vfs) != 0)
      continue; // not knowable here; the write will say
    uint64_t free = uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
    if (free < o.bytes)
      return makeError(o.what + " " + o.path + ": " + dir + " has " +
                       bytesText(free) + " free, and writing it needs " +
                       bytesText(o.bytes) +
                       " (a new file is written whole before it replaces the "
                       "old one)");
  }
  return llvm::Error::success();
}

std::string numberedCheckpointPath(llvm::StringRef save, int64_t step) {
  auto [stem, ext] = stemAndExtension(save);
  return llvm::formatv("{0}.step-{1:d6}{2}", stem, step, ext).str();
}

std::string bestCheckpointPath(llvm::StringRef save) {
  auto [stem, ext] = stemAndExtension(save);
  return stem + ".best" + ext;
}

llvm::Error removeOldCheckpoints(llvm::StringRef save, int64_t keep) {
  auto [stem, ext] = stemAndExtension(save);
  std::string prefix = path::filename(stem).str() + ".step-";
  std::vector<std::pair<int64_t, std::string>> numbered;
  std::error_code ec;
  for (fs::directory_iterator it(directoryOf(save), ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::StringRef name = path::filename(it->path());
    if (!name.consume_front(prefix) || !name.consume_back(ext))
      continue;
    int64_t step = 0;
    if (name.getAsInteger(10, step))
      continue;
    numbered.push_back({step, it->path()});
  }
  if (ec)
    return makeError("cannot list " + directoryOf(save) + ": " + ec.message());
  llvm::sort(numbered);
  for (size_t i = 0; i + size_t(keep) < numbered.size(); ++i)
    if (std::error_code rm = fs::remove(numbered[i].second))
      return makeError("cannot remove the old checkpoint " +
                       numbered[i].second + ": " + rm.message());
  return llvm::Error::success();
}

int finishInterrupted(const TrainingReport &report, const ModelState &state,
                      const RunIdentity &identity, const std::string &model,
                      const RunOptions &options, double compileSeconds,
                      llvm::raw_ostream &log) {
  int status = 128 + report.stoppedBySignal;
  bool reports = !options.communicator || options.communicator->rank() == 0;
  if (!reports)
    return status;
  const TrainingProgress &at = report.end;
  log << fmt::format("nnc: {} stopped the run in epoch {}/{} after step {} "
                     "(global step {})\n",
                     stopSignalName(report.stoppedBySignal), at.epoch + 1,
                     identity.epochs, at.epochStep, at.globalStep);
  std::string checkpoint =
      options.save.empty() ? model + ".interrupted.safetensors" : options.save;
  bool ok = true;
  auto write = [&](llvm::StringRef what, llvm::StringRef path,
                   llvm::Error err) {
    if (err) {
      ok = false;
      printError("cannot write the " + what + ": " +
                 llvm::toString(std::move(err)));
      return;
    }
    log << "  " << what << ": " << path << "\n";
  };
  write("checkpoint", checkpoint,
        saveModelState(state, checkpoint, trainingMetadata(identity, at)));
  if (!options.metrics.empty())
    write("metrics", options.metrics,
          writeMetrics(options.metrics, model, compileSeconds, report));
  if (!options.lossTrace.empty())
    write("loss trace", options.lossTrace,
          writeLossTrace(options.lossTrace, report));
  if (ok)
    log << "  resume with --resume " << checkpoint << "\n";
  return ok ? status : 1;
}

} // namespace nnc
