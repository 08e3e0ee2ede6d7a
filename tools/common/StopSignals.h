//===- StopSignals.h - Ctrl-C and SIGTERM stop training cleanly -*- C++ -*-===//
//
// The first SIGINT or SIGTERM during training asks the run to stop: the
// step in progress finishes, and the driver writes a checkpoint, the
// metrics and the loss trace so far, says where, and exits with 128 plus
// the signal's number (130, 143). A second one exits at once, with the
// same status: the temporary file of a write in progress is removed, so
// that every output holds its old contents or all of its new ones.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_COMMON_STOPSIGNALS_H
#define NNC_TOOLS_COMMON_STOPSIGNALS_H

#include <atomic>

namespace nnc {

/// For the length of a scope, SIGINT and SIGTERM set the flag (to the
/// signal's number) instead of killing the process; the previous
/// dispositions are restored at the end. Scopes may overlap (the ranks of
/// an in-process job each hold one): the outermost decides.
class StopOnSignals {
public:
  /// `announce`: whether the process says, on the first signal, that it
  /// will stop (the ranks of a job other than rank 0 stop silently).
  explicit StopOnSignals(bool announce = true);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals &) = delete;
  StopOnSignals &operator=(const StopOnSignals &) = delete;

  /// The signal that asked to stop, or 0.
  static const std::atomic<int> &requested();

private:
  bool announce;
};

/// The name of a stop signal: "SIGINT", "SIGTERM".
const char *stopSignalName(int signal);

} // namespace nnc

#endif
