//===- FuzzCheckpoint.cpp - libFuzzer target: safetensors checkpoints -----===//
//
// Feeds arbitrary bytes to the checkpoint reader (what `nnc --load` reads).
// A malformed file must give an error, never a crash or undefined
// behaviour; a header the reader accepts must describe tensors that lie
// inside the file, tile its data section and have as many bytes as their
// dtype and shape say.
//
//===----------------------------------------------------------------------===//
#include "runtime/Checkpoint.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cstdint>

using namespace nnc;

namespace {

[[noreturn]] void badTensor(const char *what, llvm::StringRef tensor,
                            uint64_t begin, uint64_t end) {
  fuzz::finding(what, "tensor '" + tensor.str() + "' [" +
                          std::to_string(begin) + ", " + std::to_string(end) +
                          ")");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto index = parseCheckpoint(llvm::ArrayRef(data, size), "fuzz.safetensors");
  if (!index) {
    llvm::consumeError(index.takeError());
    return 0;
  }
  uint64_t dataBytes = size - index->dataStart;
  uint64_t covered = 0;
  for (const CheckpointEntry &e : index->tensors) {
    if (e.begin > e.end || e.end > dataBytes)
      badTensor("accepted a tensor outside the file", e.name, e.begin, e.end);
    covered += e.end - e.begin;
    if (!e.element)
      continue;
    uint64_t elements = 1;
    for (int64_t d : e.shape)
      elements *= uint64_t(d);
    if (elements * elementByteSize(*e.element) != e.end - e.begin)
      badTensor("accepted a tensor whose bytes do not match its shape", e.name,
                e.begin, e.end);
  }
  if (covered != dataBytes)
    badTensor("accepted tensors that do not tile the data section", "(all)",
              covered, dataBytes);
  return 0;
}
