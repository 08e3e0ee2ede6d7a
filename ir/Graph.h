//===- Graph.h - Values, ops, graphs and modules ----------------*- C++ -*-===//
//
// A Graph is a straight-line program over tensors: arguments (the batch),
// ops in program order, and a `return` whose operands are the graph's named
// results. A Module holds the graphs compiled together (a training step and
// its evaluation step, say), which share state through parameter names.
//
// Values keep use lists so passes can replace and erase in place; ops keep
// their position in the graph's list so insertion and erasure are O(1).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_GRAPH_H
#define NNC_IR_GRAPH_H

#include "ir/Attributes.h"
#include "ir/Location.h"
#include "ir/OpDef.h"
#include "ir/Types.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/iterator.h"

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

class Graph;
class Op;

struct Use {
  Op *user;
  unsigned operandIndex;
};

class Value {
public:
  const TensorType &type() const { return ty; }
  void setType(TensorType t) { ty = std::move(t); }

  /// The op computing this value; null for a graph argument.
  Op *definingOp() const { return def; }
  bool isArgument() const { return def == nullptr; }
  /// The graph the value lives in.
  Graph *parentGraph() const;
  /// Result number, or argument number for an argument.
  unsigned index() const { return idx; }

  /// A name hint for printing (`%logits`); empty for anonymous values.
  const std::string &name() const { return nameHint; }
  void setName(std::string n) { nameHint = std::move(n); }

  llvm::ArrayRef<Use> uses() const { return useList; }
  bool hasUses() const { return !useList.empty(); }
  void replaceAllUsesWith(Value *other);

private:
  friend class Op;
  friend class Graph;
  Value(TensorType ty, Op *def, Graph *graph, unsigned idx)
      : ty(std::move(ty)), def(def), graph(graph), idx(idx) {}
  void addUse(Op *user, unsigned operand);
  void removeUse(Op *user, unsigned operand);

  TensorType ty;
  Op *def;
  Graph *graph; ///< Set for arguments only.
  unsigned idx;
  std::string nameHint;
  std::vector<Use> useList;
};

using OpList = std::list<std::unique_ptr<Op>>;

class Op {
public:
  ~Op();

  OpKind kind() const { return opKind; }
  const OpDef &def() const { return getOpDef(opKind); }
  llvm::StringRef name() const { return def().name; }
  bool is(OpKind k) const { return opKind == k; }

  unsigned numOperands() const { return operandList.size(); }
  Value *operand(unsigned i) const { return operandList[i]; }
  llvm::ArrayRef<Value *> operands() const { return operandList; }
  void setOperand(unsigned i, Value *v);
  void setOperands(llvm::ArrayRef<Value *> values);

  unsigned numResults() const { return resultList.size(); }
  Value *result(unsigned i = 0) const { return resultList[i].get(); }
  llvm::SmallVector<Value *, 1> results() const;
  bool hasUses() const;

  AttrDict &attrs() { return attributes; }
  const AttrDict &attrs() const { return attributes; }

  const Location &loc() const { return location; }
  void setLoc(Location l) { location = std::move(l); }

  Graph *parent() const { return graph; }

  /// The fused body of a `kernel` op; null for every other op.
  Graph *body() const { return bodyGraph.get(); }
  void setBody(std::unique_ptr<Graph> body);
  std::unique_ptr<Graph> takeBody();

  /// Removes the op from its graph and destroys it. Its results must be dead.
  void erase();
  /// Drops the operand uses so that a group of ops referring to each other can
  /// be erased in any order.
  void dropAllReferences();

  OpList::iterator position() const { return self; }
  Op *nextOp() const;

private:
  friend class Graph;
  Op(OpKind kind, llvm::ArrayRef<Value *> operands,
     llvm::ArrayRef<TensorType> resultTypes, AttrDict attrs, Location loc);

  OpKind opKind;
  llvm::SmallVector<Value *, 3> operandList;
  llvm::SmallVector<std::unique_ptr<Value>, 1> resultList;
  AttrDict attributes;
  Location location;
  Graph *graph = nullptr;
  OpList::iterator self;
  std::unique_ptr<Graph> bodyGraph;
};

class Graph {
public:
  explicit Graph(std::string name) : graphName(std::move(name)) {}
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  const std::string &name() const { return graphName; }
  void setName(std::string n) { graphName = std::move(n); }

  Value *addArgument(TensorType type, std::string name = "");
  unsigned numArguments() const { return argList.size(); }
  Value *argument(unsigned i) const { return argList[i].get(); }
  llvm::SmallVector<Value *, 4> arguments() const;
  /// Removes an argument that has no uses; later arguments are renumbered.
  void eraseArgument(unsigned i);

  /// Ops in program order. Iterating with make_early_inc_range allows
  /// erasing the current op.
  auto ops() { return llvm::make_pointee_range(opList); }
  auto ops() const { return llvm::make_pointee_range(opList); }
  size_t numOps() const { return opList.size(); }
  bool empty() const { return opList.empty(); }
  Op &front() const { return *opList.front(); }
  Op &back() const { return *opList.back(); }
  OpList::iterator begin() { return opList.begin(); }
  OpList::iterator end() { return opList.end(); }

  /// The `return` (or, in a kernel body, `yield`) closing the graph, if any.
  Op *terminator() const;

  /// Names of the values the graph returns, one per terminator operand
  /// (`loss`, `accuracy`, ...).
  llvm::ArrayRef<std::string> resultNames() const { return names; }
  void setResultNames(std::vector<std::string> n) { names = std::move(n); }
  /// The returned value named `name`, or null.
  Value *lookupResult(llvm::StringRef name) const;
  /// Its position among the terminator's operands.
  std::optional<unsigned> resultIndex(llvm::StringRef name) const;

  /// The kernel op whose body this graph is; null for a top-level graph.
  Op *parentOp() const { return owner; }

  /// Creates an op before `before` (end() appends). The op takes operands and
  /// result types as given; the verifier checks them.
  Op *createOp(OpList::iterator before, OpKind kind,
               llvm::ArrayRef<Value *> operands,
               llvm::ArrayRef<TensorType> resultTypes, AttrDict attrs,
               Location loc);

  /// Moves `op` (from any graph) to just before `before` in this graph.
  void moveOp(Op *op, OpList::iterator before);

private:
  friend class Op;
  std::string graphName;
  std::vector<std::unique_ptr<Value>> argList;
  OpList opList;
  std::vector<std::string> names;
  Op *owner = nullptr;
};

/// The graphs compiled together.
class Module {
public:
  Graph *addGraph(std::unique_ptr<Graph> g) {
    graphList.push_back(std::move(g));
    return graphList.back().get();
  }
  auto graphs() { return llvm::make_pointee_range(graphList); }
  auto graphs() const { return llvm::make_pointee_range(graphList); }
  size_t numGraphs() const { return graphList.size(); }
  Graph *graph(size_t i) const { return graphList[i].get(); }
  Graph *lookup(llvm::StringRef name) const;
  std::unique_ptr<Graph> takeGraph(size_t i);

private:
  std::vector<std::unique_ptr<Graph>> graphList;
};

/// True for ops that own state across steps (`param`, `state`).
bool isVariable(const Op &op);
/// The variable op a value reads, or null.
Op *variableOf(const Value *v);
/// The name of a `param` or `state` op.
llvm::StringRef variableName(const Op &op);

} // namespace nnc

#endif // NNC_IR_GRAPH_H
