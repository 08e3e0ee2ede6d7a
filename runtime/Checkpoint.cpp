//===- Checkpoint.cpp - Saving and loading named tensors ------------------===//
#include "runtime/Checkpoint.h"
#include "runtime/AtomicFile.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

namespace nnc {

// The data section is the host's memory, copied as is: safetensors data is
// little-endian, and so is every host nnc generates code for.
static_assert(llvm::endianness::native == llvm::endianness::little,
              "checkpoints copy host memory, which must be little-endian");

namespace {

/// A header larger than this is taken for corruption rather than read; the
/// safetensors library has the same limit.
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Element sizes of every safetensors dtype, so that the byte ranges of
/// tensors nnc does not read can still be checked.
std::optional<unsigned> dtypeByteSize(llvm::StringRef dtype) {
  return llvm::StringSwitch<std::optional<unsigned>>(dtype)
      .Cases("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", 1u)
      .Cases("I16", "U16", "F16", "BF16", 2u)
      .Cases("I32", "U32", "F32", 4u)
      .Cases("I64", "U64", "F64", 8u)
      .Default(std::nullopt);
}

std::string shapeList(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Describes a JSON value's kind for "expected X, found Y" messages.
llvm::StringRef jsonKind(const llvm::json::Value &v) {
  switch (v.kind()) {
  case llvm::json::Value::Null:
    return "null";
  case llvm::json::Value::Boolean:
    return "a boolean";
  case llvm::json::Value::Number:
    return "a number";
  case llvm::json::Value::String:
    return "a string";
  case llvm::json::Value::Array:
    return "an array";
  case llvm::json::Value::Object:
    return "an object";
  }
  return "a value";
}

/// A non-negative JSON integer.
std::optional<uint64_t> asCount(const llvm::json::Value &v) {
  if (auto u = v.getAsUINT64())
    return *u;
  return std::nullopt;
}

llvm::Expected<CheckpointEntry> parseEntry(llvm::StringRef tensorName,
                                           const llvm::json::Value &value,
                                           llvm::StringRef file) {
  auto fail = [&](const llvm::Twine &msg) {
    return makeError(file + ": tensor '" + tensorName + "': " + msg);
  };
  const llvm::json::Object *obj = value.getAsObject();
  if (!obj)
    return fail("expected an object with dtype, shape and data_offsets, "
                "found " +
                jsonKind(value));
  CheckpointEntry entry;
  entry.name = tensorName.str();

  const llvm::json::Value *dtype = obj->get("dtype");
  if (!dtype)
    return fail("no dtype");
  if (!dtype->getAsString())
    return fail("dtype is " + jsonKind(*dtype) + ", expected a string");
  entry.dtype = dtype->getAsString()->str();
  std::optional<unsigned> eltSize = dtypeByteSize(entry.dtype);
  if (!eltSize)
    return fail("unknown dtype '" + entry.dtype + "'");
  entry.element = elementTypeOfDtype(entry.dtype);

  const llvm::json::Value *shape = obj->get("shape");
  if (!shape)
    return fail("no shape");
  const llvm::json::Array *dims = shape->getAsArray();
  if (!dims)
    return fail("shape is " + jsonKind(*shape) + ", expected an array");
  // Counted in bytes as we go, with a bound that no real file reaches, so
  // the product cannot wrap.
  uint64_t bytes = *eltSize;
  for (const llvm::json::Value &d : *dims) {
    std::optional<uint64_t> n = asCount(d);
    if (!n || *n > uint64_t(INT64_MAX))
      return fail("shape holds " + jsonKind(d) +
                  " that is not a dimension (a non-negative integer)");
    entry.shape.push_back(int64_t(*n));
    if (*n != 0 && bytes > (uint64_t(1) << 62) / *n)
      return fail("shape " + shapeList(entry.shape) + " is implausibly large");
    bytes *= *n;
  }

  const llvm::json::Value *offsets = obj->get("data_offsets");
  if (!offsets)
    return fail("no data_offsets");
  const llvm::json::Array *range = offsets->getAsArray();
  if (!range || range->size() != 2 || !asCount((*range)[0]) ||
      !asCount((*range)[1]))
    return fail("data_offsets must be two non-negative integers [begin, end]");
  entry.begin = *asCount((*range)[0]);
  entry.end = *asCount((*range)[1]);
  if (entry.begin > entry.end)
    return fail(llvm::formatv("data_offsets [{0}, {1}] run backwards",
                              entry.begin, entry.end));
  if (entry.end - entry.begin != bytes)
    return fail(llvm::formatv("{0} {1} needs {2} bytes but data_offsets "
                              "[{3}, {4}] hold {5}",
                              entry.dtype, shapeList(entry.shape), bytes,
                              entry.begin, entry.end, entry.end - entry.begin));
  return entry;
}

llvm::Expected<CheckpointMetadata> parseMetadata(const llvm::json::Value &value,
                                                 llvm::StringRef file) {
  const llvm::json::Object *obj = value.getAsObject();
  if (!obj)
    return makeError(file + ": __metadata__ is " + jsonKind(value) +
                     ", expected an object of strings");
  CheckpointMetadata metadata;
  for (const auto &kv : *obj) {
    std::optional<llvm::StringRef> s = kv.second.getAsString();
    if (!s)
      return makeError(file + ": __metadata__ entry '" + kv.first.str() +
                       "' is " + jsonKind(kv.second) + ", expected a string");
    metadata[kv.first.str()] = s->str();
  }
  return metadata;
}

} // namespace

std::optional<llvm::StringRef> safetensorsDtype(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return llvm::StringRef("F32");
  case ElementType::F64:
    return llvm::StringRef("F64");
  case ElementType::I32:
    return llvm::StringRef("I32");
  case ElementType::U8:
    return llvm::StringRef("U8");
  case ElementType::I1:
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ElementType> elementTypeOfDtype(llvm::StringRef dtype) {
  return llvm::StringSwitch<std::optional<ElementType>>(dtype)
      .Case("F32", ElementType::F32)
      .Case("F64", ElementType::F64)
      .Case("I32", ElementType::I32)
      .Case("U8", ElementType::U8)
      .Default(std::nullopt);
}

const CheckpointEntry *CheckpointIndex::find(llvm::StringRef name) const {
  auto it = llvm::partition_point(
      tensors, [&](const CheckpointEntry &e) { return e.name < name; });
  if (it != tensors.end() && it->name == name)
    return &*it;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

llvm::Expected<CheckpointIndex> parseCheckpoint(llvm::ArrayRef<uint8_t> bytes,
                                                llvm::StringRef name) {
  if (bytes.size() < 8)
    return makeError(llvm::formatv("{0}: truncated: {1} bytes, a safetensors "
                                   "file starts with an 8-byte header length",
                                   name, bytes.size()));
  uint64_t headerBytes =
      llvm::support::endian::read64le(static_cast<const void *>(bytes.data()));
  uint64_t afterLength = bytes.size() - 8;
  if (headerBytes > afterLength)
    return makeError(llvm::formatv("{0}: header length {1} is larger than the "
                                   "file ({2} bytes after the length): "
                                   "truncated or not a safetensors file",
                                   name, headerBytes, afterLength));
  if (headerBytes > kMaxHeaderBytes)
    return makeError(llvm::formatv("{0}: header length {1} is implausibly "
                                   "large (more than {2} bytes)",
                                   name, headerBytes, kMaxHeaderBytes));
  llvm::StringRef headerText(reinterpret_cast<const char *>(bytes.data() + 8),
                             headerBytes);
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return makeError(name +
                     ": corrupt header JSON: " + toString(header.takeError()));
  const llvm::json::Object *top = header->getAsObject();
  if (!top)
    return makeError(name + ": the header is " + jsonKind(*header) +
                     ", expected a JSON object");

  CheckpointIndex index;
  index.dataStart = 8 + headerBytes;
  uint64_t dataBytes = bytes.size() - index.dataStart;
  for (const auto &kv : *top) {
    llvm::StringRef key = kv.first;
    if (key == "__metadata__") {
      auto metadata = parseMetadata(kv.second, name);
      if (!metadata)
        return metadata.takeError();
      index.metadata = std::move(*metadata);
      continue;
    }
    auto entry = parseEntry(key, kv.second, name);
    if (!entry)
      return entry.takeError();
    index.tensors.push_back(std::move(*entry));
  }
  // JSON objects are unordered; sort so that lookups and messages are
  // deterministic.
  llvm::sort(index.tensors,
             [](const CheckpointEntry &a, const CheckpointEntry &b) {
               return a.name < b.name;
             });

  // The byte ranges must tile the data section: no overlap, no gap, nothing
  // past the end and nothing left over.
  std::vector<const CheckpointEntry *> byOffset;
  for (const CheckpointEntry &e : index.tensors)
    byOffset.push_back(&e);
  llvm::stable_sort(
      byOffset, [](const CheckpointEntry *a, const CheckpointEntry *b) {
        return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
      });
  uint64_t covered = 0;
  const CheckpointEntry *previous = nullptr;
  for (const CheckpointEntry *e : byOffset) {
    if (e->end > dataBytes)
      return makeError(llvm::formatv("{0}: tensor '{1}': data_offsets [{2}, "
                                     "{3}] run past the end of the data ({4} "
                                     "bytes): the file is truncated",
                                     name, e->name, e->begin, e->end,
                                     dataBytes));
    if (e->begin < covered)
      return makeError(llvm::formatv("{0}: tensors '{1}' and '{2}' overlap: "
                                     "[{3}, {4}) and [{5}, {6})",
                                     name, previous->name, e->name,
                                     previous->begin, previous->end, e->begin,
                                     e->end));
    if (e->begin > covered)
      return makeError(llvm::formatv("{0}: bytes [{1}, {2}) of the data, "
                                     "before tensor '{3}', belong to no "
                                     "tensor",
                                     name, covered, e->begin, e->name));
    covered = e->end;
    previous = e;
  }
  if (covered != dataBytes)
    return makeError(llvm::formatv("{0}: {1} bytes of trailing garbage after "
                                   "the last tensor's data",
                                   name, dataBytes - covered));
  return index;
}

llvm::Expected<CheckpointIndex> readCheckpointIndex(llvm::StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return makeError(path + ": cannot read checkpoint: " +
                     llvm::toString(buffer.takeError()));
  return parseCheckpoint(
      llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
          (*buffer)->getBufferSize()),
      path);
}

llvm::Error loadCheckpoint(llvm::StringRef path,
                           llvm::ArrayRef<TensorView> expected,
                           const CheckpointLoadOptions &options,
                           CheckpointMetadata *metadata) {
  llvm::StringSet<> wanted;
  for (const TensorView &view : expected) {
    if (!wanted.insert(view.name).second)
      return makeError(path + ": tensor '" + view.name +
                       "' is asked for twice");
    if (!safetensorsDtype(view.type.element()))
      return makeError(path + ": tensor '" + view.name + "' has type " +
                       view.type.str() + ", which checkpoints do not store");
    if (view.byteSize != uint64_t(view.type.byteSize()))
      return makeError(llvm::formatv("{0}: tensor '{1}' of type {2} needs {3} "
                                     "bytes, its buffer holds {4}",
                                     path, view.name, view.type.str(),
                                     view.type.byteSize(), view.byteSize));
  }

  auto buffer = readRegularFile(path);
  if (!buffer)
    return makeError(path + ": cannot read checkpoint: " +
                     llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
      (*buffer)->getBufferSize());
  auto index = parseCheckpoint(bytes, path);
  if (!index)
    return index.takeError();

  // Check everything before writing anything, so that a refused checkpoint
  // leaves the buffers as they were.
  for (const TensorView &view : expected) {
    const CheckpointEntry *entry = index->find(view.name);
    if (!entry)
      return makeError(path + ": the checkpoint has no tensor '" + view.name +
                       "'");
    llvm::StringRef want = *safetensorsDtype(view.type.element());
    if (entry->dtype != want)
      return makeError(path + ": tensor '" + view.name + "' is " +
                       entry->dtype + " in the checkpoint, expected " + want);
    if (llvm::ArrayRef<int64_t>(entry->shape) != view.type.shape())
      return makeError(path + ": tensor '" + view.name + "' has shape " +
                       shapeList(entry->shape) +
                       " in the checkpoint, expected " +
                       shapeList(view.type.shape()));
  }
  if (!options.allowExtraTensors)
    for (const CheckpointEntry &entry : index->tensors)
      if (!wanted.contains(entry.name))
        return makeError(path + ": the checkpoint has a tensor '" + entry.name +
                         "' that was not expected (a checkpoint of another "
                         "model or optimizer?)");

  for (const TensorView &view : expected) {
    const CheckpointEntry *entry = index->find(view.name);
    if (view.byteSize)
      std::memcpy(view.data, bytes.data() + index->dataStart + entry->begin,
                  view.byteSize);
  }
  if (metadata)
    *metadata = std::move(index->metadata);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

llvm::Error checkSaveable(llvm::ArrayRef<ConstTensorView> tensors,
                          const CheckpointMetadata &metadata) {
  llvm::StringSet<> seen;
  for (const ConstTensorView &t : tensors) {
    if (t.name.empty())
      return makeError("a tensor has an empty name");
    if (!llvm::json::isUTF8(t.name))
      return makeError("tensor name '" + t.name + "' is not valid UTF-8");
    if (t.name == "__metadata__")
      return makeError("'__metadata__' is reserved for the metadata and "
                       "cannot name a tensor");
    if (!seen.insert(t.name).second)
      return makeError("tensor '" + t.name + "' is given twice");
    if (!safetensorsDtype(t.type.element()))
      return makeError("tensor '" + t.name + "' has type " + t.type.str() +
                       ", which checkpoints do not store");
    if (t.byteSize != uint64_t(t.type.byteSize()))
      return makeError(llvm::formatv("tensor '{0}' of type {1} needs {2} "
                                     "bytes, its buffer holds {3}",
                                     t.name, t.type.str(), t.type.byteSize(),
                                     t.byteSize));
    if (t.byteSize && !t.data)
      return makeError("tensor '" + t.name + "' has no buffer");
  }
  for (const auto &kv : metadata)
    if (!llvm::json::isUTF8(kv.first) || !llvm::json::isUTF8(kv.second))
      return makeError("metadata entry '" + kv.first + "' is not valid UTF-8");
  return llvm::Error::success();
}

std::string headerJson(llvm::ArrayRef<ConstTensorView> tensors,
                       const CheckpointMetadata &metadata) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream json(os);
  json.object([&] {
    if (!metadata.empty())
      json.attributeObject("__metadata__", [&] {
        for (const auto &kv : metadata)
          json.attribute(kv.first, kv.second);
      });
    uint64_t offset = 0;
    for (const ConstTensorView &t : tensors) {
      json.attributeObject(t.name, [&] {
        json.attribute("dtype", *safetensorsDtype(t.type.element()));
        json.attributeArray("shape", [&] {
          for (int64_t d : t.type.shape())
            json.value(d);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(offset);
          json.value(offset + t.byteSize);
        });
      });
      offset += t.byteSize;
    }
  });
  os.flush();
  // Pad with spaces, as the safetensors library does, so that the data
  // section starts 8-byte aligned.
  while ((8 + text.size()) % 8 != 0)
    text += ' ';
  return text;
}

} // namespace

llvm::Error saveCheckpoint(llvm::StringRef path,
                           llvm::ArrayRef<ConstTensorView> tensors,
                           const CheckpointMetadata &metadata) {
  auto fail = [&](const llvm::Twine &msg) {
    return makeError("cannot save checkpoint " + path + ": " + msg);
  };
  if (llvm::Error e = checkSaveable(tensors, metadata))
    return fail(toString(std::move(e)));

  std::string header = headerJson(tensors, metadata);
  uint8_t length[8];
  llvm::support::endian::write64le(length, header.size());

  llvm::Error written = writeFileAtomically(path, [&](int fd) {
    std::error_code ec = writeAll(fd, length, sizeof(length));
    if (!ec)
      ec = writeAll(fd, header.data(), header.size());
    for (const ConstTensorView &t : tensors) {
      if (ec)
        break;
      ec = writeAll(fd, t.data, t.byteSize);
    }
    return ec;
  });
  if (written)
    return fail(toString(std::move(written)));
  return llvm::Error::success();
}

} // namespace nnc
