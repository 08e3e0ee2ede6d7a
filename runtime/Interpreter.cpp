//===- Interpreter.cpp - Reference execution of graph IR ------------------===//
#include "runtime/Interpreter.h"

#include "llvm/ADT/DenseMap.h"

namespace nnc {

namespace {

llvm::Error errorAt(const Op &op, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 op.loc().str() + ": '" + op.name() + "' op " +
                                     msg);
}

class Interpreter {
public:
  Interpreter(VariableValues &variables, Precision precision,
              SumOverRanks sumOverRanks)
      : variables(variables), precision(precision), sumOverRanks(sumOverRanks) {
  }

  llvm::Expected<std::vector<HostTensor>>
  run(const Graph &g, llvm::ArrayRef<HostTensor> arguments) {
    if (arguments.size() != g.numArguments())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "graph '@" + g.name() + "' takes " + llvm::Twine(g.numArguments()) +
              " arguments, got " + llvm::Twine(arguments.size()));
    for (unsigned i = 0; i < arguments.size(); ++i) {
      if (arguments[i].type != g.argument(i)->type())
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "argument " + llvm::Twine(i) + " of '@" +
                                           g.name() + "' must be " +
                                           g.argument(i)->type().str() +
                                           ", got " + arguments[i].type.str());
      values[g.argument(i)] = arguments[i];
    }
    // Assignments take effect after the step: every read sees the value the
    // variable had when the step began.
    std::vector<std::pair<std::string, HostTensor>> pending;
    for (const Op &op : g.ops()) {
      if (llvm::Error err = runOp(op, pending))
        return err;
      if (op.is(OpKind::Return))
        break;
    }
    for (auto &[name, value] : pending)
      variables[name] = std::move(value);
    return std::move(results);
  }

private:
  llvm::Error runOp(const Op &op,
                    std::vector<std::pair<std::string, HostTensor>> &pending) {
    switch (op.kind()) {
    case OpKind::Param:
    case OpKind::State: {
      auto it = variables.find(variableName(op));
      if (it == variables.end())
        return errorAt(op, "reads variable \"" + variableName(op) +
                               "\", which has no value");
      if (it->second.type != op.result()->type())
        return errorAt(op, "variable \"" + variableName(op) + "\" holds " +
                               it->second.type.str() + ", expected " +
                               op.result()->type().str());
      values[op.result()] = it->second;
      return llvm::Error::success();
    }
    case OpKind::Assign:
      pending.emplace_back(variableName(*variableOf(op.operand(0))),
                           values[op.operand(1)]);
      return llvm::Error::success();
    case OpKind::Return:
      for (Value *v : op.operands())
        results.push_back(values[v]);
      return llvm::Error::success();
    case OpKind::Kernel:
      return runKernel(op);
    case OpKind::AllReduce:
      return runAllReduce(op);
    default:
      break;
    }
    const OpDef &def = op.def();
    if (!def.eval)
      return errorAt(op, "has no reference semantics");
    llvm::SmallVector<const HostTensor *, 3> operands;
    for (Value *v : op.operands())
      operands.push_back(&values[v]);
    llvm::SmallVector<HostTensor, 1> out;
    for (Value *r : op.results())
      out.emplace_back(r->type());
    if (llvm::Error err = def.eval(op, operands, out))
      return errorAt(op, llvm::toString(std::move(err)));
    for (unsigned i = 0; i < out.size(); ++i) {
      if (precision == Precision::F32)
        out[i].roundToElementType();
      values[op.result(i)] = std::move(out[i]);
    }
    return llvm::Error::success();
  }

  /// The operands end to end, summed over the ranks as one bucket.
  llvm::Error runAllReduce(const Op &op) {
    std::vector<double> bucket;
    for (Value *v : op.operands())
      llvm::append_range(bucket, values[v].data);
    if (sumOverRanks)
      if (llvm::Error err = sumOverRanks(bucket))
        return errorAt(op, llvm::toString(std::move(err)));
    size_t at = 0;
    for (unsigned i = 0; i < op.numResults(); ++i) {
      HostTensor sum(op.result(i)->type());
      std::copy_n(bucket.begin() + at, sum.size(), sum.data.begin());
      at += sum.size();
      if (precision == Precision::F32)
        sum.roundToElementType();
      values[op.result(i)] = std::move(sum);
    }
    return llvm::Error::success();
  }

  /// A kernel computes what its body computes.
  llvm::Error runKernel(const Op &op) {
    const Graph &body = *op.body();
    Interpreter inner(variables, precision, sumOverRanks);
    std::vector<HostTensor> args;
    for (Value *v : op.operands())
      args.push_back(values[v]);
    for (unsigned i = 0; i < args.size(); ++i)
      inner.values[body.argument(i)] = std::move(args[i]);
    std::vector<std::pair<std::string, HostTensor>> none;
    for (const Op &bodyOp : body.ops()) {
      if (bodyOp.is(OpKind::Yield)) {
        for (unsigned i = 0; i < bodyOp.numOperands(); ++i)
          values[op.result(i)] = inner.values[bodyOp.operand(i)];
        break;
      }
      if (llvm::Error err = inner.runOp(bodyOp, none))
        return err;
    }
    return llvm::Error::success();
  }

  VariableValues &variables;
  Precision precision;
  SumOverRanks sumOverRanks;
  llvm::DenseMap<const Value *, HostTensor> values;
  std::vector<HostTensor> results;
};

} // namespace

llvm::Expected<std::vector<HostTensor>>
interpret(const Graph &g, llvm::ArrayRef<HostTensor> arguments,
          VariableValues &variables, Precision precision,
          SumOverRanks sumOverRanks) {
  return Interpreter(variables, precision, sumOverRanks).run(g, arguments);
}

} // namespace nnc
