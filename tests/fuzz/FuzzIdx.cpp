//===- FuzzIdx.cpp - libFuzzer target: IDX data files ---------------------===//
//
// Feeds arbitrary bytes, plain or gzip-compressed, to the IDX reader (what
// every data set is read with). A malformed file must give an error, never
// a crash, undefined behaviour or an allocation beyond its header's bounded
// promise; an accepted file must hold exactly the elements its dimensions
// say.
//
//===----------------------------------------------------------------------===//
#include "runtime/IdxFile.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cstdint>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto array = parseIdx(llvm::ArrayRef(data, size), "fuzz.idx");
  if (!array) {
    llvm::consumeError(array.takeError());
    return 0;
  }
  uint64_t elements = 1;
  for (int64_t d : array->dims) {
    if (d < 0)
      fuzz::finding("accepted a negative dimension", "");
    elements *= uint64_t(d);
  }
  unsigned elementSize = idxElementSize(array->type);
  if (elementSize == 0)
    fuzz::finding("accepted an unknown element type",
                  std::to_string(array->type));
  if (array->dims.size() > kMaxIdxRank ||
      elements * elementSize != array->data.size())
    fuzz::finding("accepted data that does not match its dimensions",
                  std::to_string(array->data.size()) + " bytes for " +
                      std::to_string(elements) + " elements of " +
                      std::to_string(elementSize) + " bytes in rank " +
                      std::to_string(array->dims.size()));
  // Every element converts, and a float's conversion is exact.
  for (int64_t i = 0; i < array->numElements(); ++i)
    (void)array->element(i);
  return 0;
}
