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

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto array = parseIdx(llvm::ArrayRef(data, size), "fuzz.idx");
  if (!array) {
    llvm::consumeError(array.takeError());
    return 0;
  }
  uint64_t elements = 1;
  for (int64_t d : array->dims) {
    if (d < 0) {
      std::fprintf(stderr, "fuzz-idx: accepted a negative dimension\n");
      std::abort();
    }
    elements *= uint64_t(d);
  }
  if (array->dims.size() > kMaxIdxRank || elements != array->data.size()) {
    std::fprintf(stderr, "fuzz-idx: accepted %zu bytes for %llu elements\n",
                 array->data.size(), (unsigned long long)elements);
    std::abort();
  }
  return 0;
}
