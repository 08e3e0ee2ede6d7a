// .npy files of every dtype, order and version read back; every malformed
// file is an error naming it and the fault; .npz archives (zip) of .npy
// members read by name. The files are encoded here by hand, independently
// of the reader.
#include "runtime/NpyFile.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace nnc;
using namespace nnc::test;

namespace {

/// A .npy file of version `major` with the given header dict and data.
Bytes npy(const std::string &dict, const Bytes &data, int major = 1) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  out.push_back(uint8_t(header.size()));
  out.push_back(uint8_t(header.size() >> 8));
  if (major != 1) {
    out.push_back(0);
    out.push_back(0);
  }
  for (char c : header)
    out.push_back(uint8_t(c));
  for (uint8_t b : data)
    out.push_back(b);
  return out;
}

template <typename T> Bytes bytesOf(std::initializer_list<T> values) {
  Bytes out;
  for (T v : values) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &v, sizeof(T));
    out.insert(out.end(), raw, raw + sizeof(T));
  }
  return out;
}

std::string errorOf(const Bytes &bytes) {
  auto a = parseNpy(bytes, "a.npy");
  if (a)
    return "ok";
  return llvm::toString(a.takeError());
}

std::vector<double> elements(const NpyArray &a) {
  std::vector<double> out;
  for (int64_t i = 0; i < a.numElements(); ++i)
    out.push_back(a.element(i));
  return out;
}

} // namespace

TEST(NpyFile, EveryDtype) {
  struct Case {
    std::string descr;
    Bytes data;
    std::vector<double> want;
    std::string name;
  };
  const Case cases[] = {
      {"<f4", bytesOf<float>({1.5f, -2.0f}), {1.5, -2.0}, "float32"},
      {"<f8", bytesOf<double>({0.1, 1e300}), {0.1, 1e300}, "float64"},
      {"|i1", bytesOf<int8_t>({-5, 7}), {-5, 7}, "int8"},
      {"<i2", bytesOf<int16_t>({-300, 300}), {-300, 300}, "int16"},
      {"<i4", bytesOf<int32_t>({-70000, 3}), {-70000, 3}, "int32"},
      {"<i8",
       bytesOf<int64_t>({-(int64_t(1) << 40), 9}),
       {-double(int64_t(1) << 40), 9},
       "int64"},
      {"|u1", bytesOf<uint8_t>({255, 0}), {255, 0}, "uint8"},
      {"<u2", bytesOf<uint16_t>({65535, 1}), {65535, 1}, "uint16"},
      {"<u4", bytesOf<uint32_t>({4000000000u, 2}), {4e9, 2}, "uint32"},
      {"<u8",
       bytesOf<uint64_t>({uint64_t(1) << 50, 2}),
       {double(uint64_t(1) << 50), 2},
       "uint64"},
      {"|b1", {1, 0}, {1, 0}, "bool"},
      // Big-endian: 1.5f is 3f c0 00 00.
      {">f4", {0x3F, 0xC0, 0, 0, 0xBF, 0x80, 0, 0}, {1.5, -1}, "float32"},
      {">i2", {0xFF, 0xFE, 0x01, 0x00}, {-2, 256}, "int16"},
  };
  for (const Case &c : cases) {
    auto a = parseNpy(npy("{'descr': '" + c.descr +
                              "', 'fortran_order': False, 'shape': (2,), }",
                          c.data),
                      "a.npy");
    ASSERT_TRUE(bool(a)) << c.descr << ": " << llvm::toString(a.takeError());
    EXPECT_EQ(a->shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(elements(*a), c.want) << c.descr;
    EXPECT_EQ(a->dtypeName(), c.name);
  }
}

TEST(NpyFile, ShapesOrdersAndVersions) {
  // Fortran order: the file holds column 0, then column 1.
  auto f = parseNpy(npy("{'descr': '<i4', 'fortran_order': True, "
                        "'shape': (2, 3), }",
                        bytesOf<int32_t>({1, 4, 2, 5, 3, 6})),
                    "f.npy");
  ASSERT_TRUE(bool(f)) << llvm::toString(f.takeError());
  EXPECT_EQ(elements(*f), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f->shapeString(), "(2, 3)");
  // Version 2.0, keys in another order, a scalar, an empty array.
  auto v2 = parseNpy(npy("{'shape': (), 'fortran_order': False, 'descr': "
                         "'<f8'}",
                         bytesOf<double>({3.25}), 2),
                     "v2.npy");
  ASSERT_TRUE(bool(v2)) << llvm::toString(v2.takeError());
  EXPECT_EQ(v2->numElements(), 1);
  EXPECT_EQ(v2->element(0), 3.25);
  auto empty = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (0, 4), }",
                            {}),
                        "e.npy");
  ASSERT_TRUE(bool(empty)) << llvm::toString(empty.takeError());
  EXPECT_EQ(empty->numElements(), 0);
}

TEST(NpyFile, MalformedFilesAreNamed) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': "
                         "(2,), }";
  EXPECT_EQ(errorOf({'P', 'K', 3, 4}),
            "a.npy: not a .npy file: it does not start with the magic bytes "
            "\\x93NUMPY");
  Bytes v9 = npy(ok, bytesOf<float>({1, 2}));
  v9[6] = 9;
  EXPECT_EQ(errorOf(v9), "a.npy: unsupported .npy version 9.0 (nnc reads "
                         "1.0, 2.0 and 3.0)");
  EXPECT_EQ(errorOf(npy(ok, bytesOf<float>({1}))),
            "a.npy: truncated: the header promises 8 bytes of data (float32 "
            "of shape (2,)), the file has 4");
  EXPECT_EQ(errorOf(npy(ok, bytesOf<float>({1, 2, 3}))),
            "a.npy: trailing garbage: the header promises 8 bytes of data, "
            "the file has 12");
  Bytes cut = npy(ok, {});
  cut.resize(30);
  EXPECT_EQ(errorOf(cut), "a.npy: truncated: the header promises 118 bytes, "
                          "the file has 20 after the prefix");
  EXPECT_EQ(errorOf(npy("{'descr': '|O', 'fortran_order': False, 'shape': "
                        "(1,), }",
                        bytesOf<uint64_t>({0}))),
            "a.npy: unsupported dtype '|O': an array of Python objects, a "
            "pickle nnc does not read");
  EXPECT_EQ(errorOf(npy("{'descr': [('a', '<f4')], 'fortran_order': False, "
                        "'shape': (1,), }",
                        bytesOf<float>({0}))),
            "a.npy: malformed .npy header: structured dtypes (a list of "
            "fields) are not supported: save each field as an array of its "
            "own");
  EXPECT_EQ(errorOf(npy("{'descr': '<f2', 'fortran_order': False, 'shape': "
                        "(1,), }",
                        {0, 0})),
            "a.npy: unsupported dtype '<f2': nnc reads bool, integers of 1, "
            "2, 4 and 8 bytes and floats of 4 and 8 bytes");
  EXPECT_EQ(
      errorOf(npy("{'descr': '<f4', 'shape': (1,), }", bytesOf<float>({0}))),
      "a.npy: malformed .npy header: the header has no "
      "'fortran_order'");
  EXPECT_EQ(errorOf(npy("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(-1,), }",
                        {})),
            "a.npy: malformed .npy header: a dimension of 'shape' is not a "
            "non-negative integer");
  EXPECT_EQ(errorOf(npy("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(100000, 100000, 100000), }",
                        {})),
            "a.npy: implausible shape (100000, 100000, 100000): more than "
            "the 4294967296 bytes of data nnc accepts");
}

TEST(NpyFile, WrittenFilesReadBack) {
  ScratchDir dir;
  float values[6] = {1, -2, 3.5f, 4, 5, 6e-3f};
  ASSERT_FALSE(
      bool(writeNpyFile(dir.path("w.npy"), ElementType::F32, {2, 3}, values)));
  auto a = readNpyFile(dir.path("w.npy"));
  ASSERT_TRUE(bool(a)) << llvm::toString(a.takeError());
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->dtypeName(), "float32");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(a->element(i), values[i]);
}

TEST(NpyFile, ArchivesAreReadByName) {
  if (!haveNpzSupport())
    GTEST_SKIP() << "nnc was built without libzip (scripts/bootstrap.sh "
                    "installs libzip-dev)";
  // A zip of two stored members, built by hand: local headers, central
  // directory, end record.
  auto le16 = [](Bytes &b, uint16_t v) {
    b.push_back(uint8_t(v));
    b.push_back(uint8_t(v >> 8));
  };
  auto le32 = [&](Bytes &b, uint32_t v) {
    le16(b, uint16_t(v));
    le16(b, uint16_t(v >> 16));
  };
  struct Member {
    std::string name;
    Bytes data;
    uint32_t offset = 0;
  };
  std::vector<Member> members = {
      {"x.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                    bytesOf<float>({1, 2}))},
      {"y.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                    bytesOf<int64_t>({0, 1}))}};
  Bytes zip;
  for (Member &m : members) {
    m.offset = uint32_t(zip.size());
    uint32_t crc = uint32_t(crc32(0, m.data.data(), uInt(m.data.size())));
    le32(zip, 0x04034b50);
    le16(zip, 20);
    le16(zip, 0);
    le16(zip, 0); // stored
    le16(zip, 0);
    le16(zip, 0);
    le32(zip, crc);
    le32(zip, uint32_t(m.data.size()));
    le32(zip, uint32_t(m.data.size()));
    le16(zip, uint16_t(m.name.size()));
    le16(zip, 0);
    zip.insert(zip.end(), m.name.begin(), m.name.end());
    zip.insert(zip.end(), m.data.begin(), m.data.end());
  }
  uint32_t directory = uint32_t(zip.size());
  for (const Member &m : members) {
    uint32_t crc = uint32_t(crc32(0, m.data.data(), uInt(m.data.size())));
    le32(zip, 0x02014b50);
    le16(zip, 20);
    le16(zip, 20);
    le16(zip, 0);
    le16(zip, 0);
    le16(zip, 0);
    le16(zip, 0);
    le32(zip, crc);
    le32(zip, uint32_t(m.data.size()));
    le32(zip, uint32_t(m.data.size()));
    le16(zip, uint16_t(m.name.size()));
    le16(zip, 0);
    le16(zip, 0);
    le16(zip, 0);
    le16(zip, 0);
    le32(zip, 0);
    le32(zip, m.offset);
    zip.insert(zip.end(), m.name.begin(), m.name.end());
  }
  uint32_t size = uint32_t(zip.size()) - directory;
  le32(zip, 0x06054b50);
  le16(zip, 0);
  le16(zip, 0);
  le16(zip, 2);
  le16(zip, 2);
  le32(zip, size);
  le32(zip, directory);
  le16(zip, 0);
  auto archive = parseNpz(zip, "d.npz");
  ASSERT_TRUE(bool(archive)) << llvm::toString(archive.takeError());
  ASSERT_EQ(archive->size(), 2u);
  EXPECT_EQ((*archive)[0].first, "x");
  EXPECT_EQ(elements((*archive)[0].second), (std::vector<double>{1, 2}));
  EXPECT_EQ((*archive)[1].first, "y");
  EXPECT_EQ((*archive)[1].second.dtypeName(), "int64");
  // A corrupted member fails its CRC.
  Bytes bad = zip;
  bad[members[1].offset + 30 + 5 + 130] ^= 1;
  auto corrupt = parseNpz(bad, "d.npz");
  ASSERT_FALSE(bool(corrupt));
  EXPECT_NE(llvm::toString(corrupt.takeError()).find("d.npz[y.npy]"),
            std::string::npos);
  // Not a zip at all.
  auto junk = parseNpz(Bytes(100, 7), "j.npz");
  ASSERT_FALSE(bool(junk));
  EXPECT_EQ(
      llvm::toString(junk.takeError())
          .rfind("j.npz: not a .npz file (a zip archive of .npy files): ", 0),
      0u);
}
