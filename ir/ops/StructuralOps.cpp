//===- StructuralOps.cpp - State, constants, assignment and grouping ------===//
//
// `param` and `state` are the variables of a training step: they read the
// value the variable had when the step began. `assign` gives a variable its
// value for the next step. `return` ends a graph; `kernel` groups fused ops
// into one body that ends in `yield`.
//
//===----------------------------------------------------------------------===//
#include "ir/Initializer.h"
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferVariable(const OpSignature &sig,
                                                 bool trainable) {
  const TensorType &type = sig.declared[0];
  if (sig.attrs.getString("name").empty())
    return opError("needs a non-empty name");
  if (trainable)
    if (llvm::Error err = requireFloat(type, "a trainable parameter"))
      return err;
  auto init = parseInitializer(sig.attrs.getString("init"));
  if (!init)
    return init.takeError();
  return result(type);
}

static llvm::Expected<ResultTypes> inferConstant(const OpSignature &sig) {
  const TensorType &type = sig.declared[0];
  bool splat = sig.attrs.has("value"), dense = sig.attrs.has("values");
  if (splat == dense)
    return opError("needs exactly one of 'value' (every element) and "
                   "'values' (each element)");
  if (dense) {
    size_t n = sig.attrs.get("values")->getFloatList().size();
    if (int64_t(n) != type.numElements())
      return opError("has " + llvm::Twine(n) + " values for type " +
                     type.str() + " of " + llvm::Twine(type.numElements()) +
                     " elements");
  }
  return result(type);
}

static llvm::Error evalConstant(const Op &op,
                                llvm::ArrayRef<const HostTensor *>,
                                llvm::MutableArrayRef<HostTensor> results) {
  HostTensor &out = results[0];
  if (const Attribute *value = op.attrs().get("value"))
    std::fill(out.data.begin(), out.data.end(), value->getFloat());
  else
    out.data = op.attrs().get("values")->getFloatList();
  return llvm::Error::success();
}

static llvm::Expected<ResultTypes> inferAssign(const OpSignature &sig) {
  if (sig.operands[0] != sig.operands[1])
    return opError("assigns a value of type " + sig.operands[1].str() +
                   " to a variable of type " + sig.operands[0].str());
  return ResultTypes{};
}

static llvm::Expected<ResultTypes> inferNothing(const OpSignature &) {
  return ResultTypes{};
}

static llvm::Expected<ResultTypes> inferKernel(const OpSignature &sig) {
  if (sig.attrs.getString("name").empty())
    return opError("needs a non-empty name");
  return ResultTypes(sig.declared.begin(), sig.declared.end());
}

void registerStructuralOps(const OpRegistry &add) {
  for (bool trainable : {true, false})
    add(OpDef{
        .kind = trainable ? OpKind::Param : OpKind::State,
        .name = trainable ? "param" : "state",
        .summary = trainable ? "a trainable variable, read at step start"
                             : "a non-trainable variable (optimizer state)",
        .numResults = 1,
        .role = OpRole::Storage,
        .takesResultType = true,
        .attrs = {AttrSpec::required("name", AttrKind::String),
                  AttrSpec::defaulted("init", "zeros")},
        .infer =
            trainable
                ? +[](const OpSignature &s) { return inferVariable(s, true); }
                : +[](const OpSignature &s) { return inferVariable(s, false); },
    });
  add(OpDef{.kind = OpKind::Constant,
            .name = "constant",
            .summary = "a tensor of compile-time values",
            .numResults = 1,
            .role = OpRole::Storage,
            .takesResultType = true,
            .attrs = {AttrSpec::optional("value", AttrKind::Float),
                      AttrSpec::optional("values", AttrKind::FloatList)},
            .infer = inferConstant,
            .eval = evalConstant});
  add(OpDef{.kind = OpKind::Assign,
            .name = "assign",
            .summary = "sets a variable's value for the next step",
            .minOperands = 2,
            .maxOperands = 2,
            .numResults = 0,
            .role = OpRole::Structure,
            .hasSideEffects = true,
            .infer = inferAssign});
  add(OpDef{.kind = OpKind::Return,
            .name = "return",
            .summary = "ends a graph with its named results",
            .maxOperands = kVariadic,
            .numResults = 0,
            .role = OpRole::Structure,
            .hasSideEffects = true,
            .infer = inferNothing});
  add(OpDef{.kind = OpKind::Kernel,
            .name = "kernel",
            .summary = "fused ops compiled as one loop nest",
            .maxOperands = kVariadic,
            .numResults = kVariadic,
            .role = OpRole::Structure,
            .takesResultType = true,
            .attrs = {AttrSpec::required("name", AttrKind::String)},
            .infer = inferKernel});
  add(OpDef{.kind = OpKind::Yield,
            .name = "yield",
            .summary = "ends a kernel body with the kernel's results",
            .maxOperands = kVariadic,
            .numResults = 0,
            .role = OpRole::Structure,
            .hasSideEffects = true,
            .infer = inferNothing});
}

} // namespace nnc
