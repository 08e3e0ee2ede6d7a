//===- Arguments.h - Matching call arguments and reading constants --------===//
//
// Every call in a model file -- a function, a layer, a loss, an optimizer, a
// data set -- is checked against a Signature: parameters in positional
// order, each of which may also be passed by keyword, as in Python. Then the
// arguments that are compile-time constants (units, shapes, axes,
// initializers, hyper-parameters) are read by ConstantReader, which reports
// a wrong kind of value at the argument that has it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_ARGUMENTS_H
#define NNC_FRONTEND_ARGUMENTS_H

#include "frontend/AST.h"
#include "ir/Diagnostics.h"
#include "ir/Initializer.h"
#include "ir/Types.h"

#include <climits>
#include <optional>

namespace nnc::nn {

/// The largest tensors nnc compiles, the limits of the IR's parser too: a
/// dimension is at most kMaxDimension, a tensor has at most kMaxElements.
constexpr int64_t kMaxDimension = INT32_MAX;
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// The number of elements of `shape`, or nullopt if a dimension is not
/// positive or is over kMaxDimension, or the total is over kMaxElements.
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// "(at most 2147483647 per dimension and 1099511627776 elements)".
std::string sizeLimits();

struct ParamSpec {
  llvm::StringRef name;
  bool required = true;
};

struct Signature {
  llvm::StringRef callee;
  std::vector<ParamSpec> params;

  /// `dense(x, units, activation=, name=)`: optional parameters end in '='.
  std::string str() const;
};

/// The arguments of one call, matched to the parameters of its signature.
class BoundArgs {
public:
  /// The expression passed for `param`, or null if it was not passed.
  const ast::Expr *get(llvm::StringRef param) const;
  const Location &callLoc() const { return loc; }

private:
  friend std::optional<BoundArgs>
  bindArguments(const ast::Expr &, const Signature &, DiagnosticEngine &);
  Location loc;
  std::vector<std::pair<llvm::StringRef, const ast::Expr *>> args;
};

/// Matches the arguments of `call` (a CallExpr, or a NameExpr standing for a
/// call without arguments, as in `optimizer adam`) to `sig`. Reports too
/// many arguments, missing required ones, unknown keywords (with a
/// suggestion) and arguments given twice; returns nullopt then.
std::optional<BoundArgs> bindArguments(const ast::Expr &call,
                                       const Signature &sig,
                                       DiagnosticEngine &diag);

/// Reads compile-time constants out of expressions. `what` names the value
/// in errors: "the units of 'dense'".
class ConstantReader {
public:
  /// `batch` is the batch size where it is known (in a model), else null.
  ConstantReader(DiagnosticEngine &diag, std::optional<int64_t> batch)
      : diag(diag), batch(batch) {}

  /// An integer: a literal, `batch`, or + - * of those.
  std::optional<int64_t> integer(const ast::Expr &e, const llvm::Twine &what);
  /// A number: an integer or float literal, or + - * / of those.
  std::optional<double> number(const ast::Expr &e, const llvm::Twine &what);
  std::optional<bool> boolean(const ast::Expr &e, const llvm::Twine &what);
  std::optional<std::string> string(const ast::Expr &e,
                                    const llvm::Twine &what);
  /// One of `choices`, written as a bare name (`relu`, `f32`).
  std::optional<std::string> choice(const ast::Expr &e,
                                    llvm::ArrayRef<std::string> choices,
                                    const llvm::Twine &what);
  /// A list of integers, or a single integer (taken as a list of one when
  /// `allowScalar`).
  std::optional<std::vector<int64_t>>
  integerList(const ast::Expr &e, const llvm::Twine &what, bool allowScalar);
  /// A list of positive dimensions (`batch` allowed); with `inferOne`, one of
  /// them may be -1, returned as -1 for the caller to infer. Rejects shapes
  /// over the size limits.
  std::optional<Shape> shape(const ast::Expr &e, const llvm::Twine &what,
                             bool inferOne = false);
  /// `glorot_uniform`, `normal(0.05)`, ...: the IR's initializers, checked
  /// by ir/Initializer.h.
  std::optional<Initializer> initializer(const ast::Expr &e);

  DiagnosticEngine &diagnostics() { return diag; }

private:
  std::optional<double> fold(const ast::Expr &e, const llvm::Twine &what,
                             bool wantInteger);
  void mismatch(const ast::Expr &e, const llvm::Twine &expected,
                const llvm::Twine &what);

  DiagnosticEngine &diag;
  std::optional<int64_t> batch;
};

/// How an expression reads in an error: "the name 'h'", "a list".
std::string describeExpr(const ast::Expr &e);

} // namespace nnc::nn

#endif // NNC_FRONTEND_ARGUMENTS_H
