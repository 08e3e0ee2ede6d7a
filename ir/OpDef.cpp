//===- OpDef.cpp - The op table and signature checking --------------------===//
#include "ir/OpDef.h"
#include "ir/ops/OpRegistration.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"

#include <array>

namespace nnc {

namespace {
struct OpTable {
  std::vector<OpDef> defs; // indexed by OpKind

  OpTable() {
    defs.resize(kNumOpKinds);
    std::vector<bool> seen(kNumOpKinds, false);
    OpRegistry add = [&](OpDef def) {
      unsigned k = unsigned(def.kind);
      if (seen[k])
        llvm::report_fatal_error("op defined twice: " + def.name);
      seen[k] = true;
      defs[k] = std::move(def);
    };
    registerStructuralOps(add);
    registerElementwiseOps(add);
    registerDataMovementOps(add);
    registerReductionOps(add);
    registerContractionOps(add);
    registerNeuralNetOps(add);
    registerCollectiveOps(add);
    registerConvolutionOps(add);
    registerPoolingOps(add);
    registerPatchOps(add);
    registerRandomOps(add);
    for (unsigned k = 0; k < kNumOpKinds; ++k)
      if (!seen[k])
        llvm::report_fatal_error("op kind " + llvm::Twine(k) +
                                 " listed in Ops.def has no definition");
  }
};

const OpTable &table() {
  static const OpTable t;
  return t;
}
} // namespace

llvm::StringRef opRoleName(OpRole r) {
  switch (r) {
  case OpRole::Storage:
    return "storage";
  case OpRole::Compute:
    return "compute";
  case OpRole::Structure:
    return "structure";
  }
  return "?";
}

const AttrSpec *OpDef::findAttr(llvm::StringRef attrName) const {
  for (const AttrSpec &spec : attrs)
    if (spec.name == attrName)
      return &spec;
  return nullptr;
}

const OpDef &getOpDef(OpKind kind) { return table().defs[unsigned(kind)]; }

const OpDef *lookupOpDef(llvm::StringRef name) {
  for (const OpDef &def : table().defs)
    if (def.name == name)
      return &def;
  return nullptr;
}

llvm::ArrayRef<OpDef> allOpDefs() { return table().defs; }

llvm::Error opError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error checkAttributes(const OpDef &def, AttrDict &attrs) {
  for (const auto &[name, value] : attrs) {
    const AttrSpec *spec = def.findAttr(name);
    if (!spec) {
      std::string known;
      for (const AttrSpec &s : def.attrs)
        known += (known.empty() ? "" : ", ") + s.name.str();
      return opError("unknown attribute '" + name + "'" +
                     (known.empty() ? " (the op takes none)"
                                    : " (expected one of: " + known + ")"));
    }
  }
  for (const AttrSpec &spec : def.attrs) {
    const Attribute *value = attrs.get(spec.name);
    if (!value) {
      if (spec.presence == AttrPresence::Required)
        return opError("requires attribute '" + spec.name + "'");
      if (spec.presence == AttrPresence::Defaulted)
        attrs.set(spec.name, *spec.defaultValue);
      continue;
    }
    Attribute coerced = *value;
    if (!coerced.coerceTo(spec.kind))
      return opError("attribute '" + spec.name + "' must be " +
                     attrKindName(spec.kind) + ", got " +
                     attrKindName(value->kind()) + " " + value->str());
    attrs.set(spec.name, std::move(coerced));
  }
  return llvm::Error::success();
}

llvm::Expected<llvm::SmallVector<TensorType, 1>>
checkSignature(const OpDef &def, llvm::ArrayRef<TensorType> operandTypes,
               AttrDict &attrs, llvm::ArrayRef<TensorType> declared) {
  unsigned n = operandTypes.size();
  if (n < def.minOperands || n > def.maxOperands) {
    std::string expected = def.minOperands == def.maxOperands
                               ? std::to_string(def.minOperands)
                           : def.maxOperands == kVariadic
                               ? "at least " + std::to_string(def.minOperands)
                               : std::to_string(def.minOperands) + " to " +
                                     std::to_string(def.maxOperands);
    return opError("expects " + expected + " operand" +
                   (expected == "1" ? "" : "s") + ", got " + llvm::Twine(n));
  }
  if (def.takesResultType && declared.empty())
    return opError("needs its result type written out");
  if (llvm::Error err = checkAttributes(def, attrs))
    return err;
  return def.infer(OpSignature{operandTypes, attrs, declared});
}

} // namespace nnc
