//===- StopSignals.cpp - Ctrl-C and SIGTERM stop training cleanly ---------===//
#include "tools/common/StopSignals.h"

#include "runtime/AtomicFile.h"

#include <csignal>
#include <cstring>
#include <mutex>
#include <unistd.h>

namespace nnc {

namespace {

std::atomic<int> stopSignal{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "written from a signal handler");
struct sigaction previousInt, previousTerm;
std::mutex holdersMutex;
int holders = 0;
/// Holders that say what a signal does: one per process that reports.
std::atomic<int> announcers{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "read from a signal handler");

void writeMessage(const char *text) {
  // write(2) is async-signal-safe; what it fails to write is lost.
  ssize_t n = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)n;
}

void onStopSignal(int signal) {
  int expected = 0;
  bool announce = announcers.load() > 0;
  if (stopSignal.compare_exchange_strong(expected, signal)) {
    if (announce)
      writeMessage(signal == SIGINT
                       ? "\nnnc: SIGINT: stopping after this step (Ctrl-C "
                         "again to quit at once)\n"
                       : "\nnnc: SIGTERM: stopping after this step\n");
    return;
  }
  // The second signal: leave nothing half-written, and go.
  removeUnfinishedTemporaryFile();
  if (announce)
    writeMessage(signal == SIGINT ? "nnc: SIGINT again: quitting at once\n"
                                  : "nnc: SIGTERM again: quitting at once\n");
  ::_exit(128 + signal);
}

} // namespace

StopOnSignals::StopOnSignals(bool announce) : announce(announce) {
  if (announce)
    ++announcers;
  // The ranks of a job in one process (--ranks) each hold one: the first
  // installs the handlers, the last restores what was there before.
  std::lock_guard<std::mutex> lock(holdersMutex);
  if (holders++)
    return;
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  // Interrupted system calls restart: the run goes on to the step's end.
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previousInt);
  ::sigaction(SIGTERM, &action, &previousTerm);
}

StopOnSignals::~StopOnSignals() {
  if (announce)
    --announcers;
  std::lock_guard<std::mutex> lock(holdersMutex);
  if (--holders)
    return;
  ::sigaction(SIGINT, &previousInt, nullptr);
  ::sigaction(SIGTERM, &previousTerm, nullptr);
}

const std::atomic<int> &StopOnSignals::requested() { return stopSignal; }

const char *stopSignalName(int signal) {
  switch (signal) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  }
  return "a signal";
}

} // namespace nnc
