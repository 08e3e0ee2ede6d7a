//===- Safetensors.cpp - F32 tensors in safetensors files -----------------===//
//
// Layout: an 8-byte little-endian header length, a JSON object mapping each
// name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative
// to the end of the header), then the raw little-endian data.
//
//===----------------------------------------------------------------------===//
#include "bench/reference/Safetensors.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace nnc::bench {

static llvm::Error corrupt(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(std::errc::invalid_argument, "%s: %s",
                                 path.str().c_str(), what.str().c_str());
}

llvm::Expected<TensorMap> readSafetensors(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return corrupt(path, "cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() < 8)
    return corrupt(path, "too short for a safetensors header");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | uint8_t(bytes[i]);
  if (headerSize > bytes.size() - 8)
    return corrupt(path, "header length " + llvm::Twine(headerSize) +
                             " runs past the end of the file");
  auto header = llvm::json::parse(bytes.substr(8, headerSize));
  if (!header)
    return corrupt(path,
                   "header is not JSON: " + llvm::toString(header.takeError()));
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return corrupt(path, "header is not a JSON object");
  llvm::StringRef data = bytes.substr(8 + headerSize);

  TensorMap tensors;
  for (const auto &[key, value] : *entries) {
    llvm::StringRef name = key;
    if (name == "__metadata__")
      continue;
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return corrupt(path, "entry '" + name + "' is not an object");
    auto dtype = entry->getString("dtype");
    const llvm::json::Array *shape = entry->getArray("shape");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!dtype || !shape || !offsets || offsets->size() != 2)
      return corrupt(path,
                     "entry '" + name + "' lacks dtype, shape or data_offsets");
    if (*dtype != "F32")
      continue;
    NamedTensor tensor;
    uint64_t elements = 1;
    for (const llvm::json::Value &dim : *shape) {
      auto d = dim.getAsInteger();
      if (!d || *d < 0)
        return corrupt(path, "entry '" + name + "' has a bad shape");
      tensor.shape.push_back(*d);
      elements *= uint64_t(*d);
    }
    auto begin = (*offsets)[0].getAsInteger();
    auto end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin ||
        uint64_t(*end) > data.size())
      return corrupt(path, "entry '" + name +
                               "' has data_offsets outside "
                               "the file");
    if (uint64_t(*end - *begin) != elements * 4)
      return corrupt(path, "entry '" + name + "' holds " +
                               llvm::Twine(*end - *begin) + " bytes, not " +
                               llvm::Twine(elements * 4) + " for its shape");
    tensor.data.resize(elements);
    // The data is little-endian like the host (x86-64, the only target the
    // benchmark runs on).
    std::memcpy(tensor.data.data(), data.data() + *begin, elements * 4);
    tensors.emplace(name.str(), std::move(tensor));
  }
  return tensors;
}

llvm::Error writeSafetensors(llvm::StringRef path, const TensorMap &tensors) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    llvm::json::Array shape;
    for (int64_t d : tensor.shape)
      shape.push_back(d);
    uint64_t bytes = tensor.data.size() * 4;
    header[name] = llvm::json::Object{
        {"dtype", "F32"},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{offset, offset + bytes}}};
    offset += bytes;
  }
  std::string headerText;
  llvm::raw_string_ostream(headerText) << llvm::json::Value(std::move(header));
  // Pad with spaces so the data starts 8-byte aligned, as the format advises.
  headerText.append((8 - headerText.size() % 8) % 8, ' ');

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: cannot write: %s",
                                   path.str().c_str(), ec.message().c_str());
  uint64_t headerSize = headerText.size();
  for (int i = 0; i < 8; ++i)
    out << char((headerSize >> (8 * i)) & 0xff);
  out << headerText;
  for (const auto &[name, tensor] : tensors)
    out.write(reinterpret_cast<const char *>(tensor.data.data()),
              tensor.data.size() * 4);
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "%s: write failed",
                                   path.str().c_str());
  return llvm::Error::success();
}

} // namespace nnc::bench
