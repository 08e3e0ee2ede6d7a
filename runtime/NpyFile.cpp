//===- NpyFile.cpp - NumPy .npy and .npz files ----------------------------===//
#include "runtime/NpyFile.h"
#include "runtime/AtomicFile.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#ifdef NNC_HAVE_LIBZIP
#include <zip.h>
#endif

#include <algorithm>
#include <cstring>
#include <memory>
#include <system_error>

namespace nnc {

namespace {

llvm::Error fileError(llvm::StringRef name, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + msg);
}

constexpr llvm::StringLiteral kMagic("\x93NUMPY");

/// The header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3,)}
/// as numpy.lib.format writes it, keys in any order.
struct Header {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// A reader of the Python literals a header holds.
class HeaderParser {
public:
  HeaderParser(llvm::StringRef text, llvm::StringRef name)
      : rest(text), name(name) {}

  llvm::Expected<Header> parse() {
    Header h;
    bool seen[3] = {false, false, false};
    skipSpace();
    if (!consume('{'))
      return fail("the header is not a dict");
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      auto key = string();
      if (!key)
        return key.takeError();
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after '" + *key + "' in the header");
      skipSpace();
      if (*key == "descr") {
        if (rest.starts_with("["))
          return fail("structured dtypes (a list of fields) are not "
                      "supported: save each field as an array of its own");
        auto d = string();
        if (!d)
          return d.takeError();
        h.descr = *d;
        seen[0] = true;
      } else if (*key == "fortran_order") {
        if (rest.consume_front("True"))
          h.fortranOrder = true;
        else if (rest.consume_front("False"))
          h.fortranOrder = false;
        else
          return fail("'fortran_order' is neither True nor False");
        seen[1] = true;
      } else if (*key == "shape") {
        auto s = tuple();
        if (!s)
          return s.takeError();
        h.shape = std::move(*s);
        seen[2] = true;
      } else {
        return fail("unknown key '" + *key + "' in the header");
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}' in the header");
    }
    const char *keys[] = {"descr", "fortran_order", "shape"};
    for (int i = 0; i < 3; ++i)
      if (!seen[i])
        return fail(llvm::Twine("the header has no '") + keys[i] + "'");
    if (!rest.trim().empty())
      return fail("text after the header's dict");
    return h;
  }

private:
  void skipSpace() { rest = rest.ltrim(" \t\r\n"); }
  bool consume(char c) { return rest.consume_front(llvm::StringRef(&c, 1)); }
  llvm::Error fail(const llvm::Twine &msg) {
    return fileError(name, "malformed .npy header: " + msg);
  }

  llvm::Expected<std::string> string() {
    char quote = rest.empty() ? 0 : rest.front();
    if (quote != '\'' && quote != '"')
      return fail("expected a quoted string");
    rest = rest.drop_front();
    size_t end = rest.find(quote);
    if (end == llvm::StringRef::npos)
      return fail("a string is not closed");
    std::string s = rest.take_front(end).str();
    rest = rest.drop_front(end + 1);
    return s;
  }

  llvm::Expected<std::vector<int64_t>> tuple() {
    if (!consume('('))
      return fail("'shape' is not a tuple");
    std::vector<int64_t> dims;
    for (;;) {
      skipSpace();
      if (consume(')'))
        return dims;
      size_t digits = 0;
      while (digits < rest.size() && llvm::isDigit(rest[digits]))
        ++digits;
      int64_t d = 0;
      if (digits == 0 || digits > 18 ||
          rest.take_front(digits).getAsInteger(10, d))
        return fail("a dimension of 'shape' is not a non-negative integer");
      rest = rest.drop_front(digits);
      // Python 2 wrote long integers with an L.
      rest.consume_front("L");
      dims.push_back(d);
      if (dims.size() > kMaxNpyRank)
        return fail(llvm::formatv("more than {0} dimensions", kMaxNpyRank));
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return dims;
      return fail("expected ',' or ')' in 'shape'");
    }
  }

  llvm::StringRef rest;
  llvm::StringRef name;
};

/// Reads a descr ("<f4", "|u1", ">i8", "|b1") into kind, size and whether the
/// data is big-endian.
llvm::Error readDescr(llvm::StringRef descr, llvm::StringRef name, NpyArray &a,
                      bool &bigEndian) {
  auto unsupported = [&](const llvm::Twine &why) {
    return fileError(name, "unsupported dtype '" + descr + "': " + why);
  };
  if (descr.size() >= 2 && descr[1] == 'O')
    return unsupported("an array of Python objects, a pickle nnc does not "
                       "read");
  if (descr.size() < 3)
    return unsupported("not a NumPy type descriptor");
  char order = descr[0], kind = descr[1];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return unsupported("unknown byte order");
  unsigned size = 0;
  if (descr.drop_front(2).getAsInteger(10, size))
    return unsupported("not a NumPy type descriptor");
  bool ok = (kind == 'f' && (size == 4 || size == 8)) ||
            ((kind == 'i' || kind == 'u') &&
             (size == 1 || size == 2 || size == 4 || size == 8)) ||
            (kind == 'b' && size == 1);
  if (!ok)
    return unsupported("nnc reads bool, integers of 1, 2, 4 and 8 bytes and "
                       "floats of 4 and 8 bytes");
  a.kind = kind;
  a.itemSize = size;
  bigEndian = order == '>' && size > 1;
  return llvm::Error::success();
}

uint64_t readLittle(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned k = 0; k < n; ++k)
    v |= uint64_t(p[k]) << (8 * k);
  return v;
}

} // namespace

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double NpyArray::element(int64_t i) const {
  uint64_t bits = readLittle(data.data() + i * itemSize, itemSize);
  switch (kind) {
  case 'b':
    return bits != 0 ? 1.0 : 0.0;
  case 'u':
    return double(bits);
  case 'i': {
    // Sign-extend from itemSize bytes.
    unsigned shift = 64 - 8 * itemSize;
    return double(int64_t(bits << shift) >> shift);
  }
  case 'f':
    if (itemSize == 4) {
      uint32_t word = uint32_t(bits);
      float f;
      std::memcpy(&f, &word, 4);
      return f;
    } else {
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
    }
  }
  return 0;
}

std::string NpyArray::dtypeName() const {
  switch (kind) {
  case 'b':
    return "bool";
  case 'u':
    return "uint" + std::to_string(8 * itemSize);
  case 'i':
    return "int" + std::to_string(8 * itemSize);
  default:
    return "float" + std::to_string(8 * itemSize);
  }
}

std::string NpyArray::shapeString() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

llvm::Expected<NpyArray> parseNpy(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name) {
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size());
  if (!text.starts_with(kMagic))
    return fileError(name, "not a .npy file: it does not start with the "
                           "magic bytes \\x93NUMPY");
  if (bytes.size() < 10)
    return fileError(name, llvm::formatv("truncated: a .npy file starts with "
                                         "at least 10 bytes, the file has {0}",
                                         bytes.size()));
  unsigned major = bytes[6], minor = bytes[7];
  size_t prefix = 0, headerLength = 0;
  if (major == 1) {
    prefix = 10;
    headerLength = readLittle(bytes.data() + 8, 2);
  } else if (major == 2 || major == 3) {
    prefix = 12;
    if (bytes.size() < prefix)
      return fileError(name, "truncated: the header length is cut off");
    headerLength = readLittle(bytes.data() + 8, 4);
  } else {
    return fileError(name, llvm::formatv("unsupported .npy version {0}.{1} "
                                         "(nnc reads 1.0, 2.0 and 3.0)",
                                         major, minor));
  }
  if (headerLength > bytes.size() - prefix)
    return fileError(name, llvm::formatv("truncated: the header promises {0} "
                                         "bytes, the file has {1} after the "
                                         "prefix",
                                         headerLength, bytes.size() - prefix));
  auto header = HeaderParser(text.substr(prefix, headerLength), name).parse();
  if (!header)
    return header.takeError();
  NpyArray a;
  bool bigEndian = false;
  if (llvm::Error e = readDescr(header->descr, name, a, bigEndian))
    return e;
  a.shape = header->shape;
  uint64_t total = a.itemSize;
  for (int64_t d : a.shape) {
    if (__builtin_mul_overflow(total, uint64_t(d), &total) ||
        total > kMaxNpyDataBytes)
      return fileError(name, llvm::formatv("implausible shape {0}: more than "
                                           "the {1} bytes of data nnc "
                                           "accepts",
                                           a.shapeString(), kMaxNpyDataBytes));
  }
  if (a.numElements() == 0)
    total = 0;
  size_t have = bytes.size() - prefix - headerLength;
  if (have < total)
    return fileError(name, llvm::formatv("truncated: the header promises {0} "
                                         "bytes of data ({1} of shape {2}), "
                                         "the file has {3}",
                                         total, a.dtypeName(), a.shapeString(),
                                         have));
  if (have > total)
    return fileError(name, llvm::formatv("trailing garbage: the header "
                                         "promises {0} bytes of data, the "
                                         "file has {1}",
                                         total, have));
  const uint8_t *src = bytes.data() + prefix + headerLength;
  a.data.assign(src, src + total);
  if (bigEndian)
    for (size_t i = 0; i < a.data.size(); i += a.itemSize)
      std::reverse(a.data.begin() + i, a.data.begin() + i + a.itemSize);
  if (header->fortranOrder && a.shape.size() > 1) {
    // Column-major to row-major: element (i0, ..., ik) is at sum i_j *
    // stride_j with stride_0 = 1 in the file.
    std::vector<uint8_t> rowMajor(a.data.size());
    size_t rank = a.shape.size();
    std::vector<int64_t> index(rank, 0);
    int64_t n = a.numElements();
    for (int64_t r = 0; r < n; ++r) {
      int64_t f = 0, stride = 1;
      for (size_t j = 0; j < rank; ++j) {
        f += index[j] * stride;
        stride *= a.shape[j];
      }
      std::memcpy(rowMajor.data() + r * a.itemSize,
                  a.data.data() + f * a.itemSize, a.itemSize);
      for (size_t j = rank; j-- > 0;) {
        if (++index[j] < a.shape[j])
          break;
        index[j] = 0;
      }
    }
    a.data = std::move(rowMajor);
  }
  return a;
}

llvm::Expected<NpyArray> readNpyFile(llvm::StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return fileError(path,
                     "cannot read: " + llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
      (*buffer)->getBufferSize());
  return parseNpy(bytes, path);
}

bool haveNpzSupport() {
#ifdef NNC_HAVE_LIBZIP
  return true;
#else
  return false;
#endif
}

llvm::Expected<NpzArchive> parseNpz(llvm::ArrayRef<uint8_t> bytes,
                                    llvm::StringRef name) {
#ifdef NNC_HAVE_LIBZIP
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t *source =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) {
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return fileError(name, "cannot read the archive: " + why);
  }
  zip_t *archive =
      zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!archive) {
    std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    return fileError(name,
                     "not a .npz file (a zip archive of .npy files): " + why);
  }
  zip_error_fini(&error);
  std::unique_ptr<zip_t, int (*)(zip_t *)> closer(archive, zip_close);
  NpzArchive arrays;
  zip_int64_t entries = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    const char *entryName = zip_get_name(archive, zip_uint64_t(i), 0);
    if (!entryName)
      return fileError(name, llvm::formatv("member {0} has no name", i));
    std::string member = entryName;
    std::string where = (name + "[" + member + "]").str();
    zip_file_t *file = zip_fopen_index(archive, zip_uint64_t(i), 0);
    if (!file)
      return fileError(where, std::string("cannot open the member: ") +
                                  zip_strerror(archive));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t *)> fileCloser(file,
                                                                  zip_fclose);
    // Grow with the data actually inflated, so that a member's lying size
    // costs no more than it holds.
    std::vector<uint8_t> data;
    for (;;) {
      size_t old = data.size();
      data.resize(old + (size_t(1) << 20));
      zip_int64_t got = zip_fread(file, data.data() + old, size_t(1) << 20);
      if (got < 0)
        return fileError(where, std::string("corrupt member: ") +
                                    zip_file_strerror(file));
      data.resize(old + size_t(got));
      if (data.size() > kMaxNpyDataBytes + (1 << 20))
        return fileError(where, "larger than the arrays nnc reads");
      if (got == 0)
        break;
    }
    auto array = parseNpy(data, where);
    if (!array)
      return array.takeError();
    llvm::StringRef arrayName(member);
    arrayName.consume_back(".npy");
    arrays.emplace_back(arrayName.str(), std::move(*array));
  }
  return arrays;
#else
  (void)bytes;
  return fileError(name, "nnc was built without libzip, so it cannot read "
                         ".npz files: install libzip-dev (scripts/"
                         "bootstrap.sh) and rebuild, or save the arrays as "
                         ".npy files");
#endif
}

llvm::Expected<NpzArchive> readNpzFile(llvm::StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return fileError(path,
                     "cannot read: " + llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
      (*buffer)->getBufferSize());
  return parseNpz(bytes, path);
}

llvm::StringRef npyDtype(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "<f4";
  case ElementType::F64:
    return "<f8";
  case ElementType::I32:
    return "<i4";
  case ElementType::U8:
    return "|u1";
  case ElementType::I1:
    return "|b1";
  }
  return "<f4";
}

std::string npyHeader(ElementType type, llvm::ArrayRef<int64_t> shape) {
  std::string dict = "{'descr': '" + npyDtype(type).str() +
                     "', 'fortran_order': False, 'shape': (";
  for (int64_t d : shape)
    dict += std::to_string(d) + ", ";
  if (shape.size() > 1) // (3,) for one dimension, (3, 4) for two
    dict.resize(dict.size() - 2);
  else if (shape.size() == 1)
    dict.pop_back();
  dict += "), }";
  // Magic (6), version (2), length (2), dict, padding, newline: a multiple
  // of 64 bytes, so that the data is aligned.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += char(1);
  header += char(0);
  header += char(dict.size() & 0xff);
  header += char(dict.size() >> 8);
  return header + dict;
}

llvm::Error writeNpyFile(llvm::StringRef path, ElementType type,
                         llvm::ArrayRef<int64_t> shape, const void *data) {
  std::string header = npyHeader(type, shape);
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  size_t bytes = size_t(count) * elementByteSize(type);
  return writeFileAtomically(path, [&](int fd) -> std::error_code {
    if (std::error_code ec = writeAll(fd, header.data(), header.size()))
      return ec;
    return writeAll(fd, data, bytes);
  });
}

} // namespace nnc
