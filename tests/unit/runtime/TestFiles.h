//===- TestFiles.h - Scratch directories and file builders for tests ------===//
//
// The runtime tests write real files: IDX files encoded here independently of
// the reader, gzip-compressed with zlib, in a scratch directory that is
// removed afterwards.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TESTS_UNIT_RUNTIME_TESTFILES_H
#define NNC_TESTS_UNIT_RUNTIME_TESTFILES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace nnc::test {

using Bytes = std::vector<uint8_t>;

/// A directory for one test's files, removed with everything in it.
class ScratchDir {
public:
  ScratchDir() {
    llvm::SmallString<256> p;
    std::error_code ec =
        llvm::sys::fs::createUniqueDirectory("nnc-runtime-test", p);
    EXPECT_FALSE(ec) << ec.message();
    dir = p.str().str();
  }
  ~ScratchDir() { llvm::sys::fs::remove_directories(dir); }
  ScratchDir(const ScratchDir &) = delete;
  ScratchDir &operator=(const ScratchDir &) = delete;

  const std::string &path() const { return dir; }
  std::string path(llvm::StringRef name) const {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
  /// The names of the entries in the directory, sorted.
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string dir;
};

inline void writeFile(const std::string &path, llvm::ArrayRef<uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            std::streamsize(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline Bytes readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

/// An unsigned-byte IDX file: 0 0 0x08 rank, big-endian dims, data.
inline Bytes encodeIdx(llvm::ArrayRef<uint32_t> dims,
                       llvm::ArrayRef<uint8_t> data) {
  Bytes out = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(uint8_t(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// `bytes` as one gzip member, as gzip(1) writes it.
inline Bytes gzipBytes(llvm::ArrayRef<uint8_t> bytes) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  Bytes out(deflateBound(&zs, uLong(bytes.size())) + 32);
  zs.next_in = const_cast<Bytef *>(bytes.data());
  zs.avail_in = uInt(bytes.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

} // namespace nnc::test

#endif // NNC_TESTS_UNIT_RUNTIME_TESTFILES_H
