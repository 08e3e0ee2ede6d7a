//===- Verifier.cpp - Checking a graph against the IR's rules -------------===//
#include "ir/Verifier.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

namespace nnc {

namespace {

class Verifier {
public:
  explicit Verifier(DiagnosticEngine &diag) : diag(diag) {}

  void verifyGraph(const Graph &g) {
    bool isBody = g.parentOp() != nullptr;
    llvm::DenseSet<const Value *> defined;
    for (Value *arg : g.arguments())
      defined.insert(arg);
    llvm::StringMap<const Op *> variables;
    llvm::DenseSet<const Op *> assigned;

    for (const Op &op : g.ops()) {
      verifyOperandsDefined(op, g, defined);
      // The checks of particular ops read their operands and attributes,
      // which only a valid signature guarantees.
      bool signatureValid = verifySignature(op);
      verifyPlacement(op, g, isBody);
      if (signatureValid && isVariable(op))
        verifyVariable(op, variables);
      if (signatureValid && op.is(OpKind::Assign))
        verifyAssign(op, assigned);
      if (op.is(OpKind::Kernel))
        verifyKernel(op);
      for (Value *r : op.results())
        defined.insert(r);
    }

    Op *term = g.terminator();
    OpKind want = isBody ? OpKind::Yield : OpKind::Return;
    if (!term || !term->is(want))
      error(g.empty() ? Location() : g.back().loc(),
            "graph '@" + g.name() + "' must end in '" + getOpDef(want).name +
                "'");
    else if (!isBody && g.resultNames().size() != term->numOperands())
      error(term->loc(), "'return' op returns " +
                             llvm::Twine(term->numOperands()) +
                             " values but the graph names " +
                             llvm::Twine(g.resultNames().size()) + " results");
  }

private:
  void error(const Location &loc, const llvm::Twine &msg) {
    diag.error(loc, msg);
  }
  void opError(const Op &op, const llvm::Twine &msg) {
    error(op.loc(), "'" + op.name() + "' op " + msg);
  }

  void verifyOperandsDefined(const Op &op, const Graph &g,
                             const llvm::DenseSet<const Value *> &defined) {
    for (unsigned i = 0; i < op.numOperands(); ++i) {
      const Value *v = op.operand(i);
      if (v->parentGraph() != &g)
        opError(op, "operand #" + llvm::Twine(i) +
                        " is defined outside this graph");
      else if (!defined.contains(v))
        opError(op,
                "operand #" + llvm::Twine(i) + " is used before it is defined");
    }
  }

  /// Checks the op's operand and result types and its attributes against
  /// its definition; false if anything is wrong.
  bool verifySignature(const Op &op) {
    const OpDef &def = op.def();
    llvm::SmallVector<TensorType, 4> operandTypes, resultTypes;
    for (Value *v : op.operands())
      operandTypes.push_back(v->type());
    for (Value *v : op.results())
      resultTypes.push_back(v->type());
    if (def.numResults != kVariadic && op.numResults() != def.numResults) {
      opError(op, "has " + llvm::Twine(op.numResults()) +
                      " results, expected " + llvm::Twine(def.numResults));
      return false;
    }
    AttrDict attrs = op.attrs();
    auto inferred = checkSignature(def, operandTypes, attrs, resultTypes);
    if (!inferred) {
      opError(op, llvm::toString(inferred.takeError()));
      return false;
    }
    if (inferred->size() != op.numResults()) {
      // An op with as many results as it has operands (allreduce).
      opError(op, "has " + llvm::Twine(op.numResults()) +
                      (op.numResults() == 1 ? " result" : " results") +
                      ", but the op produces " + llvm::Twine(inferred->size()));
      return false;
    }
    bool valid = true;
    for (unsigned i = 0; i < op.numResults(); ++i)
      if ((*inferred)[i] != resultTypes[i]) {
        opError(op, "result #" + llvm::Twine(i) + " has type " +
                        resultTypes[i].str() + " but the op produces " +
                        (*inferred)[i].str());
        valid = false;
      }
    return valid;
  }

  void verifyPlacement(const Op &op, const Graph &g, bool isBody) {
    bool terminates = op.is(OpKind::Return) || op.is(OpKind::Yield);
    if (terminates && &op != &g.back())
      opError(op, "must be the last op of its graph");
    if (op.is(OpKind::Return) && isBody)
      opError(op, "cannot appear in a kernel body (use 'yield')");
    if (op.is(OpKind::Yield) && !isBody)
      opError(op, "can only end a kernel body");
    if (isBody && (isVariable(op) || op.is(OpKind::Assign)))
      opError(op, "cannot appear in a kernel body");
  }

  void verifyVariable(const Op &op, llvm::StringMap<const Op *> &variables) {
    llvm::StringRef name = variableName(op);
    auto [it, inserted] = variables.try_emplace(name, &op);
    if (!inserted) {
      opError(op, "redefines variable \"" + name + "\"");
      diag.note(it->second->loc(), "previously defined here");
    }
  }

  void verifyAssign(const Op &op, llvm::DenseSet<const Op *> &assigned) {
    Op *var = variableOf(op.operand(0));
    if (!var) {
      opError(op, "target must be a 'param' or 'state' value");
      return;
    }
    if (!assigned.insert(var).second)
      opError(op,
              "assigns variable \"" + variableName(*var) + "\" a second time");
  }

  void verifyKernel(const Op &op) {
    const Graph *body = op.body();
    if (!body) {
      opError(op, "has no body");
      return;
    }
    if (body->numArguments() != op.numOperands()) {
      opError(op, "binds " + llvm::Twine(op.numOperands()) +
                      " operands to a body of " +
                      llvm::Twine(body->numArguments()) + " arguments");
      return;
    }
    for (unsigned i = 0; i < op.numOperands(); ++i)
      if (body->argument(i)->type() != op.operand(i)->type())
        opError(op, "body argument #" + llvm::Twine(i) + " has type " +
                        body->argument(i)->type().str() + " but its operand " +
                        op.operand(i)->type().str());
    verifyGraph(*body);
    Op *yield = body->terminator();
    if (!yield || !yield->is(OpKind::Yield))
      return;
    if (yield->numOperands() != op.numResults()) {
      opError(op, "yields " + llvm::Twine(yield->numOperands()) +
                      " values for " + llvm::Twine(op.numResults()) +
                      " results");
      return;
    }
    for (unsigned i = 0; i < op.numResults(); ++i)
      if (yield->operand(i)->type() != op.result(i)->type())
        opError(op, "result #" + llvm::Twine(i) + " has type " +
                        op.result(i)->type().str() + " but the body yields " +
                        yield->operand(i)->type().str());
  }

  DiagnosticEngine &diag;
};

} // namespace

llvm::LogicalResult verify(const Graph &g, DiagnosticEngine &diag) {
  unsigned before = diag.numErrors();
  Verifier(diag).verifyGraph(g);
  return llvm::success(diag.numErrors() == before);
}

llvm::LogicalResult verify(const Module &m, DiagnosticEngine &diag) {
  unsigned before = diag.numErrors();
  for (const Graph &g : m.graphs())
    (void)verify(g, diag);
  return llvm::success(diag.numErrors() == before);
}

} // namespace nnc
