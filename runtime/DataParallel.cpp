//===- DataParallel.cpp - How the ranks of a job start and end together ---===//
#include "runtime/DataParallel.h"

#include "ir/Printer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

namespace nnc {

namespace {
uint64_t hashBytes(llvm::ArrayRef<uint8_t> bytes) {
  return llvm::xxh3_64bits(bytes);
}
uint64_t hashText(llvm::StringRef text) {
  return hashBytes(llvm::arrayRefFromStringRef(text));
}

/// A hash of the features (or the targets) of a split's examples as the
/// steps read them, a chunk of examples at a time.
uint64_t hashExamples(const Dataset &data, Split split, bool targets) {
  const int64_t chunk = 1024, count = data.size(split);
  int64_t width =
      targets ? data.targetType().numElements() : data.featuresPerExample();
  std::vector<float> rows(size_t(chunk * width)); // i32 targets are 4 bytes too
  std::vector<int64_t> indices;
  std::vector<uint64_t> parts;
  for (int64_t begin = 0; begin < count; begin += chunk) {
    int64_t n = std::min(chunk, count - begin);
    indices.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i)
      indices[size_t(i)] = begin + i;
    if (targets)
      data.fillTargets(split, indices, rows.data());
    else
      data.fillFeatures(split, indices, rows.data(), 0, width);
    parts.push_back(
        hashBytes(llvm::ArrayRef(reinterpret_cast<const uint8_t *>(rows.data()),
                                 size_t(n * width) * 4)));
  }
  return hashBytes(
      llvm::ArrayRef(reinterpret_cast<const uint8_t *>(parts.data()),
                     parts.size() * sizeof(uint64_t)));
}
} // namespace

uint64_t hashState(const ModelState &state) {
  std::vector<uint64_t> parts;
  for (const StateLayout::Entry &e : state.layout().entries())
    parts.push_back(hashBytes(llvm::ArrayRef(
        static_cast<const uint8_t *>(state.data(e)), e.type.byteSize())));
  return hashBytes(
      llvm::ArrayRef(reinterpret_cast<const uint8_t *>(parts.data()),
                     parts.size() * sizeof(uint64_t)));
}

std::vector<Fingerprint> fingerprintsOf(const StartingPoint &start) {
  std::vector<Fingerprint> out;
  std::string module;
  llvm::raw_string_ostream os(module);
  printModule(os, *start.module);
  out.push_back(
      {"the compiled training and evaluation steps", "", hashText(module)});
  out.push_back(
      {"the training options", start.options, hashText(start.options)});
  // As many fingerprints on every rank, data or not.
  std::string name = start.data ? start.data->name().str() : "no data";
  for (Split split : {Split::Train, Split::Test}) {
    std::string part = (splitName(split) + " ").str();
    out.push_back({"the " + part + "features", name,
                   start.data ? hashExamples(*start.data, split, false) : 0});
    out.push_back({"the " + part + "labels", name,
                   start.data ? hashExamples(*start.data, split, true) : 0});
  }
  out.push_back(
      {"the starting weights", start.stateOrigin, hashState(*start.state)});
  return out;
}

llvm::Error startTogether(Communicator &comm, const StartingPoint &start,
                          ModelState &state) {
  if (llvm::Error err = checkSameOnEveryRank(comm, fingerprintsOf(start)))
    return err;
  return comm.broadcast(
      llvm::MutableArrayRef(state.data(), size_t(state.layout().byteSize())));
}

llvm::Expected<std::vector<uint64_t>>
weightsOfEveryRank(Communicator &comm, const ModelState &state) {
  uint64_t mine = hashState(state);
  return comm.gather(mine);
}

} // namespace nnc
