//===- AST.h - Syntax tree of the .nn model language ------------*- C++ -*-===//
//
// The parser builds this tree; lowering reads it. Every node carries the
// location of the text it came from, which lowering stamps on the ops it
// builds and uses for every error. Expressions are uniform (numbers, names,
// calls, lists, operators): what an argument means -- a tensor, a shape, an
// initializer, an activation -- is decided by the function it is passed to.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_AST_H
#define NNC_FRONTEND_AST_H

#include "ir/Location.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nnc::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind {
    Number,
    String,
    Name,
    Batch,
    Bool,
    Negate,
    Binary,
    Call,
    List
  };

  virtual ~Expr() = default;
  Kind kind() const { return exprKind; }
  const Location &loc() const { return location; }
  /// Height of the tree under this node (1 for a leaf); the parser bounds it
  /// so that nothing recursing over the tree can run out of stack.
  unsigned depth() const { return height; }

protected:
  Expr(Kind kind, Location loc, unsigned depth = 1)
      : exprKind(kind), location(std::move(loc)), height(depth) {}

private:
  Kind exprKind;
  Location location;
  unsigned height;
};

using ExprPtr = std::unique_ptr<Expr>;

/// `42`, `1e-3`. Integers keep their exact value as well.
class NumberExpr : public Expr {
public:
  NumberExpr(Location loc, std::string spelling, double value, bool isInteger,
             int64_t intValue)
      : Expr(Kind::Number, std::move(loc)), spelling(std::move(spelling)),
        value(value), integer(isInteger), intValue(intValue) {}
  const std::string &getSpelling() const { return spelling; }
  double getValue() const { return value; }
  bool isInteger() const { return integer; }
  int64_t getInteger() const { return intValue; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Number; }

private:
  std::string spelling;
  double value;
  bool integer;
  int64_t intValue;
};

/// `"dense_1"`.
class StringExpr : public Expr {
public:
  StringExpr(Location loc, std::string value)
      : Expr(Kind::String, std::move(loc)), value(std::move(value)) {}
  const std::string &getValue() const { return value; }
  static bool classof(const Expr *e) { return e->kind() == Kind::String; }

private:
  std::string value;
};

/// A name: a bound value (`h`) or a word an argument takes (`relu`, `zeros`).
class NameExpr : public Expr {
public:
  NameExpr(Location loc, std::string name)
      : Expr(Kind::Name, std::move(loc)), name(std::move(name)) {}
  const std::string &getName() const { return name; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Name; }

private:
  std::string name;
};

/// `batch`: the batch size, fixed at compile time.
class BatchExpr : public Expr {
public:
  explicit BatchExpr(Location loc) : Expr(Kind::Batch, std::move(loc)) {}
  static bool classof(const Expr *e) { return e->kind() == Kind::Batch; }
};

/// `true`, `false`.
class BoolExpr : public Expr {
public:
  BoolExpr(Location loc, bool value)
      : Expr(Kind::Bool, std::move(loc)), value(value) {}
  bool getValue() const { return value; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Bool; }

private:
  bool value;
};

/// `-x`. The location is that of the '-'.
class NegateExpr : public Expr {
public:
  NegateExpr(Location loc, ExprPtr operand)
      : Expr(Kind::Negate, std::move(loc), operand->depth() + 1),
        operand(std::move(operand)) {}
  const Expr &getOperand() const { return *operand; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Negate; }

private:
  ExprPtr operand;
};

enum class BinaryOp { Add, Sub, Mul, Div, MatMul };

/// The operator as written: "+", "@".
llvm::StringRef spelling(BinaryOp op);

/// `a + b`, `h @ w`. The location is that of the operator.
class BinaryExpr : public Expr {
public:
  BinaryExpr(Location loc, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, std::move(loc),
             std::max(lhs->depth(), rhs->depth()) + 1),
        op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  const Expr &getLHS() const { return *lhs; }
  const Expr &getRHS() const { return *rhs; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Binary; }

private:
  BinaryOp op;
  ExprPtr lhs, rhs;
};

/// `name = value` inside a call.
struct KeywordArg {
  std::string name;
  Location loc; ///< Of the name.
  ExprPtr value;
};

/// `dense(h, 128, activation=relu)`. The location is that of the callee.
class CallExpr : public Expr {
public:
  CallExpr(Location loc, std::string callee, std::vector<ExprPtr> args,
           std::vector<KeywordArg> kwargs);
  const std::string &getCallee() const { return callee; }
  const std::vector<ExprPtr> &getArgs() const { return args; }
  const std::vector<KeywordArg> &getKeywordArgs() const { return kwargs; }
  static bool classof(const Expr *e) { return e->kind() == Kind::Call; }

private:
  std::string callee;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
};

/// `[batch, 784]`: shapes, axes, permutations.
class ListExpr : public Expr {
public:
  ListExpr(Location loc, std::vector<ExprPtr> elements);
  const std::vector<ExprPtr> &getElements() const { return elements; }
  static bool classof(const Expr *e) { return e->kind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

//===----------------------------------------------------------------------===//
// Statements of a model block
//===----------------------------------------------------------------------===//

/// `f32[batch, 28, 28]`.
struct TypeSpec {
  struct Dim {
    bool isBatch = false;
    int64_t size = 0;
    Location loc;
  };
  std::string element;
  Location loc; ///< Of the element type.
  std::vector<Dim> dims;
};

class Stmt {
public:
  enum class Kind { Input, Assign, Output, Objective };
  virtual ~Stmt() = default;
  Kind kind() const { return stmtKind; }
  /// The keyword, or the bound name of an assignment.
  const Location &loc() const { return location; }

protected:
  Stmt(Kind kind, Location loc) : stmtKind(kind), location(std::move(loc)) {}

private:
  Kind stmtKind;
  Location location;
};

using StmtPtr = std::unique_ptr<Stmt>;

/// `input x: f32[batch, 28, 28]` or `label y: i32[batch]`.
class InputStmt : public Stmt {
public:
  InputStmt(Location loc, bool isLabel, std::string name, Location nameLoc,
            TypeSpec type)
      : Stmt(Kind::Input, std::move(loc)), label(isLabel),
        name(std::move(name)), nameLoc(std::move(nameLoc)),
        type(std::move(type)) {}
  bool isLabel() const { return label; }
  const std::string &getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  const TypeSpec &getType() const { return type; }
  static bool classof(const Stmt *s) { return s->kind() == Kind::Input; }

private:
  bool label;
  std::string name;
  Location nameLoc;
  TypeSpec type;
};

/// `h = dense(h, 128)`. The location is that of the name.
class AssignStmt : public Stmt {
public:
  AssignStmt(Location loc, std::string name, ExprPtr value)
      : Stmt(Kind::Assign, std::move(loc)), name(std::move(name)),
        value(std::move(value)) {}
  const std::string &getName() const { return name; }
  const Expr &getValue() const { return *value; }
  static bool classof(const Stmt *s) { return s->kind() == Kind::Assign; }

private:
  std::string name;
  ExprPtr value;
};

/// `output logits`.
class OutputStmt : public Stmt {
public:
  OutputStmt(Location loc, std::string name, Location nameLoc)
      : Stmt(Kind::Output, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)) {}
  const std::string &getName() const { return name; }
  const Location &getNameLoc() const { return nameLoc; }
  static bool classof(const Stmt *s) { return s->kind() == Kind::Output; }

private:
  std::string name;
  Location nameLoc;
};

/// `loss softmax_cross_entropy(logits, y) + 1e-4 * l2(dense_1.weight)` or
/// `metric accuracy(logits, y)`: a loss is an expression, a metric a call.
class ObjectiveStmt : public Stmt {
public:
  ObjectiveStmt(Location loc, bool isMetric, ExprPtr value)
      : Stmt(Kind::Objective, std::move(loc)), metric(isMetric),
        value(std::move(value)) {}
  bool isMetric() const { return metric; }
  const Expr &getValue() const { return *value; }
  /// The call of a metric (always one), or of a loss that is one call.
  const CallExpr *getCall() const { return llvm::dyn_cast<CallExpr>(&*value); }
  static bool classof(const Stmt *s) { return s->kind() == Kind::Objective; }

private:
  bool metric;
  ExprPtr value;
};

//===----------------------------------------------------------------------===//
// Blocks and the file
//===----------------------------------------------------------------------===//

/// `model NAME { statement* }`.
struct ModelDecl {
  std::string name;
  Location loc; ///< Of the name.
  std::vector<StmtPtr> body;
};

/// One `key value` line of a train block: `batch 32`, `optimizer adam()`.
struct TrainEntry {
  std::string key;
  Location loc; ///< Of the key.
  ExprPtr value;
};

/// `train { entry* }`.
struct TrainDecl {
  Location loc; ///< Of the keyword.
  std::vector<TrainEntry> entries;
};

/// A parsed `.nn` file: one model block and at most one train block.
struct ModelFile {
  std::unique_ptr<ModelDecl> model;
  std::unique_ptr<TrainDecl> train; ///< Null when the file has none.
};

/// Prints the tree, one node per line with its location, for --emit=ast.
void dump(const ModelFile &file, llvm::raw_ostream &os);
void dump(const Expr &expr, llvm::raw_ostream &os, unsigned indent = 0);

} // namespace nnc::ast

#endif // NNC_FRONTEND_AST_H
