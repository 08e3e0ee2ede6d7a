//===- MnistData.cpp - MNIST IDX files for the reference trainers ---------===//
//
// IDX is big-endian: a magic number whose low byte is the rank (0x0803 for
// images, 0x0801 for labels), one 32-bit size per dimension, then the bytes.
//
//===----------------------------------------------------------------------===//
#include "bench/reference/MnistData.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace nnc::bench {

namespace {

uint32_t readBigEndian32(const unsigned char *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
         (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

/// Opens an IDX file of the given rank and returns its dimensions and the
/// buffer; the data starts after the header.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
openIdx(const std::string &path, unsigned rank, std::vector<size_t> &dims) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: cannot read: %s",
                                   path.c_str(),
                                   buffer.getError().message().c_str());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  size_t headerSize = 4 + 4 * size_t(rank);
  if (bytes.size() < headerSize)
    return llvm::createStringError(std::errc::invalid_argument,
                                   "%s: truncated IDX header", path.c_str());
  auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  uint32_t magic = readBigEndian32(p);
  if (magic != (0x0800u | rank))
    return llvm::createStringError(
        std::errc::invalid_argument,
        "%s: not an uncompressed IDX file of unsigned bytes and rank %u "
        "(magic 0x%08x)",
        path.c_str(), rank, magic);
  dims.clear();
  size_t elements = 1;
  for (unsigned i = 0; i < rank; ++i) {
    dims.push_back(readBigEndian32(p + 4 + 4 * i));
    elements *= dims.back();
  }
  if (bytes.size() != headerSize + elements)
    return llvm::createStringError(
        std::errc::invalid_argument,
        "%s: header promises %zu bytes of data but the file holds %zu",
        path.c_str(), elements, bytes.size() - headerSize);
  return std::move(*buffer);
}

} // namespace

llvm::Expected<LabelledImages> loadMnistSplit(llvm::StringRef dir,
                                              llvm::StringRef prefix) {
  llvm::SmallString<256> imagesPath(dir), labelsPath(dir);
  llvm::sys::path::append(imagesPath, prefix + "-images-idx3-ubyte");
  llvm::sys::path::append(labelsPath, prefix + "-labels-idx1-ubyte");

  std::vector<size_t> imageDims, labelDims;
  auto images = openIdx(std::string(imagesPath), 3, imageDims);
  if (!images)
    return images.takeError();
  auto labels = openIdx(std::string(labelsPath), 1, labelDims);
  if (!labels)
    return labels.takeError();
  if (imageDims[0] != labelDims[0])
    return llvm::createStringError(
        std::errc::invalid_argument, "%s holds %zu images but %s %zu labels",
        imagesPath.c_str(), imageDims[0], labelsPath.c_str(), labelDims[0]);

  LabelledImages out;
  out.count = imageDims[0];
  out.pixelsPerImage = imageDims[1] * imageDims[2];
  auto *pixels =
      reinterpret_cast<const unsigned char *>((*images)->getBufferStart() + 16);
  out.pixels.resize(out.count * out.pixelsPerImage);
  for (size_t i = 0; i < out.pixels.size(); ++i)
    out.pixels[i] = float(pixels[i]) / 255.0f;
  auto *labelBytes =
      reinterpret_cast<const unsigned char *>((*labels)->getBufferStart() + 8);
  out.labels.resize(out.count);
  for (size_t i = 0; i < out.count; ++i) {
    if (labelBytes[i] > 9)
      return llvm::createStringError(std::errc::invalid_argument,
                                     "%s: label %u of item %zu is not a digit",
                                     labelsPath.c_str(), labelBytes[i], i);
    out.labels[i] = labelBytes[i];
  }
  return out;
}

} // namespace nnc::bench
