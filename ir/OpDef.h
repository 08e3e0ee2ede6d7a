//===- OpDef.h - The single definition of each graph IR op ------*- C++ -*-===//
//
// Each op is defined once, by an OpDef in ir/ops/: its operands and
// attributes, its type rule (which is also its verifier), its reference
// semantics, its gradient rule, its local simplifications and its structured
// description (ir/Structured.h), from which the kernel forms and fusion read
// what the op does to elements. The parser, verifier, interpreter, autodiff,
// canonicaliser and fusion pass all read this table; none of them switches
// over op kinds.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_OPDEF_H
#define NNC_IR_OPDEF_H

#include "ir/Attributes.h"
#include "ir/Structured.h"
#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <climits>
#include <optional>
#include <vector>

namespace nnc {

class Op;
class Value;
class Builder;
struct HostTensor;
class GradContext;

enum class OpKind : uint16_t {
#define NNC_OP(Kind, Name) Kind,
#include "ir/Ops.def"
};

constexpr unsigned kNumOpKinds = 0
#define NNC_OP(Kind, Name) +1
#include "ir/Ops.def"
    ;

/// What an op is for. Which kernels a computing op can join is not
/// declared: it is read off the op's structured description
/// (ir/StructureMatch.h).
enum class OpRole : uint8_t {
  Storage,   ///< param, state, constant: values, not computation.
  Compute,   ///< a structured description, or a declared exception.
  Structure, ///< assign, return, kernel, yield: ordering and grouping.
};

llvm::StringRef opRoleName(OpRole r);

enum class AttrPresence { Required, Optional, Defaulted };

struct AttrSpec {
  llvm::StringRef name;
  AttrKind kind;
  AttrPresence presence = AttrPresence::Required;
  /// The value an omitted Defaulted attribute takes; the printer omits an
  /// attribute equal to it, so parsing the output gives the same op.
  std::optional<Attribute> defaultValue = std::nullopt;

  static AttrSpec required(llvm::StringRef name, AttrKind kind) {
    return {name, kind, AttrPresence::Required};
  }
  static AttrSpec optional(llvm::StringRef name, AttrKind kind) {
    return {name, kind, AttrPresence::Optional};
  }
  static AttrSpec defaulted(llvm::StringRef name, Attribute value) {
    AttrKind kind = value.kind();
    return {name, kind, AttrPresence::Defaulted, std::move(value)};
  }
};

/// What a type rule sees: operand types, attributes (defaults filled in) and
/// the result types written in the source, which ops such as reshape and cast
/// take as their target.
struct OpSignature {
  llvm::ArrayRef<TensorType> operands;
  const AttrDict &attrs;
  llvm::ArrayRef<TensorType> declared;
};

using InferFn =
    llvm::Expected<llvm::SmallVector<TensorType, 1>> (*)(const OpSignature &);
using EvalFn = llvm::Error (*)(const Op &op,
                               llvm::ArrayRef<const HostTensor *> operands,
                               llvm::MutableArrayRef<HostTensor> results);
using GradFn = void (*)(GradContext &ctx);
/// Returns a value to replace the op's single result with, or null. It may
/// create new ops through the builder, which is positioned before the op.
using FoldFn = Value *(*)(Op &op, Builder &b);

constexpr unsigned kVariadic = UINT_MAX;

struct OpDef {
  OpKind kind = OpKind::Param;
  llvm::StringRef name = {};
  llvm::StringRef summary = {};
  unsigned minOperands = 0;
  unsigned maxOperands = 0;
  unsigned numResults = 1; ///< kVariadic for kernel.
  OpRole role = OpRole::Compute;
  /// True when the result type is part of the op's meaning (reshape's target
  /// shape, cast's element type, a parameter's type) rather than derived from
  /// its operands; builders must then pass it.
  bool takesResultType = false;
  /// True for ops that must not be removed or reordered even when unused.
  bool hasSideEffects = false;
  /// True when swapping the two operands gives the same result (CSE uses it).
  bool commutative = false;
  std::vector<AttrSpec> attrs = {};
  InferFn infer = nullptr;
  EvalFn eval = nullptr; ///< null for structural ops the interpreter handles.
  GradFn grad = nullptr; ///< null: not differentiable.
  FoldFn fold = nullptr;
  /// The op's loop structure (ir/Structured.h); null for ops that do not
  /// compute, and for the exceptions that keep a hand-written lowering.
  StructureFn structure = nullptr;

  const AttrSpec *findAttr(llvm::StringRef attrName) const;
};

const OpDef &getOpDef(OpKind kind);
const OpDef *lookupOpDef(llvm::StringRef name);
llvm::ArrayRef<OpDef> allOpDefs();

/// Makes the llvm::Error that type rules return; the verifier prefixes it with
/// the op's name and location.
llvm::Error opError(const llvm::Twine &message);

/// Checks `attrs` against the op's attribute specs (unknown names, missing
/// required ones, kinds) and fills in defaults.
llvm::Error checkAttributes(const OpDef &def, AttrDict &attrs);

/// Checks a whole op signature: operand count, attributes (defaults filled in)
/// and the type rule. Returns the result types. `declared` holds the result
/// types written in the source, or is empty when the caller has none.
llvm::Expected<llvm::SmallVector<TensorType, 1>>
checkSignature(const OpDef &def, llvm::ArrayRef<TensorType> operandTypes,
               AttrDict &attrs, llvm::ArrayRef<TensorType> declared);

} // namespace nnc

#endif // NNC_IR_OPDEF_H
