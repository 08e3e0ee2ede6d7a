//===- Checkpoint.h - Saving and loading named tensors ----------*- C++ -*-===//
//
// Checkpoints are safetensors files: an 8-byte little-endian header length N,
// N bytes of JSON naming each tensor's dtype, shape and byte range, then the
// raw little-endian data. Being a common format, checkpoints can be read and
// written outside nnc (PyTorch through the safetensors package, NumPy with a
// few lines), so reference implementations can start from nnc's weights.
//
// The format code deals in named host buffers and does not care what the
// names mean; docs/data.md gives the naming nnc uses (model parameters as in
// the model, optimizer state under the optimizer's prefix).
//
// Saving is atomic: a crash or a failed write leaves the previous file at
// the path untouched. Loading checks the whole file against what the caller
// expects before it writes to any buffer.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_CHECKPOINT_H
#define NNC_RUNTIME_CHECKPOINT_H

#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

/// A named host buffer to load into. `byteSize` is the buffer's size, which
/// must be type.byteSize().
struct TensorView {
  std::string name;
  TensorType type;
  void *data = nullptr;
  size_t byteSize = 0;
};

/// A named host buffer to save from.
struct ConstTensorView {
  std::string name;
  TensorType type;
  const void *data = nullptr;
  size_t byteSize = 0;
};

/// Free-form string pairs kept in the header's `__metadata__`.
using CheckpointMetadata = std::map<std::string, std::string>;

/// The safetensors dtype of an element type: F32, F64, I32 or U8; nullopt for
/// the types checkpoints do not store (i1).
std::optional<llvm::StringRef> safetensorsDtype(ElementType type);
/// The element type of a safetensors dtype nnc reads, else nullopt.
std::optional<ElementType> elementTypeOfDtype(llvm::StringRef dtype);

/// Writes `tensors` in the given order, and `metadata` when not empty, to
/// `path`, replacing any file there. The file is written under a temporary
/// name in the same directory, flushed to disk and renamed over `path`, so
/// `path` holds either the old file or the complete new one. Fails without
/// touching `path` when a view is invalid (empty, duplicate or non-UTF-8
/// name, unsupported element type, byteSize not type.byteSize()) or the
/// file cannot be written.
llvm::Error saveCheckpoint(llvm::StringRef path,
                           llvm::ArrayRef<ConstTensorView> tensors,
                           const CheckpointMetadata &metadata = {});

struct CheckpointLoadOptions {
  /// A tensor in the file that `expected` does not name is an error unless
  /// this is set: by default a checkpoint must hold exactly the expected
  /// tensors, which catches loading another model's or another optimizer's
  /// checkpoint. Set it to read the parameters out of a checkpoint that
  /// also holds optimizer state.
  bool allowExtraTensors = false;
};

/// Fills every `expected` buffer with the tensor of the same name in the
/// checkpoint at `path`, and `metadata` (if given) with its metadata. Refuses,
/// naming the tensor, a checkpoint that does not fit: a missing tensor, a
/// different dtype or shape, an extra tensor (see CheckpointLoadOptions), and
/// any malformed file (header length past the end, corrupt JSON, byte ranges
/// that overlap, leave gaps or run past the end). No buffer is written unless
/// the whole checkpoint fits.
llvm::Error loadCheckpoint(llvm::StringRef path,
                           llvm::ArrayRef<TensorView> expected,
                           const CheckpointLoadOptions &options = {},
                           CheckpointMetadata *metadata = nullptr);

/// One tensor of a checkpoint's header.
struct CheckpointEntry {
  std::string name;
  std::string dtype;                  ///< as spelled in the file
  std::optional<ElementType> element; ///< nullopt for dtypes nnc does not read
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t begin = 0; ///< byte range in the data section
  uint64_t end = 0;
};

/// A checkpoint's validated header: its tensors sorted by name, its metadata
/// and where the data section starts.
struct CheckpointIndex {
  std::vector<CheckpointEntry> tensors;
  CheckpointMetadata metadata;
  uint64_t dataStart = 0;

  const CheckpointEntry *find(llvm::StringRef name) const;
};

/// Parses and checks the header of the safetensors file held in `bytes`,
/// including that the byte ranges tile the data section exactly. `name`
/// labels the errors.
llvm::Expected<CheckpointIndex> parseCheckpoint(llvm::ArrayRef<uint8_t> bytes,
                                                llvm::StringRef name);

/// Reads and checks the header of the checkpoint at `path`.
llvm::Expected<CheckpointIndex> readCheckpointIndex(llvm::StringRef path);

} // namespace nnc

#endif // NNC_RUNTIME_CHECKPOINT_H
