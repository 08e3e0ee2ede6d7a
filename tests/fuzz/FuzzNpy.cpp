//===- FuzzNpy.cpp - libFuzzer target: NumPy .npy and .npz files ----------===//
//
// Feeds arbitrary bytes to the .npy reader, and, when they start like a zip
// archive, to the .npz reader. A malformed file must give an error, never a
// crash, undefined behaviour or an allocation beyond what the file holds;
// an accepted array must hold exactly the bytes its shape and dtype say,
// and every element must convert.
//
//===----------------------------------------------------------------------===//
#include "runtime/NpyFile.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cstdint>

using namespace nnc;

namespace {

void checkArray(const NpyArray &a) {
  uint64_t elements = 1;
  for (int64_t d : a.shape) {
    if (d < 0)
      fuzz::finding("accepted a negative dimension", "");
    elements *= uint64_t(d);
  }
  if (a.shape.size() > kMaxNpyRank || elements * a.itemSize != a.data.size())
    fuzz::finding("accepted data that does not match its shape",
                  std::to_string(a.data.size()) + " bytes for " +
                      a.dtypeName() + " of shape " + a.shapeString());
  for (int64_t i = 0; i < a.numElements(); ++i)
    (void)a.element(i);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::ArrayRef<uint8_t> bytes(data, size);
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    auto archive = parseNpz(bytes, "fuzz.npz");
    if (!archive) {
      llvm::consumeError(archive.takeError());
      return 0;
    }
    for (const auto &[name, array] : *archive)
      checkArray(array);
    return 0;
  }
  auto array = parseNpy(bytes, "fuzz.npy");
  if (!array) {
    llvm::consumeError(array.takeError());
    return 0;
  }
  checkArray(*array);
  return 0;
}
