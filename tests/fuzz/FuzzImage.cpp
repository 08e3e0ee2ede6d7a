//===- FuzzImage.cpp - libFuzzer target: images for --predict -------------===//
//
// Feeds arbitrary bytes to the image decoder (PNG through libpng, PGM read
// by nnc), what `nnc --predict FILE` reads. A malformed file must give an
// error, never a crash, undefined behaviour or an allocation beyond
// kMaxImagePixels; an accepted image must hold exactly width x height
// pixels.
//
//===----------------------------------------------------------------------===//
#include "runtime/ImageFile.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cstdint>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto image = decodeImage(llvm::ArrayRef(data, size), "fuzz.img");
  if (!image) {
    std::string message = llvm::toString(image.takeError());
    if (message.rfind("fuzz.img: ", 0) != 0)
      fuzz::finding("an error that does not name the file", message);
    return 0;
  }
  if (image->width <= 0 || image->height <= 0 ||
      image->width > kMaxImagePixels / image->height ||
      int64_t(image->pixels.size()) != image->width * image->height)
    fuzz::finding("accepted an image whose pixels do not match its size",
                  std::to_string(image->pixels.size()) + " pixels for " +
                      std::to_string(image->width) + "x" +
                      std::to_string(image->height));
  return 0;
}
