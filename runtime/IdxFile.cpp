//===- IdxFile.cpp - Reading IDX files, plain or gzip-compressed ----------===//
#include "runtime/IdxFile.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/Gzip.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

namespace nnc {

int64_t IdxArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

bool IdxArray::isInteger() const { return type != 0x0D && type != 0x0E; }

double IdxArray::element(int64_t i) const {
  unsigned size = idxElementSize(type);
  const uint8_t *p = data.data() + i * size;
  uint64_t bits = 0; // big-endian, as IDX stores every multi-byte type
  for (unsigned k = 0; k < size; ++k)
    bits = bits << 8 | p[k];
  switch (type) {
  case 0x08:
    return double(uint8_t(bits));
  case 0x09:
    return double(int8_t(uint8_t(bits)));
  case 0x0B:
    return double(int16_t(uint16_t(bits)));
  case 0x0C:
    return double(int32_t(uint32_t(bits)));
  case 0x0D: {
    uint32_t word = uint32_t(bits);
    float f;
    std::memcpy(&f, &word, 4);
    return f;
  }
  case 0x0E: {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
  return 0;
}

namespace {

llvm::Error fileError(llvm::StringRef name, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + msg);
}

/// Where the bytes of an IDX file come from: the file itself or a gzip
/// stream over it. Reading in pieces lets the parser check the header before
/// it allocates what the header promises.
class ByteSource {
public:
  virtual ~ByteSource() = default;
  /// Reads up to `n` bytes into `dst`; fewer only at the end of the data.
  virtual llvm::Expected<size_t> read(uint8_t *dst, size_t n) = 0;
  /// How the data is described in "file has N" messages.
  virtual llvm::StringRef kind() const = 0;
};

class PlainSource final : public ByteSource {
public:
  explicit PlainSource(llvm::ArrayRef<uint8_t> bytes) : rest(bytes) {}
  llvm::Expected<size_t> read(uint8_t *dst, size_t n) override {
    size_t k = std::min(n, rest.size());
    std::copy_n(rest.begin(), k, dst);
    rest = rest.drop_front(k);
    return k;
  }
  llvm::StringRef kind() const override { return "file"; }

private:
  llvm::ArrayRef<uint8_t> rest;
};

/// Inflates a gzip file through GzipStream.
class GzipSource final : public ByteSource {
public:
  explicit GzipSource(std::unique_ptr<GzipStream> stream)
      : stream(std::move(stream)) {}
  llvm::Expected<size_t> read(uint8_t *dst, size_t n) override {
    return stream->read(dst, n);
  }
  llvm::StringRef kind() const override { return "decompressed file"; }

private:
  std::unique_ptr<GzipStream> stream;
};

} // namespace

unsigned idxElementSize(uint8_t code) {
  switch (code) {
  case 0x08:
  case 0x09:
    return 1;
  case 0x0B:
    return 2;
  case 0x0C:
  case 0x0D:
    return 4;
  case 0x0E:
    return 8;
  }
  return 0;
}

llvm::StringRef idxTypeName(uint8_t code) {
  switch (code) {
  case 0x08:
    return "unsigned byte";
  case 0x09:
    return "signed byte";
  case 0x0B:
    return "16-bit integer";
  case 0x0C:
    return "32-bit integer";
  case 0x0D:
    return "32-bit float";
  case 0x0E:
    return "64-bit float";
  }
  return "";
}

namespace {

std::string dimsStr(llvm::ArrayRef<int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// Reads everything left in `src` without keeping it; returns how much.
llvm::Expected<uint64_t> drain(ByteSource &src) {
  uint8_t scratch[1 << 16];
  uint64_t total = 0;
  for (;;) {
    auto got = src.read(scratch, sizeof(scratch));
    if (!got)
      return got.takeError();
    total += *got;
    if (*got < sizeof(scratch))
      return total;
  }
}

llvm::Expected<IdxArray> parseFrom(ByteSource &src, llvm::StringRef name) {
  uint8_t head[4];
  auto got = src.read(head, 4);
  if (!got)
    return got.takeError();
  if (*got < 4)
    return fileError(name, llvm::formatv("truncated: an IDX file starts with "
                                         "a 4-byte header, the {0} has {1} "
                                         "bytes",
                                         src.kind(), *got));
  if (head[0] != 0 || head[1] != 0)
    return fileError(name, llvm::formatv("not an IDX file: it starts with "
                                         "0x{0:x-2} 0x{1:x-2}, IDX files start "
                                         "with 0x00 0x00",
                                         head[0], head[1]));
  if (idxElementSize(head[2]) == 0)
    return fileError(
        name, llvm::formatv("unsupported IDX element type 0x{0:x-2} "
                            "(unknown): IDX types are 0x08 (unsigned "
                            "byte), 0x09 (signed byte), 0x0b (16-bit "
                            "integer), 0x0c (32-bit integer), 0x0d (32-bit "
                            "float) and 0x0e (64-bit float)",
                            head[2]));
  unsigned rank = head[3];
  if (rank == 0)
    return fileError(name, "rank 0: an IDX file needs at least one dimension");
  if (rank > kMaxIdxRank)
    return fileError(name, llvm::formatv("rank {0} is more than the {1} "
                                         "dimensions nnc accepts",
                                         rank, kMaxIdxRank));

  uint8_t dimBytes[4 * kMaxIdxRank];
  got = src.read(dimBytes, 4 * rank);
  if (!got)
    return got.takeError();
  if (*got < 4 * rank)
    return fileError(name,
                     llvm::formatv("truncated: the header of a rank-{0} "
                                   "IDX file has {1} bytes, the {2} has "
                                   "{3}",
                                   rank, 4 + 4 * rank, src.kind(), 4 + *got));
  IdxArray result;
  result.type = head[2];
  unsigned elementSize = idxElementSize(head[2]);
  uint64_t total = elementSize;
  for (unsigned i = 0; i < rank; ++i) {
    const uint8_t *p = dimBytes + 4 * i;
    uint32_t d = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 |
                 uint32_t(p[2]) << 8 | uint32_t(p[3]);
    result.dims.push_back(d);
  }
  for (unsigned i = 0; i < rank; ++i) {
    if (result.dims[i] == 0)
      return fileError(name, llvm::formatv("dimension {0} of {1} is zero", i,
                                           dimsStr(result.dims)));
    // Both factors are below 2^33 here, so the product cannot wrap.
    total *= uint64_t(result.dims[i]);
    if (total > kMaxIdxDataBytes)
      return fileError(name,
                       llvm::formatv("implausible dimensions {0}: more than "
                                     "the {1} bytes of data nnc accepts",
                                     dimsStr(result.dims), kMaxIdxDataBytes));
  }

  // The buffer grows with the data actually present, so that a lying header
  // in a small compressed file costs no more than the file holds. That the
  // whole would fit is checked first, so that a data set too large for the
  // process's memory is an error saying so rather than a failure of `new`
  // part way (the trial allocation is address space only: nothing touches
  // it).
  if (void *trial = std::malloc(total))
    std::free(trial);
  else
    return fileError(name, "cannot allocate " + formatByteSize(total) +
                               " for its data: out of memory");
  std::vector<uint8_t> &data = result.data;
  data.reserve(std::min<uint64_t>(total, uint64_t(64) << 20));
  while (data.size() < total) {
    size_t old = data.size();
    size_t want = std::min<uint64_t>(total - old, size_t(1) << 22);
    data.resize(old + want);
    auto n = src.read(data.data() + old, want);
    if (!n)
      return n.takeError();
    data.resize(old + *n);
    if (*n < want)
      break;
  }
  auto rest = drain(src);
  if (!rest)
    return rest.takeError();
  if (data.size() < total)
    return fileError(name, llvm::formatv("truncated: header promises {0} bytes "
                                         "of data, {1} has {2}",
                                         total, src.kind(), data.size()));
  if (*rest != 0)
    return fileError(name, llvm::formatv("trailing garbage: header promises "
                                         "{0} bytes of data, {1} has {2}",
                                         total, src.kind(), total + *rest));
  return result;
}

} // namespace

llvm::Expected<IdxArray> parseIdx(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name) {
  if (isGzip(bytes)) {
    auto stream = GzipStream::open(bytes, name);
    if (!stream)
      return stream.takeError();
    GzipSource gz(std::move(*stream));
    return parseFrom(gz, name);
  }
  PlainSource plain(bytes);
  return parseFrom(plain, name);
}

llvm::Expected<IdxArray> readIdxFile(llvm::StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return fileError(path,
                     "cannot read: " + llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
      (*buffer)->getBufferSize());
  return parseIdx(bytes, path);
}

} // namespace nnc
