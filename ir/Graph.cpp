//===- Graph.cpp - Values, ops, graphs and modules ------------------------===//
#include "ir/Graph.h"

#include <cassert>

namespace nnc {

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

Graph *Value::parentGraph() const { return def ? def->parent() : graph; }

void Value::addUse(Op *user, unsigned operand) {
  useList.push_back({user, operand});
}

void Value::removeUse(Op *user, unsigned operand) {
  for (size_t i = 0; i < useList.size(); ++i)
    if (useList[i].user == user && useList[i].operandIndex == operand) {
      useList.erase(useList.begin() + i);
      return;
    }
  assert(false && "use not found");
}

void Value::replaceAllUsesWith(Value *other) {
  assert(other != this && "replacing a value with itself");
  while (!useList.empty()) {
    Use u = useList.back();
    u.user->setOperand(u.operandIndex, other);
  }
}

//===----------------------------------------------------------------------===//
// Op
//===----------------------------------------------------------------------===//

Op::Op(OpKind kind, llvm::ArrayRef<Value *> operands,
       llvm::ArrayRef<TensorType> resultTypes, AttrDict attrs, Location loc)
    : opKind(kind), operandList(operands.begin(), operands.end()),
      attributes(std::move(attrs)), location(std::move(loc)) {
  for (unsigned i = 0; i < operandList.size(); ++i)
    operandList[i]->addUse(this, i);
  for (unsigned i = 0; i < resultTypes.size(); ++i)
    resultList.push_back(
        std::unique_ptr<Value>(new Value(resultTypes[i], this, nullptr, i)));
}

Op::~Op() { dropAllReferences(); }

void Op::dropAllReferences() {
  for (unsigned i = 0; i < operandList.size(); ++i)
    if (operandList[i])
      operandList[i]->removeUse(this, i);
  operandList.clear();
}

void Op::setOperand(unsigned i, Value *v) {
  operandList[i]->removeUse(this, i);
  operandList[i] = v;
  v->addUse(this, i);
}

void Op::setOperands(llvm::ArrayRef<Value *> values) {
  dropAllReferences();
  operandList.assign(values.begin(), values.end());
  for (unsigned i = 0; i < operandList.size(); ++i)
    operandList[i]->addUse(this, i);
}

llvm::SmallVector<Value *, 1> Op::results() const {
  llvm::SmallVector<Value *, 1> out;
  for (const auto &r : resultList)
    out.push_back(r.get());
  return out;
}

bool Op::hasUses() const {
  return llvm::any_of(resultList, [](const auto &r) { return r->hasUses(); });
}

void Op::setBody(std::unique_ptr<Graph> body) {
  bodyGraph = std::move(body);
  if (bodyGraph)
    bodyGraph->owner = this;
}

std::unique_ptr<Graph> Op::takeBody() {
  if (bodyGraph)
    bodyGraph->owner = nullptr;
  return std::move(bodyGraph);
}

void Op::erase() {
  assert(!hasUses() && "erasing an op whose results are still used");
  assert(graph && "op is not in a graph");
  graph->opList.erase(self); // destroys *this
}

Op *Op::nextOp() const {
  auto it = std::next(self);
  return it == graph->opList.end() ? nullptr : it->get();
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Graph::~Graph() {
  // Ops may use each other in any order; drop every use first.
  for (Op &op : ops())
    op.dropAllReferences();
  opList.clear();
}

Value *Graph::addArgument(TensorType type, std::string name) {
  argList.push_back(std::unique_ptr<Value>(
      new Value(std::move(type), nullptr, this, argList.size())));
  argList.back()->setName(std::move(name));
  return argList.back().get();
}

llvm::SmallVector<Value *, 4> Graph::arguments() const {
  llvm::SmallVector<Value *, 4> out;
  for (const auto &a : argList)
    out.push_back(a.get());
  return out;
}

void Graph::eraseArgument(unsigned i) {
  assert(!argList[i]->hasUses() && "erasing a used argument");
  argList.erase(argList.begin() + i);
  for (unsigned j = i; j < argList.size(); ++j)
    argList[j]->idx = j;
}

Op *Graph::terminator() const {
  if (opList.empty())
    return nullptr;
  Op *last = opList.back().get();
  return last->is(OpKind::Return) || last->is(OpKind::Yield) ? last : nullptr;
}

std::optional<unsigned> Graph::resultIndex(llvm::StringRef name) const {
  Op *term = terminator();
  if (!term)
    return std::nullopt;
  for (unsigned i = 0; i < names.size() && i < term->numOperands(); ++i)
    if (names[i] == name)
      return i;
  return std::nullopt;
}

Value *Graph::lookupResult(llvm::StringRef name) const {
  std::optional<unsigned> i = resultIndex(name);
  return i ? terminator()->operand(*i) : nullptr;
}

Op *Graph::createOp(OpList::iterator before, OpKind kind,
                    llvm::ArrayRef<Value *> operands,
                    llvm::ArrayRef<TensorType> resultTypes, AttrDict attrs,
                    Location loc) {
  std::unique_ptr<Op> op(
      new Op(kind, operands, resultTypes, std::move(attrs), std::move(loc)));
  op->graph = this;
  auto it = opList.insert(before, std::move(op));
  (*it)->self = it;
  return it->get();
}

void Graph::moveOp(Op *op, OpList::iterator before) {
  Graph *from = op->graph;
  opList.splice(before, from->opList, op->self);
  op->graph = this;
}

//===----------------------------------------------------------------------===//
// Module and helpers
//===----------------------------------------------------------------------===//

Graph *Module::lookup(llvm::StringRef name) const {
  for (const auto &g : graphList)
    if (g->name() == name)
      return g.get();
  return nullptr;
}

std::unique_ptr<Graph> Module::takeGraph(size_t i) {
  std::unique_ptr<Graph> g = std::move(graphList[i]);
  graphList.erase(graphList.begin() + i);
  return g;
}

bool isVariable(const Op &op) {
  return op.is(OpKind::Param) || op.is(OpKind::State);
}

Op *variableOf(const Value *v) {
  Op *def = v->definingOp();
  return def && isVariable(*def) ? def : nullptr;
}

llvm::StringRef variableName(const Op &op) {
  assert(isVariable(op));
  return op.attrs().getString("name");
}

} // namespace nnc
