//===- IdxFile.cpp - Reading IDX files, plain or gzip-compressed ----------===//
#include "runtime/IdxFile.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace nnc {

int64_t IdxArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

bool isGzip(llvm::ArrayRef<uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
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

/// Inflates a gzip file, possibly of several concatenated members as gzip(1)
/// writes them. zlib checks each member's CRC when the member ends, so the
/// parser drains the stream even when it has all the data it wants.
class GzipSource final : public ByteSource {
public:
  GzipSource(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name)
      : input(bytes), name(name) {}
  ~GzipSource() override {
    if (initialised)
      inflateEnd(&stream);
  }

  llvm::Error init() {
    // 16 + MAX_WBITS: accept the gzip wrapper only.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
      return fileError(name, "cannot start gzip decompression");
    initialised = true;
    return llvm::Error::success();
  }

  llvm::Expected<size_t> read(uint8_t *dst, size_t n) override {
    size_t produced = 0;
    while (produced < n && !finished) {
      refill();
      size_t want = std::min<size_t>(n - produced, UINT_MAX);
      stream.next_out = dst + produced;
      stream.avail_out = unsigned(want);
      int rc = inflate(&stream, Z_NO_FLUSH);
      produced += want - stream.avail_out;
      switch (rc) {
      case Z_OK:
        break;
      case Z_STREAM_END: {
        size_t left = stream.avail_in + (input.size() - consumed);
        if (left == 0) {
          finished = true;
          break;
        }
        refill();
        if (!isGzip(llvm::ArrayRef<uint8_t>(stream.next_in, stream.avail_in)))
          return fileError(name, llvm::formatv("trailing garbage: {0} bytes "
                                               "after the gzip data",
                                               left));
        inflateReset(&stream);
        break;
      }
      case Z_BUF_ERROR:
        // No progress was possible: with output space left, input ran out.
        if (stream.avail_in == 0 && consumed == input.size())
          return fileError(name, "truncated gzip data: the compressed stream "
                                 "ends before its end marker");
        // With input and output space both left, no progress means the
        // stream is broken; stop rather than spin.
        if (stream.avail_in != 0)
          return fileError(name, "corrupt gzip data: decompression stalled");
        break;
      case Z_MEM_ERROR:
        return fileError(name, "out of memory while decompressing");
      default:
        return fileError(name,
                         llvm::Twine("corrupt gzip data: ") +
                             (stream.msg ? stream.msg : "inflate failed"));
      }
    }
    return produced;
  }
  llvm::StringRef kind() const override { return "decompressed file"; }

private:
  /// zlib counts input in 32-bit unsigned; feed larger files in pieces.
  void refill() {
    if (stream.avail_in != 0 || consumed == input.size())
      return;
    size_t k = std::min<size_t>(input.size() - consumed, UINT_MAX);
    stream.next_in = const_cast<Bytef *>(input.data() + consumed);
    stream.avail_in = unsigned(k);
    consumed += k;
  }

  llvm::ArrayRef<uint8_t> input;
  llvm::StringRef name;
  z_stream stream{};
  size_t consumed = 0;
  bool initialised = false;
  bool finished = false;
};

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
  if (head[2] != 0x08) {
    llvm::StringRef known = idxTypeName(head[2]);
    return fileError(
        name, llvm::formatv("unsupported IDX element type 0x{0:x-2}{1}: nnc "
                            "reads only unsigned-byte IDX files (type 0x08)",
                            head[2],
                            known.empty() ? std::string(" (unknown)")
                                          : " (" + known.str() + ")"));
  }
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
  uint64_t total = 1;
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
    auto gz = std::make_unique<GzipSource>(bytes, name);
    if (llvm::Error e = gz->init())
      return e;
    return parseFrom(*gz, name);
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
