//===- LoweringContext.h - What functions and layers lower with -*- C++ -*-===//
//
// The tables of functions (Functions.h), layers (Layers.h) and losses and
// metrics (Objectives.h) lower their calls through this interface, which
// ModelLowering implements: lowering sub-expressions, creating ops at the
// user's source (a type error becomes a diagnostic there), and creating
// parameters. CallContext bundles one call with its matched arguments.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_LOWERINGCONTEXT_H
#define NNC_FRONTEND_LOWERINGCONTEXT_H

#include "frontend/Arguments.h"
#include "ir/Graph.h"

namespace nnc::nn {

/// Where an operand came from, for the notes under a type error:
/// "f32[32,784] is 'h', defined here".
struct Origin {
  Location loc;
  std::string description; ///< "'h', defined here", "the result of '@' here"
};

/// A lowered value and where it came from.
struct Operand {
  Value *value = nullptr;
  Origin origin;
};

class LoweringContext {
public:
  virtual ~LoweringContext() = default;

  virtual DiagnosticEngine &diag() = 0;
  virtual int64_t batchSize() const = 0;
  virtual ConstantReader &constants() = 0;

  /// Lowers an expression that must be a tensor. Returns nullopt on failure,
  /// which has been reported (or follows from an error reported earlier).
  virtual std::optional<Operand> lowerTensor(const ast::Expr &e) = 0;

  /// Lowers the two operands of an element-wise op; a number literal takes
  /// the element type of the other operand (`y + 1` with `y` i32).
  virtual std::optional<std::pair<Operand, Operand>>
  lowerOperands(const ast::Expr &a, const ast::Expr &b) = 0;

  /// Creates an op at `loc`. A type error is reported there, framed in the
  /// user's terms, with a note giving each operand's type and origin.
  /// `what` names the construct for the result's origin: "'@'", "'dense'".
  virtual std::optional<Operand>
  emit(OpKind kind, llvm::ArrayRef<Operand> operands, const Location &loc,
       llvm::StringRef what, AttrDict attrs = {},
       llvm::ArrayRef<TensorType> declared = {}) = 0;

  /// Creates a trainable parameter among the parameters at the top of the
  /// graph. A name used before is an error naming both places.
  virtual std::optional<Operand> createParam(const std::string &name,
                                             const TensorType &type,
                                             const Initializer &init,
                                             const Location &loc) = 0;

  /// The name the statement being lowered binds (`w1` in `w1 = param(...)`),
  /// or "" in a loss or metric.
  virtual llvm::StringRef boundName() const = 0;

  /// True when lowering the training step's forward graph (dropout drops,
  /// batch_norm uses and updates batch statistics); false for evaluation
  /// and inference.
  virtual bool training() const = 0;
  /// The run's seed, which keys the training step's random numbers.
  virtual uint64_t seed() const = 0;

  /// Creates a non-trainable state variable among the parameters at the
  /// top of the graph.
  virtual Value *createState(const std::string &name, const TensorType &type,
                             llvm::StringRef init, const Location &loc) = 0;
  /// Gives `variable` the value `value` for the next step.
  virtual void assign(Value *variable, Value *value, const Location &loc) = 0;
  /// The training step's counter (i32[], 0 at the first step), created with
  /// its increment on first use: the `step` of random_uniform.
  virtual Value *stepCounter(const Location &loc) = 0;
};

/// One call being lowered: its arguments matched to the callee's signature.
class CallContext {
public:
  CallContext(LoweringContext &lc, const ast::CallExpr &call, BoundArgs args)
      : lc(lc), call(call), args(std::move(args)) {}
  virtual ~CallContext() = default;

  LoweringContext &lowering() { return lc; }
  const ast::CallExpr &expr() const { return call; }
  const Location &loc() const { return call.loc(); }
  llvm::StringRef callee() const { return call.getCallee(); }
  /// "'dense'": how the call names itself in the origin of its results.
  std::string quotedCallee() const { return "'" + call.getCallee() + "'"; }

  /// The expression passed for `param`, or null.
  const ast::Expr *arg(llvm::StringRef param) const { return args.get(param); }

  /// The tensor passed for `param` (which must have been passed).
  std::optional<Operand> tensor(llvm::StringRef param);
  /// The integer passed for `param`, or `fallback` if it was not passed.
  std::optional<int64_t> integer(llvm::StringRef param,
                                 std::optional<int64_t> fallback = {});
  std::optional<bool> boolean(llvm::StringRef param, bool fallback);
  /// The number passed for `param`, or `fallback` if it was not passed.
  std::optional<double> number(llvm::StringRef param, double fallback);
  /// One of `choices`, or `fallback` if not passed.
  std::optional<std::string> choice(llvm::StringRef param,
                                    llvm::ArrayRef<std::string> choices,
                                    llvm::StringRef fallback);
  /// "the units of 'dense'": how errors name an argument.
  std::string describeArg(llvm::StringRef param) const {
    return "'" + param.str() + "' of '" + call.getCallee() + "'";
  }

  /// Creates an op at the call's location.
  std::optional<Operand> emit(OpKind kind, llvm::ArrayRef<Operand> operands,
                              AttrDict attrs = {},
                              llvm::ArrayRef<TensorType> declared = {}) {
    return lc.emit(kind, operands, loc(), quotedCallee(), std::move(attrs),
                   declared);
  }

  /// Creates a constant of `type` at the call: every element `value`.
  std::optional<Operand> constant(double value, const TensorType &type);
  /// Creates a constant of `type` at the call, element by element.
  std::optional<Operand> constant(llvm::ArrayRef<double> values,
                                  const TensorType &type);

  /// Reports an error at the call.
  void error(const llvm::Twine &msg) { lc.diag().error(loc(), msg); }
  /// Reports an error at the argument passed for `param`, with a note
  /// saying where its value came from.
  void errorAt(llvm::StringRef param, const Operand &value,
               const llvm::Twine &msg);

private:
  LoweringContext &lc;
  const ast::CallExpr &call;
  BoundArgs args;
};

/// Normalises a possibly negative axis of `x` named by the expression `at`;
/// reports an out-of-range axis there.
std::optional<int64_t> normalizeAxisAt(int64_t axis, const Operand &x,
                                       const ast::Expr &at,
                                       DiagnosticEngine &diag);

} // namespace nnc::nn

#endif // NNC_FRONTEND_LOWERINGCONTEXT_H
