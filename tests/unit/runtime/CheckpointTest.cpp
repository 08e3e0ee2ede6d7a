// Checkpoints round-trip bit-exactly in the safetensors layout; every
// checkpoint that does not fit is refused naming the tensor; saving never
// leaves a half-written file.
#include "runtime/Checkpoint.h"

#include "TestFiles.h"

#include "runtime/Dataset.h"

#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <limits>

using namespace nnc;
using namespace nnc::test;

namespace {

template <typename T>
ConstTensorView constView(std::string name, TensorType type,
                          const std::vector<T> &v) {
  return {std::move(name), type, v.data(), v.size() * sizeof(T)};
}

template <typename T>
TensorView view(std::string name, TensorType type, std::vector<T> &v) {
  return {std::move(name), type, v.data(), v.size() * sizeof(T)};
}

/// A safetensors file spelled out by hand: length, header, data.
Bytes craft(const std::string &header, const Bytes &data) {
  Bytes out;
  for (int i = 0; i < 8; ++i)
    out.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// A small model's parameters with its Adam state.
struct Model {
  TensorType wType{ElementType::F32, {3, 2}};
  TensorType bType{ElementType::F32, {2}};
  std::vector<float> weight = {1.5f, -0.0f, 3.25f, 1e-40f, -7.0f, 0.1f};
  std::vector<float> bias = {std::numeric_limits<float>::infinity(), -2.0f};
  std::vector<float> adamM = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f};

  std::vector<ConstTensorView> params() const {
    return {constView("dense_1.weight", wType, weight),
            constView("dense_1.bias", bType, bias)};
  }
  std::vector<ConstTensorView> withOptimizer() const {
    auto v = params();
    v.push_back(constView("adam.m.dense_1.weight", wType, adamM));
    return v;
  }
};

std::string loadError(const std::string &path,
                      llvm::ArrayRef<TensorView> expected,
                      CheckpointLoadOptions options = {}) {
  llvm::Error e = loadCheckpoint(path, expected, options);
  return e ? llvm::toString(std::move(e)) : "ok";
}

std::string parseError(const Bytes &bytes) {
  auto index = parseCheckpoint(bytes, "ckpt");
  return index ? "ok" : llvm::toString(index.takeError());
}

} // namespace

TEST(Checkpoint, RoundTripIsBitExact) {
  ScratchDir dir;
  std::vector<float> f32 = {0.0f,
                            -0.0f,
                            1.0f / 3.0f,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::infinity()};
  uint32_t nanBits = 0x7fc01234; // a NaN with a payload
  std::memcpy(&f32[5], &nanBits, 4);
  std::vector<double> f64 = {M_PI, -1e-310, 2.5};
  std::vector<int32_t> i32 = {INT32_MIN, -1, 0, INT32_MAX};
  std::vector<uint8_t> u8 = {0, 7, 255, 128, 1};
  TensorType f32Type(ElementType::F32, {2, 3});
  TensorType f64Type(ElementType::F64, {3});
  TensorType i32Type(ElementType::I32, {2, 2});
  TensorType u8Type(ElementType::U8, {5});
  TensorType scalarType(ElementType::F32, {});
  std::vector<float> scalar = {42.0f};
  CheckpointMetadata metadata = {{"epoch", "3"}, {"model", "mlp.nn"}};
  std::string path = dir.path("model.safetensors");
  llvm::Error saved = saveCheckpoint(
      path,
      {constView("a", f32Type, f32), constView("u8", u8Type, u8),
       constView("f64", f64Type, f64), constView("step", scalarType, scalar),
       constView("i32", i32Type, i32)},
      metadata);
  ASSERT_FALSE(bool(saved)) << llvm::toString(std::move(saved));

  std::vector<float> f32In(6), scalarIn(1);
  std::vector<double> f64In(3);
  std::vector<int32_t> i32In(4);
  std::vector<uint8_t> u8In(5);
  CheckpointMetadata metadataIn;
  llvm::Error loaded =
      loadCheckpoint(path,
                     {view("i32", i32Type, i32In), view("a", f32Type, f32In),
                      view("f64", f64Type, f64In), view("u8", u8Type, u8In),
                      view("step", scalarType, scalarIn)},
                     {}, &metadataIn);
  ASSERT_FALSE(bool(loaded)) << llvm::toString(std::move(loaded));
  EXPECT_EQ(std::memcmp(f32.data(), f32In.data(), 6 * 4), 0);
  EXPECT_EQ(std::memcmp(f64.data(), f64In.data(), 3 * 8), 0);
  EXPECT_EQ(i32In, i32);
  EXPECT_EQ(u8In, u8);
  EXPECT_EQ(scalarIn[0], 42.0f);
  EXPECT_EQ(metadataIn, metadata);
}

TEST(Checkpoint, FileFollowsTheSafetensorsLayout) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.params(), {{"k", "v"}})));
  Bytes file = readFile(path);
  ASSERT_GE(file.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = n << 8 | file[i];
  EXPECT_EQ((8 + n) % 8, 0u) << "data section should start aligned";
  ASSERT_EQ(file.size(), 8 + n + (6 + 2) * 4);
  auto header = llvm::json::parse(
      llvm::StringRef(reinterpret_cast<const char *>(file.data() + 8), n));
  ASSERT_TRUE(bool(header)) << llvm::toString(header.takeError());
  const llvm::json::Object *top = header->getAsObject();
  ASSERT_TRUE(top);
  EXPECT_EQ(*top->getObject("__metadata__")->getString("k"), "v");
  const llvm::json::Object *w = top->getObject("dense_1.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(*w->getString("dtype"), "F32");
  EXPECT_EQ(*w->getArray("shape"), llvm::json::Array({3, 2}));
  EXPECT_EQ(*w->getArray("data_offsets"), llvm::json::Array({0, 24}));
  EXPECT_EQ(*top->getObject("dense_1.bias")->getArray("data_offsets"),
            llvm::json::Array({24, 32}));
  // The data is the raw little-endian floats, in the order saved.
  EXPECT_EQ(std::memcmp(file.data() + 8 + n, m.weight.data(), 24), 0);
  EXPECT_EQ(std::memcmp(file.data() + 8 + n + 24, m.bias.data(), 8), 0);
}

TEST(Checkpoint, ReadsAHandWrittenFile) {
  // As another safetensors writer might lay it out: data in another order
  // than the header, no padding, no metadata.
  ScratchDir dir;
  float w[2] = {0.5f, -1.25f};
  int32_t s = 77;
  Bytes data(12);
  std::memcpy(data.data(), &s, 4);
  std::memcpy(data.data() + 4, w, 8);
  writeFile(dir.path("h.safetensors"),
            craft(R"({"w":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]},)"
                  R"("step":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})",
                  data));
  std::vector<float> wIn(2);
  std::vector<int32_t> sIn(1);
  EXPECT_EQ(loadError(dir.path("h.safetensors"),
                      {view("w", TensorType(ElementType::F32, {1, 2}), wIn),
                       view("step", TensorType(ElementType::I32, {}), sIn)}),
            "ok");
  EXPECT_EQ(wIn, std::vector<float>({0.5f, -1.25f}));
  EXPECT_EQ(sIn[0], 77);
  auto index = readCheckpointIndex(dir.path("h.safetensors"));
  ASSERT_TRUE(bool(index)) << llvm::toString(index.takeError());
  ASSERT_EQ(index->tensors.size(), 2u);
  EXPECT_EQ(index->tensors[0].name, "step"); // sorted by name
  EXPECT_EQ(index->find("w")->begin, 4u);
  EXPECT_EQ(index->find("absent"), nullptr);
}

TEST(Checkpoint, RefusesTensorsThatDoNotFit) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.params())));
  std::vector<float> w(6, 9.0f), b(2, 9.0f), extra(6);
  TensorType wType = m.wType, bType = m.bType;

  EXPECT_EQ(loadError(path, {view("dense_1.weight", wType, w),
                             view("dense_1.bias", bType, b),
                             view("dense_2.bias", bType, b)}),
            path + ": the checkpoint has no tensor 'dense_2.bias'");
  EXPECT_EQ(loadError(path, {view("dense_1.weight", wType.withShape({2, 3}), w),
                             view("dense_1.bias", bType, b)}),
            path + ": tensor 'dense_1.weight' has shape [3, 2] in the "
                   "checkpoint, expected [2, 3]");
  std::vector<double> wide(6);
  EXPECT_EQ(loadError(path, {view("dense_1.weight",
                                  wType.withElement(ElementType::F64), wide),
                             view("dense_1.bias", bType, b)}),
            path + ": tensor 'dense_1.weight' is F32 in the checkpoint, "
                   "expected F64");
  EXPECT_EQ(loadError(path, {view("dense_1.bias", bType, b)}),
            path + ": the checkpoint has a tensor 'dense_1.weight' that was "
                   "not expected (a checkpoint of another model or "
                   "optimizer?)");
  EXPECT_EQ(loadError(path, {view("dense_1.weight", wType, w),
                             view("dense_1.bias", bType, b),
                             view("dense_1.bias", bType, b)}),
            path + ": tensor 'dense_1.bias' is asked for twice");
  std::vector<float> small(5);
  EXPECT_EQ(loadError(path, {view("dense_1.weight", wType, small),
                             view("dense_1.bias", bType, b)}),
            path + ": tensor 'dense_1.weight' of type f32[3,2] needs 24 "
                   "bytes, its buffer holds 20");
  // Nothing was written by any refused load.
  EXPECT_EQ(w, std::vector<float>(6, 9.0f));
  EXPECT_EQ(b, std::vector<float>(2, 9.0f));
}

TEST(Checkpoint, ExtraTensorsCanBeAllowed) {
  // Parameters out of a checkpoint that also holds the optimizer's state.
  ScratchDir dir;
  Model m;
  std::string path = dir.path("adam.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.withOptimizer())));
  std::vector<float> w(6), b(2);
  std::vector<TensorView> params = {view("dense_1.weight", m.wType, w),
                                    view("dense_1.bias", m.bType, b)};
  EXPECT_EQ(loadError(path, params),
            path + ": the checkpoint has a tensor 'adam.m.dense_1.weight' "
                   "that was not expected (a checkpoint of another model or "
                   "optimizer?)");
  CheckpointLoadOptions lenient;
  lenient.allowExtraTensors = true;
  EXPECT_EQ(loadError(path, params, lenient), "ok");
  EXPECT_EQ(w, m.weight);
}

TEST(Checkpoint, RefusesMalformedFiles) {
  Bytes eight(8, 0);
  auto f32 = [](const std::string &name, const std::string &shape,
                const std::string &offsets) {
    return "\"" + name + R"(":{"dtype":"F32","shape":)" + shape +
           R"(,"data_offsets":)" + offsets + "}";
  };
  EXPECT_EQ(parseError({1, 2, 3}),
            "ckpt: truncated: 3 bytes, a safetensors file starts with an "
            "8-byte header length");
  Bytes longHeader = craft("{}", {});
  longHeader[0] = 200;
  EXPECT_EQ(parseError(longHeader),
            "ckpt: header length 200 is larger than the file (2 bytes after "
            "the length): truncated or not a safetensors file");
  std::string corrupt = parseError(craft(R"({"a": {"dtype": "F32",)", eight));
  EXPECT_EQ(corrupt.rfind("ckpt: corrupt header JSON: ", 0), 0u) << corrupt;
  EXPECT_EQ(parseError(craft("[1, 2]", {})),
            "ckpt: the header is an array, expected a JSON object");
  EXPECT_EQ(parseError(craft("{" + f32("a", "[2]", "[0, 8]") + "," +
                                 f32("b", "[2]", "[4, 12]") + "}",
                             Bytes(12))),
            "ckpt: tensors 'a' and 'b' overlap: [0, 8) and [4, 12)");
  EXPECT_EQ(parseError(craft("{" + f32("a", "[2]", "[0, 8]") + "," +
                                 f32("b", "[2]", "[12, 20]") + "}",
                             Bytes(20))),
            "ckpt: bytes [8, 12) of the data, before tensor 'b', belong to no "
            "tensor");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[4]", "[0, 16]") + "}", eight)),
            "ckpt: tensor 'w': data_offsets [0, 16] run past the end of the "
            "data (8 bytes): the file is truncated");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[4]", "[0, 8]") + "}", eight)),
            "ckpt: tensor 'w': F32 [4] needs 16 bytes but data_offsets [0, 8] "
            "hold 8");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[2]", "[8, 0]") + "}", eight)),
            "ckpt: tensor 'w': data_offsets [8, 0] run backwards");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[1]", "[0, 4]") + "}", eight)),
            "ckpt: 4 bytes of trailing garbage after the last tensor's data");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[-2]", "[0, 8]") + "}", eight)),
            "ckpt: tensor 'w': shape holds a number that is not a dimension "
            "(a non-negative integer)");
  EXPECT_EQ(parseError(craft("{" + f32("w", "[2]", "[0]") + "}", eight)),
            "ckpt: tensor 'w': data_offsets must be two non-negative "
            "integers [begin, end]");
  EXPECT_EQ(
      parseError(craft(
          "{" + f32("w", "[4294967296, 4294967296]", "[0, 8]") + "}", eight)),
      "ckpt: tensor 'w': shape [4294967296, 4294967296] is implausibly "
      "large");
  EXPECT_EQ(parseError(craft(R"({"w":{"dtype":"Q7","shape":[2],)"
                             R"("data_offsets":[0,8]}})",
                             eight)),
            "ckpt: tensor 'w': unknown dtype 'Q7'");
  EXPECT_EQ(
      parseError(craft(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", eight)),
      "ckpt: tensor 'w': no dtype");
  EXPECT_EQ(parseError(craft(R"({"w":[1]})", {})),
            "ckpt: tensor 'w': expected an object with dtype, shape and "
            "data_offsets, found an array");
  EXPECT_EQ(parseError(craft(R"({"__metadata__":{"epoch":3}})", {})),
            "ckpt: __metadata__ entry 'epoch' is a number, expected a string");
  // A dtype nnc does not read still has its size checked, and loads
  // are refused only if the tensor is asked for.
  EXPECT_EQ(parseError(craft(R"({"h":{"dtype":"BF16","shape":[4],)"
                             R"("data_offsets":[0,8]}})",
                             eight)),
            "ok");
}

TEST(Checkpoint, TruncatedFileNamesTheTensor) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.params())));
  Bytes file = readFile(path);
  file.pop_back();
  writeFile(path, file);
  std::vector<float> w(6), b(2);
  EXPECT_EQ(loadError(path, {view("dense_1.weight", m.wType, w),
                             view("dense_1.bias", m.bType, b)}),
            path + ": tensor 'dense_1.bias': data_offsets [24, 32] run past "
                   "the end of the data (31 bytes): the file is truncated");
  EXPECT_EQ(loadError(dir.path("absent"), {}),
            dir.path("absent") +
                ": cannot read checkpoint: No such file or directory");
}

// Every truncation and random corruption of a valid checkpoint is either
// accepted as a well-formed file or refused with an error naming it.
TEST(Checkpoint, FuzzedFilesSucceedOrFailCleanly) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.withOptimizer(), {{"e", "1"}})));
  Bytes file = readFile(path);
  for (size_t n = 0; n < file.size(); ++n) {
    auto index =
        parseCheckpoint(llvm::ArrayRef<uint8_t>(file).take_front(n), "ckpt");
    EXPECT_FALSE(bool(index)) << "prefix of " << n << " bytes";
    if (!index)
      llvm::consumeError(index.takeError());
  }
  SplitMix64 rng(99);
  int successes = 0, failures = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes bytes = file;
    int flips = 1 + int(rng.next() % 3);
    for (int f = 0; f < flips; ++f)
      bytes[rng.next() % bytes.size()] = uint8_t(rng.next());
    auto index = parseCheckpoint(bytes, "ckpt");
    if (index) {
      ++successes;
      for (const CheckpointEntry &e : index->tensors)
        EXPECT_LE(index->dataStart + e.end, bytes.size());
      continue;
    }
    ++failures;
    std::string msg = llvm::toString(index.takeError());
    EXPECT_EQ(msg.rfind("ckpt: ", 0), 0u) << msg;
  }
  EXPECT_GT(successes, 100); // flips in the data
  EXPECT_GT(failures, 100);  // flips in the header
}

TEST(Checkpoint, RefusesToSaveInvalidTensors) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  auto saveError = [&](std::vector<ConstTensorView> tensors,
                       CheckpointMetadata metadata = {}) {
    llvm::Error e = saveCheckpoint(path, tensors, metadata);
    return e ? llvm::toString(std::move(e)) : "ok";
  };
  std::vector<float> five(5);
  EXPECT_EQ(saveError({constView("dense_1.weight", m.wType, five)}),
            "cannot save checkpoint " + path +
                ": tensor 'dense_1.weight' of type f32[3,2] needs 24 bytes, "
                "its buffer holds 20");
  EXPECT_EQ(saveError({constView("b", m.bType, m.bias),
                       constView("b", m.bType, m.bias)}),
            "cannot save checkpoint " + path + ": tensor 'b' is given twice");
  std::vector<uint8_t> bools(2);
  EXPECT_EQ(
      saveError({constView("mask", TensorType(ElementType::I1, {2}), bools)}),
      "cannot save checkpoint " + path +
          ": tensor 'mask' has type i1[2], which checkpoints do not "
          "store");
  EXPECT_EQ(saveError({constView("__metadata__", m.bType, m.bias)}),
            "cannot save checkpoint " + path +
                ": '__metadata__' is reserved for the metadata and cannot "
                "name a tensor");
  EXPECT_EQ(saveError({constView("", m.bType, m.bias)}),
            "cannot save checkpoint " + path + ": a tensor has an empty name");
  EXPECT_EQ(saveError({constView("\xff", m.bType, m.bias)}),
            "cannot save checkpoint " + path +
                ": tensor name '\xff' is not valid UTF-8");
  EXPECT_EQ(saveError({}, {{"note", "\xc3"}}),
            "cannot save checkpoint " + path +
                ": metadata entry 'note' is not valid UTF-8");
  EXPECT_EQ(dir.list(), std::vector<std::string>());
}

//===----------------------------------------------------------------------===//
// Atomic saving
//===----------------------------------------------------------------------===//

TEST(Checkpoint, OverwritingReplacesTheWholeFile) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.withOptimizer())));
  Model changed;
  changed.weight.assign(6, 4.0f);
  ASSERT_FALSE(bool(saveCheckpoint(path, changed.params())));
  std::vector<float> w(6), b(2);
  EXPECT_EQ(loadError(path, {view("dense_1.weight", m.wType, w),
                             view("dense_1.bias", m.bType, b)}),
            "ok");
  EXPECT_EQ(w, changed.weight);
  EXPECT_EQ(dir.list(), std::vector<std::string>({"m.safetensors"}));
}

TEST(Checkpoint, FailedSavesLeaveTheOldFileIntact) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.params())));
  Bytes before = readFile(path);

  // A buffer of the wrong size.
  std::vector<float> five(5);
  llvm::Error bad =
      saveCheckpoint(path, {constView("dense_1.weight", m.wType, five)});
  ASSERT_TRUE(bool(bad));
  llvm::consumeError(std::move(bad));
  EXPECT_EQ(readFile(path), before);

  // The write itself fails part way: the file-size limit stops it after
  // 64 bytes, as a full disk would.
  std::vector<float> big(4096, 1.0f);
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limit = old;
  limit.rlim_cur = 64;
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  llvm::Error full = saveCheckpoint(
      path, {constView("big", TensorType(ElementType::F32, {4096}), big)});
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);
  ASSERT_TRUE(bool(full));
  std::string msg = llvm::toString(std::move(full));
  EXPECT_EQ(msg.rfind("cannot save checkpoint " + path + ": writing ", 0), 0u)
      << msg;
  EXPECT_NE(msg.find("File too large"), std::string::npos) << msg;
  EXPECT_EQ(readFile(path), before);
  EXPECT_EQ(dir.list(), std::vector<std::string>({"m.safetensors"}))
      << "the temporary file must be removed";
}

TEST(Checkpoint, DirectoryTargetIsRefusedAndLeavesNoTemporaryFile) {
  ScratchDir dir;
  Model m;
  ASSERT_FALSE(llvm::sys::fs::create_directory(dir.path("taken")));
  writeFile(dir.path("taken/inside"), {1, 2, 3});
  llvm::Error e = saveCheckpoint(dir.path("taken"), m.params());
  ASSERT_TRUE(bool(e));
  EXPECT_EQ(llvm::toString(std::move(e)),
            "cannot save checkpoint " + dir.path("taken") + ": " +
                dir.path("taken") + " is a directory");
  EXPECT_EQ(dir.list(), std::vector<std::string>({"taken"}));
  EXPECT_EQ(readFile(dir.path("taken/inside")), Bytes({1, 2, 3}));
}

TEST(Checkpoint, MissingDirectoryIsAnError) {
  ScratchDir dir;
  Model m;
  std::string path = dir.path("no/such/dir/m.safetensors");
  llvm::Error e = saveCheckpoint(path, m.params());
  ASSERT_TRUE(bool(e));
  EXPECT_EQ(llvm::toString(std::move(e)),
            "cannot save checkpoint " + path + ": the directory " +
                dir.path("no/such/dir") + " does not exist");
}

TEST(Checkpoint, ReadOnlyDirectoryIsAnError) {
  if (geteuid() == 0)
    GTEST_SKIP() << "root writes into read-only directories; the file-size "
                    "limit test covers failed writes";
  ScratchDir dir;
  Model m;
  std::string path = dir.path("m.safetensors");
  ASSERT_FALSE(bool(saveCheckpoint(path, m.params())));
  Bytes before = readFile(path);
  ASSERT_FALSE(llvm::sys::fs::setPermissions(
      dir.path(), llvm::sys::fs::owner_read | llvm::sys::fs::owner_exe));
  llvm::Error e = saveCheckpoint(path, m.withOptimizer());
  llvm::sys::fs::setPermissions(dir.path(), llvm::sys::fs::owner_all);
  ASSERT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e)).find("Permission denied"),
            std::string::npos);
  EXPECT_EQ(readFile(path), before);
}
