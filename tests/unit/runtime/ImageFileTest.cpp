//===- ImageFileTest.cpp - PGM and PNG images, .npy headers ---------------===//
#include "runtime/ImageFile.h"
#include "runtime/NpyFile.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

llvm::ArrayRef<uint8_t> bytes(llvm::StringRef s) {
  return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

std::string errorOf(llvm::StringRef text) {
  auto image = decodeImage(bytes(text), "x.pgm");
  EXPECT_FALSE(bool(image));
  return image ? "" : llvm::toString(image.takeError());
}

TEST(ImageFile, PlainPgmWithCommentsIsScaledTo255) {
  auto image =
      decodeImage(bytes("P2\n# two by one\n2 1 # size\n15\n0 15\n"), "x.pgm");
  ASSERT_TRUE(bool(image)) << llvm::toString(image.takeError());
  EXPECT_EQ(image->width, 2);
  EXPECT_EQ(image->height, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{0, 255}));
  EXPECT_EQ(image->conversion, "scaled from gray values 0-15 to 0-255");
}

TEST(ImageFile, SixteenBitPgmIsBigEndian) {
  std::string text = "P5 1 2 65535\n";
  text += std::string("\x80\x00\xff\xff", 4);
  auto image = decodeImage(bytes(text), "x.pgm");
  ASSERT_TRUE(bool(image)) << llvm::toString(image.takeError());
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{128, 255}));
}

TEST(ImageFile, MalformedPgmIsNamedAndExplained) {
  EXPECT_EQ(errorOf("P5\n2 2\n255\nabc"),
            "x.pgm: truncated: the PGM header promises 4 bytes of pixels, "
            "the file has 3");
  EXPECT_EQ(errorOf("P5\n2 2\n255\nabcde"),
            "x.pgm: trailing garbage: 1 bytes after the 4 bytes of pixels");
  EXPECT_EQ(errorOf("P5\n2"),
            "x.pgm: truncated: the PGM file ends before its height");
  EXPECT_EQ(errorOf("P5\n2 x\n"), "x.pgm: PGM height is not a number (byte 5)");
  EXPECT_EQ(errorOf("P2\n1 1\n7\n9\n"),
            "x.pgm: PGM pixel 0 is 9, above the maximum gray value 7");
  EXPECT_EQ(errorOf("P5\n0 3\n255\n"), "x.pgm: image has no pixels (0x3)");
  EXPECT_EQ(errorOf("P5\n99999 99999\n255\n"),
            "x.pgm: image of 99999x99999 pixels is larger than the 67108864 "
            "pixels nnc reads");
  EXPECT_EQ(errorOf("P6\n1 1\n255\nabc"),
            "x.pgm: a P6 Netpbm image; nnc reads grayscale PGM (P5, P2) and "
            "PNG");
}

TEST(ImageFile, BrokenPngIsRefused) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  auto image = decodeImage(bytes(png), "x.png");
  ASSERT_FALSE(bool(image));
  std::string message = llvm::toString(image.takeError());
  if (canReadPng())
    EXPECT_EQ(message.rfind("x.png: corrupt PNG image (header): ", 0), 0u)
        << message;
  else
    EXPECT_NE(message.find("built without libpng"), std::string::npos);
}

TEST(NpyFile, HeaderIsAlignedToSixtyFourBytes) {
  std::string header = npyHeader(ElementType::F32, {10000, 10});
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(header.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(uint8_t(header[8]) + 256 * uint8_t(header[9]), header.size() - 10);
  EXPECT_NE(header.find("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(10000, 10), }"),
            std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_NE(npyHeader(ElementType::I32, {3}).find("'shape': (3,)"),
            std::string::npos);
  EXPECT_NE(npyHeader(ElementType::F32, {}).find("'shape': ()"),
            std::string::npos);
}

} // namespace
