//===- Gzip.cpp - Decompressing gzip data in memory -----------------------===//
#include "runtime/Gzip.h"

#include "llvm/Support/FormatVariadic.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace nnc {

bool isGzip(llvm::ArrayRef<uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

namespace {
llvm::Error fileError(llvm::StringRef name, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + msg);
}
} // namespace

struct GzipStream::State {
  z_stream stream{};
};

GzipStream::GzipStream(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name)
    : input(bytes), name(name) {}

GzipStream::~GzipStream() {
  if (state)
    inflateEnd(&state->stream);
}

llvm::Expected<std::unique_ptr<GzipStream>>
GzipStream::open(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name) {
  std::unique_ptr<GzipStream> gz(new GzipStream(bytes, name));
  auto state = std::make_unique<State>();
  // 16 + MAX_WBITS: accept the gzip wrapper only.
  if (inflateInit2(&state->stream, 16 + MAX_WBITS) != Z_OK)
    return fileError(name, "cannot start gzip decompression");
  gz->state = std::move(state);
  return gz;
}

/// zlib counts input in 32-bit unsigned; feed larger files in pieces.
void GzipStream::refill() {
  z_stream &stream = state->stream;
  if (stream.avail_in != 0 || consumed == input.size())
    return;
  size_t k = std::min<size_t>(input.size() - consumed, UINT_MAX);
  stream.next_in = const_cast<Bytef *>(input.data() + consumed);
  stream.avail_in = unsigned(k);
  consumed += k;
}

llvm::Expected<size_t> GzipStream::read(uint8_t *dst, size_t n) {
  z_stream &stream = state->stream;
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
      return fileError(name, llvm::Twine("corrupt gzip data: ") +
                                 (stream.msg ? stream.msg : "inflate failed"));
    }
  }
  return produced;
}

llvm::Expected<std::vector<uint8_t>>
decompressGzip(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name,
               uint64_t maxBytes) {
  auto gz = GzipStream::open(bytes, name);
  if (!gz)
    return gz.takeError();
  std::vector<uint8_t> out;
  for (;;) {
    size_t old = out.size();
    size_t want = size_t(1) << 20;
    out.resize(old + want);
    auto got = (*gz)->read(out.data() + old, want);
    if (!got)
      return got.takeError();
    out.resize(old + *got);
    if (out.size() > maxBytes)
      return fileError(name, llvm::formatv("more than the {0} bytes of "
                                           "decompressed data nnc reads",
                                           maxBytes));
    if (*got < want)
      return out;
  }
}

} // namespace nnc
