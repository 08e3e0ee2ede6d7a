//===- TrainingProgress.cpp - Where a run stands, as a checkpoint says ----===//
#include "runtime/TrainingProgress.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/WithColor.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#ifndef NNC_VERSION
#define NNC_VERSION "unknown"
#endif

namespace nnc {

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Doubles as C's hexadecimal floats ("0x1.8p+1"), which read back to the
/// same bits.
std::string exactDoubles(llvm::ArrayRef<double> values) {
  std::string s;
  for (double v : values) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%a", v);
    s += (s.empty() ? "" : " ") + std::string(buffer);
  }
  return s;
}

std::optional<std::vector<double>> parseDoubles(llvm::StringRef text) {
  std::vector<double> values;
  llvm::SmallVector<llvm::StringRef, 8> parts;
  text.split(parts, ' ', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    std::string s = part.str();
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size())
      return std::nullopt;
    values.push_back(v);
  }
  return values;
}

} // namespace

llvm::StringRef nncVersion() { return NNC_VERSION; }

std::string identityHash(llvm::StringRef text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : text)
    h = (h ^ c) * 0x100000001B3ull;
  std::string hex;
  llvm::raw_string_ostream os(hex);
  os << llvm::format_hex_no_prefix(h, 16);
  return hex;
}

CheckpointMetadata trainingMetadata(const RunIdentity &run,
                                    const TrainingProgress &progress) {
  CheckpointMetadata m;
  m["format"] = "nnc";
  m["nnc_version"] = nncVersion().str();
  m["epoch"] = std::to_string(progress.epoch);
  m["epoch_step"] = std::to_string(progress.epochStep);
  m["global_step"] = std::to_string(progress.globalStep);
  m["epoch_sums"] = exactDoubles(progress.epochSums);
  if (progress.best) {
    m["best"] = exactDoubles({*progress.best});
    m["epochs_since_best"] = std::to_string(progress.epochsSinceBest);
  }
  m["seed"] = std::to_string(run.seed);
  m["shuffle"] = run.shuffle ? "true" : "false";
  m["batch"] = std::to_string(run.batch);
  m["epochs"] = std::to_string(run.epochs);
  m["data"] = run.data;
  m["model_hash"] = run.model;
  m["optimizer"] = run.optimizer;
  m["threads"] = std::to_string(run.threads);
  m["ranks"] = std::to_string(run.ranks);
  return m;
}

llvm::Expected<SavedRun> readSavedRun(const CheckpointMetadata &metadata,
                                      llvm::StringRef path) {
  if (!metadata.count("global_step"))
    return makeError(path +
                     ": the checkpoint records no training position (it "
                     "holds weights alone, or was written by an older "
                     "nnc): --resume needs one written during training; "
                     "--load starts from its weights and optimizer state, "
                     "--load-weights from its weights alone");
  auto text = [&](llvm::StringRef key) -> llvm::Expected<std::string> {
    auto it = metadata.find(key.str());
    if (it == metadata.end())
      return makeError(path + ": the checkpoint's metadata has no '" + key +
                       "'");
    return it->second;
  };
  auto integer = [&](llvm::StringRef key, int64_t least,
                     int64_t &out) -> llvm::Error {
    auto s = text(key);
    if (!s)
      return s.takeError();
    if (llvm::StringRef(*s).getAsInteger(10, out) || out < least)
      return makeError(path + ": the checkpoint's metadata '" + key + "' is '" +
                       *s + "', expected an integer of at least " +
                       llvm::Twine(least));
    return llvm::Error::success();
  };
  SavedRun saved;
  int64_t threads = 0;
  for (auto [key, least, slot] :
       {std::tuple{"epoch", 0, &saved.progress.epoch},
        std::tuple{"epoch_step", 0, &saved.progress.epochStep},
        std::tuple{"global_step", 0, &saved.progress.globalStep},
        std::tuple{"batch", 1, &saved.run.batch},
        std::tuple{"epochs", 1, &saved.run.epochs},
        std::tuple{"threads", 1, &threads},
        std::tuple{"ranks", 1, &saved.run.ranks}})
    if (llvm::Error err = integer(key, least, *slot))
      return err;
  auto seedText = text("seed");
  if (!seedText)
    return seedText.takeError();
  uint64_t seedValue = 0;
  if (llvm::StringRef(*seedText).getAsInteger(10, seedValue))
    return makeError(path + ": the checkpoint's metadata 'seed' is '" +
                     *seedText + "', expected an unsigned integer");
  saved.run.seed = seedValue;
  saved.run.threads = unsigned(threads);
  auto shuffleText = text("shuffle");
  if (!shuffleText)
    return shuffleText.takeError();
  if (*shuffleText != "true" && *shuffleText != "false")
    return makeError(path + ": the checkpoint's metadata 'shuffle' is '" +
                     *shuffleText + "', expected true or false");
  saved.run.shuffle = *shuffleText == "true";
  for (auto [key, slot] : {std::pair{"data", &saved.run.data},
                           std::pair{"model_hash", &saved.run.model},
                           std::pair{"optimizer", &saved.run.optimizer},
                           std::pair{"nnc_version", &saved.version}}) {
    auto s = text(key);
    if (!s)
      return s.takeError();
    *slot = *s;
  }
  auto sums = text("epoch_sums");
  if (!sums)
    return sums.takeError();
  auto parsed = parseDoubles(*sums);
  if (!parsed)
    return makeError(path + ": the checkpoint's metadata 'epoch_sums' is "
                            "not a list of numbers");
  saved.progress.epochSums = std::move(*parsed);
  if (auto it = metadata.find("best"); it != metadata.end()) {
    auto best = parseDoubles(it->second);
    if (!best || best->size() != 1)
      return makeError(path + ": the checkpoint's metadata 'best' is '" +
                       it->second + "', expected a number");
    saved.progress.best = (*best)[0];
    if (llvm::Error err =
            integer("epochs_since_best", 0, saved.progress.epochsSinceBest))
      return err;
  }
  return saved;
}

llvm::Error checkResumable(const SavedRun &saved, const RunIdentity &now,
                           llvm::StringRef path, llvm::raw_ostream &log) {
  auto differs = [&](llvm::StringRef what, const llvm::Twine &then,
                     const llvm::Twine &nowText, llvm::StringRef hint) {
    return makeError(path + ": cannot resume: the checkpoint was written " +
                     "with " + what + " " + then + ", this run has " + nowText +
                     hint);
  };
  if (saved.run.model != now.model)
    return differs("model hash", saved.run.model, now.model,
                   " (another model, or other layer sizes; --load-weights "
                   "starts a new run from weights that fit)");
  if (saved.run.optimizer != now.optimizer)
    return differs("the optimizer", saved.run.optimizer, now.optimizer,
                   " (--load-weights starts the new optimizer afresh)");
  if (saved.run.data != now.data)
    return differs("the data", "'" + saved.run.data + "'", "'" + now.data + "'",
                   "");
  if (saved.run.batch != now.batch)
    return differs("batch", llvm::Twine(saved.run.batch),
                   llvm::Twine(now.batch),
                   ": the epoch's batches would not line up (--batch)");
  if (saved.run.seed != now.seed)
    return differs("seed", llvm::Twine(saved.run.seed), llvm::Twine(now.seed),
                   ": the epoch's order would change (drop --seed)");
  if (saved.run.shuffle != now.shuffle)
    return differs("shuffling", saved.run.shuffle ? "on" : "off",
                   now.shuffle ? "on" : "off", "");
  // The line is formatted first and written at once, so that what other
  // processes of a job write cannot split it.
  auto warn = [&](const llvm::Twine &msg) {
    std::string line;
    llvm::raw_string_ostream os(line);
    os.enable_colors(log.has_colors());
    llvm::WithColor::warning(os, "nnc") << path << ": " << msg << "\n";
    os.flush();
    log << line;
  };
  if (saved.run.threads != now.threads)
    warn(llvm::formatv("written by a run on {0} threads, resumed on {1}: "
                       "sums split over threads add in another order, so "
                       "the result may differ in the last bits from the run "
                       "that was not stopped",
                       saved.run.threads, now.threads));
  if (saved.run.ranks != now.ranks)
    warn(llvm::formatv("written by a job of {0} ranks, resumed by {1}: the "
                       "gradients add in another order, so the result may "
                       "differ in the last bits",
                       saved.run.ranks, now.ranks));
  if (saved.version != nncVersion())
    warn("written by nnc " + saved.version + ", resumed by nnc " +
         nncVersion());
  return llvm::Error::success();
}

} // namespace nnc
