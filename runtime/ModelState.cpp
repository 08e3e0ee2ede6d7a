//===- ModelState.cpp - The variables of a model in memory ----------------===//
#include "runtime/ModelState.h"

#include "ir/Initializer.h"
#include "runtime/Checkpoint.h"
#include "runtime/Random.h"

#include <cmath>

namespace nnc {

namespace {

uint64_t fnv1a(llvm::StringRef s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001B3ull;
  return h;
}

/// Keras scales truncated normals so that their standard deviation, not the
/// underlying normal's, is the one asked for.
constexpr double kTruncatedStddev = 0.87962566103423978;

} // namespace

double loadElement(const void *base, ElementType e, int64_t i) {
  switch (e) {
  case ElementType::F32:
    return static_cast<const float *>(base)[i];
  case ElementType::F64:
    return static_cast<const double *>(base)[i];
  case ElementType::I32:
    return static_cast<const int32_t *>(base)[i];
  case ElementType::I1:
  case ElementType::U8:
    return static_cast<const uint8_t *>(base)[i];
  }
  return 0;
}

void storeElement(void *base, ElementType e, int64_t i, double v) {
  switch (e) {
  case ElementType::F32:
    static_cast<float *>(base)[i] = float(v);
    return;
  case ElementType::F64:
    static_cast<double *>(base)[i] = v;
    return;
  case ElementType::I32:
    static_cast<int32_t *>(base)[i] = int32_t(v);
    return;
  case ElementType::I1:
  case ElementType::U8:
    static_cast<uint8_t *>(base)[i] = uint8_t(v);
    return;
  }
}

llvm::Expected<ModelState> ModelState::create(StateLayout layout) {
  auto block = AlignedBuffer::allocate(
      size_t(layout.byteSize()),
      "the model's variables (parameters and optimizer state)");
  if (!block)
    return block.takeError();
  return ModelState(std::move(layout), std::move(*block));
}

ModelState::ModelState(StateLayout layout)
    : stateLayout(std::move(layout)), block(stateLayout.byteSize()) {}

llvm::Error ModelState::initialize(uint64_t seed) {
  for (const StateLayout::Entry &e : stateLayout.entries()) {
    auto init = parseInitializer(e.init);
    if (!init)
      return init.takeError();
    SplitMix64 rng(seed ^ fnv1a(e.name));
    auto [fanIn, fanOut] = computeFans(e.type.shape());
    void *base = data(e);
    for (int64_t i = 0; i < e.type.numElements(); ++i) {
      double v = 0;
      switch (init->kind) {
      case Initializer::Kind::Zeros:
        v = 0;
        break;
      case Initializer::Kind::Ones:
        v = 1;
        break;
      case Initializer::Kind::Constant:
        v = init->a;
        break;
      case Initializer::Kind::Uniform:
        v = init->a + (init->b - init->a) * rng.uniform();
        break;
      case Initializer::Kind::Normal:
        v = init->a + init->b * rng.normal();
        break;
      case Initializer::Kind::GlorotUniform:
      case Initializer::Kind::HeUniform: {
        double limit = init->kind == Initializer::Kind::GlorotUniform
                           ? std::sqrt(6.0 / (fanIn + fanOut))
                           : std::sqrt(6.0 / fanIn);
        v = limit * (2.0 * rng.uniform() - 1.0);
        break;
      }
      case Initializer::Kind::GlorotNormal:
      case Initializer::Kind::HeNormal: {
        double stddev = init->kind == Initializer::Kind::GlorotNormal
                            ? std::sqrt(2.0 / (fanIn + fanOut))
                            : std::sqrt(2.0 / fanIn);
        v = stddev / kTruncatedStddev * rng.truncatedNormal();
        break;
      }
      }
      storeElement(base, e.type.element(), i, v);
    }
  }
  return llvm::Error::success();
}

HostTensor ModelState::read(const StateLayout::Entry &e) const {
  HostTensor t(e.type);
  for (int64_t i = 0; i < t.size(); ++i)
    t[i] = loadElement(data(e), e.type.element(), i);
  return t;
}

void ModelState::write(const StateLayout::Entry &e, const HostTensor &t) {
  for (int64_t i = 0; i < t.size(); ++i)
    storeElement(data(e), e.type.element(), i, t[i]);
}

llvm::Error saveModelState(const ModelState &state, llvm::StringRef path,
                           const CheckpointMetadata &metadata) {
  std::vector<ConstTensorView> views;
  for (const StateLayout::Entry &e : state.layout().entries())
    views.push_back({e.name, e.type, state.data(e), size_t(e.type.byteSize())});
  return saveCheckpoint(path, views, metadata);
}

bool isOptimizerState(llvm::StringRef name) {
  return name.starts_with("adam.") || name.starts_with("sgd.") ||
         name == "dropout.step";
}

llvm::Expected<std::vector<std::string>>
loadModelState(ModelState &state, llvm::StringRef path, LoadScope scope,
               CheckpointMetadata *metadata) {
  auto index = readCheckpointIndex(path);
  if (!index)
    return index.takeError();
  std::vector<TensorView> views;
  std::vector<std::string> names;
  for (const StateLayout::Entry &e : state.layout().entries()) {
    bool wanted = false;
    switch (scope) {
    case LoadScope::Everything:
      wanted = true;
      break;
    case LoadScope::WeightsAndOptimizer:
      wanted = e.trainable || index->find(e.name);
      break;
    case LoadScope::Weights:
      wanted =
          e.trainable || (!isOptimizerState(e.name) && index->find(e.name));
      break;
    }
    if (!wanted)
      continue;
    views.push_back({e.name, e.type, state.data(e), size_t(e.type.byteSize())});
    names.push_back(e.name);
  }
  CheckpointLoadOptions options;
  options.allowExtraTensors = scope == LoadScope::Weights;
  if (llvm::Error err = loadCheckpoint(path, views, options, metadata))
    return std::move(err);
  return names;
}

} // namespace nnc
