//===- ImageFile.cpp - Reading one image to predict on --------------------===//
#include "runtime/ImageFile.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/StringExtras.h"

#ifdef NNC_HAVE_PNG
#include <png.h>
#endif

#include <cstring>

namespace nnc {

namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P',  'N',  'G',
                                      '\r', '\n', 0x1a, '\n'};

bool isPng(llvm::ArrayRef<uint8_t> bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kPngSignature, 8) == 0;
}

bool isPgm(llvm::ArrayRef<uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 'P' &&
         (bytes[1] == '5' || bytes[1] == '2');
}

llvm::Error imageError(llvm::StringRef name, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + msg);
}

llvm::Error checkSize(llvm::StringRef name, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0)
    return imageError(name, "image has no pixels (" + llvm::Twine(width) + "x" +
                                llvm::Twine(height) + ")");
  if (width > kMaxImagePixels / height)
    return imageError(name,
                      "image of " + llvm::Twine(width) + "x" +
                          llvm::Twine(height) + " pixels is larger than the " +
                          llvm::Twine(kMaxImagePixels) + " pixels nnc reads");
  return llvm::Error::success();
}

/// The fields of a PGM header and its pixels, P5 (binary) or P2 (plain).
class PgmReader {
public:
  PgmReader(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef name)
      : bytes(bytes), name(name) {}

  llvm::Expected<GrayImage> read() {
    bool plain = bytes[1] == '2';
    pos = 2;
    GrayImage image;
    auto width = field("width"), height = field("height"),
         maxval = field("maximum gray value");
    if (!width)
      return width.takeError();
    if (!height)
      return height.takeError();
    if (!maxval)
      return maxval.takeError();
    if (*maxval < 1 || *maxval > 65535)
      return imageError(name, "PGM maximum gray value " + llvm::Twine(*maxval) +
                                  " is not between 1 and 65535");
    if (llvm::Error err = checkSize(name, *width, *height))
      return err;
    image.width = *width;
    image.height = *height;
    int64_t count = image.width * image.height;
    image.pixels.resize(count);
    if (*maxval != 255)
      image.conversion =
          "scaled from gray values 0-" + std::to_string(*maxval) + " to 0-255";
    auto scale = [&](int64_t v) {
      return uint8_t((v * 255 + *maxval / 2) / *maxval);
    };
    if (plain) {
      for (int64_t i = 0; i < count; ++i) {
        auto v = field("pixel " + std::to_string(i));
        if (!v)
          return v.takeError();
        if (*v > *maxval)
          return imageError(name, "PGM pixel " + llvm::Twine(i) + " is " +
                                      llvm::Twine(*v) +
                                      ", above the maximum gray value " +
                                      llvm::Twine(*maxval));
        image.pixels[i] = scale(*v);
      }
      return image;
    }
    // One whitespace byte separates the header from the binary pixels.
    if (pos < bytes.size() && !llvm::isSpace(bytes[pos]))
      return imageError(name, "PGM header does not end in whitespace");
    pos = std::min(pos + 1, bytes.size());
    int64_t bytesPerPixel = *maxval > 255 ? 2 : 1;
    uint64_t need = uint64_t(count) * bytesPerPixel;
    uint64_t have = bytes.size() - pos;
    if (have < need)
      return imageError(
          name, "truncated: the PGM header promises " + llvm::Twine(need) +
                    " bytes of pixels, the file has " + llvm::Twine(have));
    if (have > need)
      return imageError(name, "trailing garbage: " + llvm::Twine(have - need) +
                                  " bytes after the " + llvm::Twine(need) +
                                  " bytes of pixels");
    for (int64_t i = 0; i < count; ++i) {
      int64_t v = bytesPerPixel == 1 ? bytes[pos + i]
                                     : (int64_t(bytes[pos + 2 * i]) << 8) |
                                           bytes[pos + 2 * i + 1];
      if (v > *maxval)
        return imageError(
            name, "PGM pixel " + llvm::Twine(i) + " is " + llvm::Twine(v) +
                      ", above the maximum gray value " + llvm::Twine(*maxval));
      image.pixels[i] = scale(v);
    }
    return image;
  }

private:
  /// Skips whitespace and `#` comments, then reads a decimal number.
  llvm::Expected<int64_t> field(const std::string &what) {
    while (pos < bytes.size()) {
      if (llvm::isSpace(bytes[pos])) {
        ++pos;
      } else if (bytes[pos] == '#') {
        while (pos < bytes.size() && bytes[pos] != '\n')
          ++pos;
      } else {
        break;
      }
    }
    if (pos >= bytes.size())
      return imageError(name,
                        "truncated: the PGM file ends before its " + what);
    if (!llvm::isDigit(bytes[pos]))
      return imageError(name, "PGM " + what + " is not a number (byte " +
                                  llvm::Twine(pos) + ")");
    int64_t v = 0;
    while (pos < bytes.size() && llvm::isDigit(bytes[pos])) {
      v = v * 10 + (bytes[pos++] - '0');
      if (v > kMaxImagePixels)
        return imageError(name, "PGM " + what + " is too large");
    }
    return v;
  }

  llvm::ArrayRef<uint8_t> bytes;
  llvm::StringRef name;
  size_t pos = 0;
};

#ifdef NNC_HAVE_PNG
/// libpng's simplified API: no setjmp in our code, every problem in
/// image.message.
llvm::Expected<GrayImage> decodePng(llvm::ArrayRef<uint8_t> bytes,
                                    llvm::StringRef name) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  auto failed = [&](const char *stage) {
    std::string message = png.message;
    png_image_free(&png);
    return imageError(name, llvm::Twine("corrupt PNG image (") + stage +
                                "): " + message);
  };
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    return failed("header");
  if (llvm::Error err = checkSize(name, png.width, png.height)) {
    png_image_free(&png);
    return err;
  }
  GrayImage image;
  image.width = png.width;
  image.height = png.height;
  std::vector<std::string> done;
  if (png.format & PNG_FORMAT_FLAG_COLOR)
    done.push_back("converted from color to grayscale");
  if (png.format & PNG_FORMAT_FLAG_ALPHA)
    done.push_back("its transparency composited onto black");
  if (png.format & PNG_FORMAT_FLAG_LINEAR)
    done.push_back("reduced from 16 to 8 bits");
  image.conversion = llvm::join(done, ", ");
  png.format = PNG_FORMAT_GRAY;
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&png, &black, image.pixels.data(), 0, nullptr))
    return failed("pixels");
  png_image_free(&png);
  return image;
}
#endif

} // namespace

bool canReadPng() {
#ifdef NNC_HAVE_PNG
  return true;
#else
  return false;
#endif
}

bool looksLikeImage(llvm::ArrayRef<uint8_t> bytes) {
  return isPng(bytes) || isPgm(bytes);
}

llvm::Expected<GrayImage> decodeImage(llvm::ArrayRef<uint8_t> bytes,
                                      llvm::StringRef name) {
  if (isPgm(bytes))
    return PgmReader(bytes, name).read();
  if (isPng(bytes)) {
#ifdef NNC_HAVE_PNG
    return decodePng(bytes, name);
#else
    return imageError(name, "this nnc was built without libpng, so it "
                            "reads PGM images only; run scripts/bootstrap.sh "
                            "and rebuild to read PNG");
#endif
  }
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' &&
      bytes[1] <= '7')
    return imageError(name, "a P" + std::string(1, char(bytes[1])) +
                                " Netpbm image; nnc reads grayscale PGM "
                                "(P5, P2) and PNG");
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 &&
      bytes[2] == 0xff)
    return imageError(name, "a JPEG image; nnc reads PNG and PGM (convert "
                            "it, e.g. with ImageMagick's convert)");
  return imageError(name, "not a PNG or PGM image (it starts with neither "
                          "the PNG signature nor P5 or P2)");
}

llvm::Expected<GrayImage> readImageFile(llvm::StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return imageError(path, "cannot read image: " +
                                llvm::toString(buffer.takeError()));
  llvm::StringRef data = (*buffer)->getBuffer();
  return decodeImage(
      llvm::ArrayRef(reinterpret_cast<const uint8_t *>(data.data()),
                     data.size()),
      path);
}

} // namespace nnc
