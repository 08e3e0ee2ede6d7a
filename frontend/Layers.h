//===- Layers.h - Layers: calls that create their own parameters ----------===//
//
// A layer is sugar over `param` and the primitive functions: `dense` creates
// `<name>.weight` and `<name>.bias` through the same parameter mechanism as
// `param(...)` and builds the same ops as `x @ w + b`, so the two spellings
// lower to identical IR. Every layer is a row of one table -- its signature,
// and a build function that receives a LayerContext (LayerBuilders.h).
//
// Layers are named as in Keras: the first unnamed dense layer is `dense_1`,
// the second `dense_2`, one counter per layer kind in order of appearance;
// `name="..."` overrides. Parameter names are `<layer>.<suffix>`.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_LAYERS_H
#define NNC_FRONTEND_LAYERS_H

#include "frontend/LoweringContext.h"

#include "llvm/ADT/StringMap.h"

namespace nnc::nn {

/// A layer call being lowered, with the layer's name.
class LayerContext : public CallContext {
public:
  LayerContext(LoweringContext &lc, const ast::CallExpr &call, BoundArgs args,
               std::string layerName)
      : CallContext(lc, call, std::move(args)), name(std::move(layerName)) {}

  const std::string &layerName() const { return name; }

  /// Creates the parameter `<layer name>.<suffix>`.
  std::optional<Operand> param(llvm::StringRef suffix,
                               llvm::ArrayRef<int64_t> shape,
                               const Initializer &init);
  /// Creates the non-trainable f32 state `<layer name>.<suffix>`.
  Value *state(llvm::StringRef suffix, llvm::ArrayRef<int64_t> shape,
               llvm::StringRef init);

private:
  std::string name;
};

struct LayerDef {
  /// The call's name and the stem of automatic names ("dense").
  llvm::StringRef kind;
  /// The layer's own parameters; every layer also takes `name=`, appended
  /// by lowerLayerCall.
  std::vector<ParamSpec> params;
  std::optional<Operand> (*build)(LayerContext &layer);
  llvm::StringRef summary;

  /// The full signature, `name=` included.
  Signature signature() const;
};

llvm::ArrayRef<LayerDef> allLayers();
const LayerDef *lookupLayer(llvm::StringRef kind);

/// Hands out Keras-style automatic layer names.
class LayerNamer {
public:
  /// The next name for an unnamed layer of `kind`: kind_1, kind_2, ...
  std::string next(llvm::StringRef kind);

private:
  llvm::StringMap<unsigned> counts;
};

/// Lowers a call to a layer: matches its arguments, names it (from `name=`
/// or `namer`) and builds it.
std::optional<Operand> lowerLayerCall(const LayerDef &def,
                                      const ast::CallExpr &call,
                                      LoweringContext &lc, LayerNamer &namer);

} // namespace nnc::nn

#endif // NNC_FRONTEND_LAYERS_H
