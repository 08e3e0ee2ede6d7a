// IDX files round-trip plain and gzip-compressed; every malformed file gives
// an error naming the file and the fault, and no input crashes the reader.
#include "runtime/IdxFile.h"

#include "TestFiles.h"

#include "runtime/Dataset.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace nnc;
using namespace nnc::test;

namespace {

Bytes iotaBytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = uint8_t(i * 37 + 11);
  return b;
}

/// The error of reading `bytes` written to `dir`/`name`, or "ok".
std::string errorOf(const ScratchDir &dir, llvm::StringRef name,
                    llvm::ArrayRef<uint8_t> bytes) {
  std::string path = dir.path(name);
  writeFile(path, bytes);
  auto result = readIdxFile(path);
  if (result)
    return "ok";
  return llvm::toString(result.takeError());
}

} // namespace

TEST(IdxFile, PlainRoundTrip) {
  ScratchDir dir;
  Bytes data = iotaBytes(3 * 2 * 4);
  writeFile(dir.path("images"), encodeIdx({3, 2, 4}, data));
  auto idx = readIdxFile(dir.path("images"));
  ASSERT_TRUE(bool(idx)) << llvm::toString(idx.takeError());
  EXPECT_EQ(llvm::ArrayRef<int64_t>(idx->dims),
            llvm::ArrayRef<int64_t>({3, 2, 4}));
  EXPECT_EQ(idx->numElements(), 24);
  EXPECT_EQ(idx->data, data);
}

TEST(IdxFile, GzipRoundTripIsRecognisedByItsMagicBytes) {
  ScratchDir dir;
  Bytes data = iotaBytes(7 * 5);
  Bytes gz = gzipBytes(encodeIdx({7, 5}, data));
  ASSERT_TRUE(isGzip(gz));
  // With and without the suffix: the content decides.
  for (const char *name : {"labels.gz", "labels"}) {
    writeFile(dir.path(name), gz);
    auto idx = readIdxFile(dir.path(name));
    ASSERT_TRUE(bool(idx)) << name << ": " << llvm::toString(idx.takeError());
    EXPECT_EQ(llvm::ArrayRef<int64_t>(idx->dims),
              llvm::ArrayRef<int64_t>({7, 5}));
    EXPECT_EQ(idx->data, data);
  }
  // A plain file with a .gz suffix is still read as plain.
  writeFile(dir.path("plain.gz"), encodeIdx({7, 5}, data));
  auto plain = readIdxFile(dir.path("plain.gz"));
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  EXPECT_EQ(plain->data, data);
}

TEST(IdxFile, ReadsConcatenatedGzipMembers) {
  Bytes file = encodeIdx({100}, iotaBytes(100));
  Bytes first = gzipBytes(llvm::ArrayRef<uint8_t>(file).take_front(30));
  Bytes second = gzipBytes(llvm::ArrayRef<uint8_t>(file).drop_front(30));
  first.insert(first.end(), second.begin(), second.end());
  auto idx = parseIdx(first, "two-members.gz");
  ASSERT_TRUE(bool(idx)) << llvm::toString(idx.takeError());
  EXPECT_EQ(idx->data, iotaBytes(100));
}

TEST(IdxFile, TruncatedDataIsNamedWithBothSizes) {
  ScratchDir dir;
  Bytes file = encodeIdx({4, 6}, iotaBytes(24));
  file.resize(file.size() - 4);
  EXPECT_EQ(errorOf(dir, "train-images-idx3-ubyte", file),
            dir.path("train-images-idx3-ubyte") +
                ": truncated: header promises 24 bytes of data, file has 20");
  EXPECT_EQ(errorOf(dir, "t.gz", gzipBytes(file)),
            dir.path("t.gz") + ": truncated: header promises 24 bytes of "
                               "data, decompressed file has 20");
}

TEST(IdxFile, TruncatedHeaders) {
  ScratchDir dir;
  EXPECT_EQ(errorOf(dir, "empty", {}),
            dir.path("empty") + ": truncated: an IDX file starts with a "
                                "4-byte header, the file has 0 bytes");
  Bytes file = encodeIdx({60000, 28, 28}, {});
  file.resize(10);
  EXPECT_EQ(errorOf(dir, "short", file),
            dir.path("short") + ": truncated: the header of a rank-3 IDX "
                                "file has 16 bytes, the file has 10");
}

TEST(IdxFile, TrailingGarbage) {
  ScratchDir dir;
  Bytes file = encodeIdx({5}, iotaBytes(5));
  file.push_back(0);
  file.push_back(0);
  EXPECT_EQ(errorOf(dir, "labels", file),
            dir.path("labels") + ": trailing garbage: header promises 5 "
                                 "bytes of data, file has 7");
  EXPECT_EQ(errorOf(dir, "labels.gz", gzipBytes(file)),
            dir.path("labels.gz") + ": trailing garbage: header promises 5 "
                                    "bytes of data, decompressed file has 7");
  Bytes gz = gzipBytes(encodeIdx({5}, iotaBytes(5)));
  gz.push_back('x');
  EXPECT_EQ(errorOf(dir, "after.gz", gz),
            dir.path("after.gz") +
                ": trailing garbage: 1 bytes after the gzip data");
}

TEST(IdxFile, WrongMagicTypeRankAndDims) {
  ScratchDir dir;
  EXPECT_EQ(errorOf(dir, "zip", {'P', 'K', 3, 4, 0, 0, 0, 1, 7}),
            dir.path("zip") + ": not an IDX file: it starts with 0x50 0x4b, "
                              "IDX files start with 0x00 0x00");
  Bytes odd = encodeIdx({1}, {0, 0, 0, 0});
  odd[2] = 0x42;
  EXPECT_EQ(errorOf(dir, "odd", odd),
            dir.path("odd") + ": unsupported IDX element type 0x42 "
                              "(unknown): IDX types are 0x08 (unsigned "
                              "byte), 0x09 (signed byte), 0x0b (16-bit "
                              "integer), 0x0c (32-bit integer), 0x0d (32-bit "
                              "float) and 0x0e (64-bit float)");
  EXPECT_EQ(errorOf(dir, "rank0", {0, 0, 8, 0}),
            dir.path("rank0") +
                ": rank 0: an IDX file needs at least one dimension");
  EXPECT_EQ(errorOf(dir, "rank9", {0, 0, 8, 9}),
            dir.path("rank9") +
                ": rank 9 is more than the 8 dimensions nnc accepts");
  EXPECT_EQ(errorOf(dir, "zero", encodeIdx({3, 0, 2}, {})),
            dir.path("zero") + ": dimension 1 of [3, 0, 2] is zero");
  EXPECT_EQ(errorOf(dir, "huge", encodeIdx({65536, 65536, 2}, {})),
            dir.path("huge") + ": implausible dimensions [65536, 65536, 2]: "
                               "more than the 4294967296 bytes of data nnc "
                               "accepts");
}

TEST(IdxFile, CorruptGzipData) {
  ScratchDir dir;
  Bytes gz = gzipBytes(encodeIdx({64}, iotaBytes(64)));
  Bytes cut(gz.begin(), gz.end() - 12);
  std::string truncated = errorOf(dir, "cut.gz", cut);
  EXPECT_NE(truncated.find(dir.path("cut.gz") + ": truncated gzip data"),
            std::string::npos)
      << truncated;
  // The last 8 bytes are the CRC and length of the data: a changed CRC
  // is found only once the whole stream has been read.
  Bytes badCrc = gz;
  badCrc[badCrc.size() - 8] ^= 0xff;
  EXPECT_EQ(errorOf(dir, "crc.gz", badCrc),
            dir.path("crc.gz") + ": corrupt gzip data: incorrect data check");
}

TEST(IdxFile, MissingFileIsNamed) {
  ScratchDir dir;
  auto result = readIdxFile(dir.path("absent"));
  ASSERT_FALSE(bool(result));
  EXPECT_EQ(llvm::toString(result.takeError()),
            dir.path("absent") + ": cannot read: No such file or directory");
}

// Every truncation and thousands of random corruptions of a small valid file,
// plain and compressed: each read either succeeds with data matching its
// header or fails with an error naming the file.
TEST(IdxFile, FuzzedFilesSucceedOrFailCleanly) {
  Bytes plain = encodeIdx({3, 4, 5}, iotaBytes(60));
  Bytes gz = gzipBytes(plain);
  int successes = 0, failures = 0;
  auto check = [&](llvm::ArrayRef<uint8_t> bytes) {
    auto result = parseIdx(bytes, "fuzz");
    if (result) {
      ++successes;
      EXPECT_EQ(int64_t(result->data.size()), result->numElements());
      return;
    }
    ++failures;
    std::string msg = llvm::toString(result.takeError());
    EXPECT_EQ(msg.rfind("fuzz: ", 0), 0u) << msg;
  };
  for (const Bytes *file : {&plain, &gz})
    for (size_t n = 0; n < file->size(); ++n) {
      // Every proper prefix is missing data.
      auto result = parseIdx(llvm::ArrayRef<uint8_t>(*file).take_front(n), "f");
      EXPECT_FALSE(bool(result)) << "prefix of " << n << " bytes";
      if (!result)
        llvm::consumeError(result.takeError());
    }
  SplitMix64 rng(2024);
  for (int round = 0; round < 4000; ++round) {
    Bytes bytes = round % 2 ? gz : plain;
    int flips = 1 + int(rng.next() % 3);
    for (int f = 0; f < flips; ++f)
      bytes[rng.next() % bytes.size()] = uint8_t(rng.next());
    if (rng.next() % 4 == 0)
      bytes.resize(rng.next() % (bytes.size() + 1));
    check(bytes);
  }
  // Flips in the data bytes of a plain file leave it valid; flips in the
  // header of either usually do not. Both kinds must have happened.
  EXPECT_GT(successes, 100);
  EXPECT_GT(failures, 100);
}

// Every element type of the format reads back exactly, big-endian as IDX
// stores it: the bytes are written here by hand.
TEST(IdxFile, EveryElementType) {
  ScratchDir dir;
  struct Case {
    uint8_t type;
    Bytes elements; // two elements, big-endian
    double first, second;
  };
  const Case cases[] = {
      {0x08, {0xFF, 0x07}, 255, 7},
      {0x09, {0xFF, 0x07}, -1, 7},
      {0x0B, {0xFF, 0xFE, 0x01, 0x00}, -2, 256},
      {0x0C, {0xFF, 0xFF, 0xFF, 0xFD, 0x00, 0x01, 0x00, 0x00}, -3, 65536},
      // 1.5f = 0x3FC00000, -0.25f = 0xBE800000
      {0x0D, {0x3F, 0xC0, 0x00, 0x00, 0xBE, 0x80, 0x00, 0x00}, 1.5, -0.25},
      // 0.1 = 0x3FB999999999999A, -1e300 = 0xFE3E...
      {0x0E,
       {0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A, 0xFE, 0x37, 0xE4, 0x3C,
        0x88, 0x00, 0x75, 0x9C},
       0.1,
       -1e300},
  };
  for (const Case &c : cases) {
    Bytes file = {0, 0, c.type, 1, 0, 0, 0, 2};
    for (uint8_t byte : c.elements)
      file.push_back(byte);
    std::string path = dir.path("t" + std::to_string(c.type));
    writeFile(path, file);
    auto idx = readIdxFile(path);
    ASSERT_TRUE(bool(idx)) << llvm::toString(idx.takeError());
    EXPECT_EQ(idx->type, c.type);
    EXPECT_EQ(idx->numElements(), 2);
    EXPECT_EQ(idx->element(0), c.first) << int(c.type);
    EXPECT_EQ(idx->element(1), c.second) << int(c.type);
    EXPECT_EQ(idx->isInteger(), c.type < 0x0D);
    // One byte short is truncated, counted in bytes of the type.
    file.pop_back();
    EXPECT_EQ(errorOf(dir, "short", file),
              dir.path("short") + ": truncated: header promises " +
                  std::to_string(c.elements.size()) +
                  " bytes of data, file has " +
                  std::to_string(c.elements.size() - 1));
  }
}
