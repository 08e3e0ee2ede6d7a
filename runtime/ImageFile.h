//===- ImageFile.h - Reading one image to predict on ------------*- C++ -*-===//
//
// `nnc model.nn --predict digit.png` reads one image: PNG through libpng
// (its simplified API, which converts any PNG to 8-bit grayscale and
// reports every malformed file in its own words), or PGM, binary (P5) or
// plain (P2), whose few header fields are read here. The format is
// recognised by the file's first bytes, whatever it is called.
//
// Errors name the file and what is wrong with it; nothing a file holds
// makes the reader crash or allocate more than kMaxImagePixels bytes.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_IMAGEFILE_H
#define NNC_RUNTIME_IMAGEFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

/// An 8-bit grayscale image, row-major.
struct GrayImage {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels;
  /// What was done to make it 8-bit gray ("converted from RGB to
  /// grayscale"), for the user to hear about; empty when nothing was.
  std::string conversion;
};

/// The most pixels an image may have (64 Mi): larger ones are refused
/// before their pixels are allocated.
constexpr int64_t kMaxImagePixels = int64_t(1) << 26;

/// Whether this build reads PNG files (it was built with libpng).
bool canReadPng();

/// Whether `bytes` start like an image file the reader knows (PNG, PGM).
bool looksLikeImage(llvm::ArrayRef<uint8_t> bytes);

/// Decodes the PNG or PGM image in `bytes`, which came from `name` (which
/// only labels the errors). Errors start with `name: `.
llvm::Expected<GrayImage> decodeImage(llvm::ArrayRef<uint8_t> bytes,
                                      llvm::StringRef name);

/// Reads and decodes the image file at `path`.
llvm::Expected<GrayImage> readImageFile(llvm::StringRef path);

} // namespace nnc

#endif
