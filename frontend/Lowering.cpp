//===- Lowering.cpp - Semantic checks and lowering to the graph IR --------===//
//
// ModelLowering's first half: the graph around the model's statements --
// its arguments (the inputs, then the label), each statement, the loss and
// the metrics it returns, the inference graph pruned to the output -- and
// the parameters and state that layers create. Expressions become ops in
// LowerExpressions.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "frontend/Frontend.h"
#include "frontend/Functions.h"
#include "frontend/Objectives.h"
#include "frontend/Suggestions.h"
#include "ir/Verifier.h"

namespace nnc::nn {

using namespace ast;

ModelLowering::ModelLowering(const ModelDecl &model, int64_t batchSize,
                             DiagnosticEngine &diag)
    : model(model), batch(batchSize), diagnostics(diag),
      errorsAtStart(diag.numErrors()), constReader(diag, batchSize),
      graph(std::make_unique<Graph>(model.name)), builder(*graph) {}

bool ModelLowering::lowerBody() {
  for (const StmtPtr &stmt : model.body) {
    if (auto *assign = llvm::dyn_cast<AssignStmt>(stmt.get()))
      definitions.try_emplace(assign->getName(), assign->loc());
    else if (auto *input = llvm::dyn_cast<InputStmt>(stmt.get()))
      definitions.try_emplace(input->getName(), input->getNameLoc());
  }
  declareArguments();
  for (const StmtPtr &stmt : model.body)
    lowerStatement(*stmt);

  if (lossLoc.isUnknown())
    diagnostics.error(model.loc, "model '" + model.name +
                                     "' has no loss; add one such as 'loss "
                                     "softmax_cross_entropy(logits, labels)'");
  return !failed();
}

std::unique_ptr<Graph> ModelLowering::lower() {
  if (!lowerBody())
    return nullptr;

  llvm::SmallVector<Value *, 4> values = {loss->value};
  std::vector<std::string> names = {loss->name};
  for (const Result &m : metrics) {
    values.push_back(m.value);
    names.push_back(m.name);
  }
  builder.setInsertionPointToEnd(*graph);
  builder.setLoc(model.loc);
  builder.ret(values, std::move(names));
  // Lowering builds only ops that passed their type rules, so this catches
  // compiler bugs, reported like any other error.
  if (llvm::failed(verify(*graph, diagnostics)))
    return nullptr;
  return std::move(graph);
}

std::unique_ptr<Graph> ModelLowering::lowerInference(OutputKind *kind) {
  // The whole model is lowered, loss and metrics too, so that a model
  // reports the same errors whichever graph is asked for.
  if (!lowerBody())
    return nullptr;
  if (outputLoc.isUnknown()) {
    diagnostics.error(model.loc,
                      "model '" + model.name +
                          "' has no output to predict with; add one such as "
                          "'output logits'");
    return nullptr;
  }
  if (kind) {
    *kind = OutputKind::Values;
    for (const Use &use : outputValue->uses())
      if (use.user->is(OpKind::SoftmaxCrossEntropy) && use.operandIndex == 0)
        *kind = OutputKind::Logits;
  }
  builder.setInsertionPointToEnd(*graph);
  builder.setLoc(outputLoc);
  builder.ret({outputValue}, {outputName});
  if (!pruneToOutput())
    return nullptr;
  if (llvm::failed(verify(*graph, diagnostics)))
    return nullptr;
  return std::move(graph);
}

bool ModelLowering::pruneToOutput() {
  // Uses follow definitions, so one pass from the end finds every op that
  // nothing live reads: the loss, the metrics, parameters only they read.
  std::vector<Op *> ops;
  for (Op &op : graph->ops())
    ops.push_back(&op);
  for (Op *op : llvm::reverse(ops))
    if (op != graph->terminator() && !op->hasUses())
      op->erase();
  if (!label)
    return true;
  Value *labelArg = arguments.lookup(label);
  if (!labelArg)
    return true;
  if (labelArg->hasUses()) {
    diagnostics.error(
        outputLoc, "output '" + outputName + "' is computed from the label '" +
                       label->getName() + "', which predictions do not have");
    diagnostics.note(label->getNameLoc(),
                     "'" + label->getName() + "' is declared here");
    return false;
  }
  graph->eraseArgument(labelArg->index());
  return true;
}

//===----------------------------------------------------------------------===//
// Arguments: the inputs, then the label
//===----------------------------------------------------------------------===//

void ModelLowering::declareArguments() {
  llvm::SmallVector<const InputStmt *, 4> inputs, labels;
  llvm::StringMap<Location> declared;
  for (const StmtPtr &stmt : model.body) {
    auto *decl = llvm::dyn_cast<InputStmt>(stmt.get());
    if (!decl)
      continue;
    auto [it, inserted] =
        declared.try_emplace(decl->getName(), decl->getNameLoc());
    if (!inserted) {
      diagnostics.error(decl->getNameLoc(),
                        "'" + decl->getName() + "' is already declared");
      diagnostics.note(it->second, "the first declaration is here");
      continue;
    }
    (decl->isLabel() ? labels : inputs).push_back(decl);
  }
  if (labels.size() > 1) {
    diagnostics.error(labels[1]->loc(), "a model has at most one label");
    diagnostics.note(labels[0]->loc(),
                     "the first label is '" + labels[0]->getName() + "', here");
  }
  if (inputs.empty())
    diagnostics.error(model.loc,
                      "model '" + model.name +
                          "' has no input; declare one such as 'input x: "
                          "f32[batch, 784]'");

  auto declare = [&](const InputStmt &decl) {
    const TypeSpec &spec = decl.getType();
    const char *what = decl.isLabel() ? "label" : "input";
    auto elt = parseElementType(spec.element);
    if (!elt || (*elt != ElementType::F32 && *elt != ElementType::I32)) {
      diagnostics.error(spec.loc, "unknown element type '" + spec.element +
                                      "' (expected f32 or i32)");
      return;
    }
    if (spec.dims.empty() || !spec.dims[0].isBatch) {
      // Suggest the type with the batch dimension put in front.
      std::string suggestion = spec.element + "[batch";
      for (const TypeSpec::Dim &d : spec.dims)
        if (!d.isBatch)
          suggestion += ", " + std::to_string(d.size);
      diagnostics.error(spec.dims.empty() ? spec.loc : spec.dims[0].loc,
                        llvm::Twine(what) + " '" + decl.getName() +
                            "' must have 'batch' as its first dimension, as "
                            "in " +
                            suggestion + "]");
      return;
    }
    Shape shape;
    for (size_t i = 0; i < spec.dims.size(); ++i) {
      const TypeSpec::Dim &d = spec.dims[i];
      if (d.isBatch && i > 0) {
        diagnostics.error(d.loc, "'batch' can only be the first dimension "
                                 "of an input or a label");
        return;
      }
      shape.push_back(d.isBatch ? batch : d.size);
    }
    if (!checkedNumElements(shape)) {
      diagnostics.error(spec.loc, llvm::Twine(what) + " '" + decl.getName() +
                                      "' of shape " + shapeStr(shape) +
                                      " is too large " + sizeLimits());
      return;
    }
    arguments[&decl] =
        graph->addArgument(TensorType(*elt, shape), decl.getName());
  };
  for (const InputStmt *decl : inputs)
    declare(*decl);
  if (!labels.empty()) {
    declare(*labels[0]);
    label = labels[0];
  }
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void ModelLowering::lowerStatement(const Stmt &stmt) {
  currentBinding.clear();
  switch (stmt.kind()) {
  case Stmt::Kind::Input: {
    auto &decl = llvm::cast<InputStmt>(stmt);
    Value *arg = arguments.lookup(&decl);
    if (arg && standardizeInputs && !decl.isLabel() &&
        arg->type().element() == ElementType::F32)
      arg = standardized(decl, arg);
    // A failed or repeated declaration binds nothing new; uses of a failed
    // one stay quiet.
    if (arg || !scope.count(decl.getName()))
      scope[decl.getName()] =
          Binding{arg, Origin{decl.getNameLoc(),
                              "'" + decl.getName() + "', declared here"}};
    return;
  }
  case Stmt::Kind::Assign:
    return lowerAssign(llvm::cast<AssignStmt>(stmt));
  case Stmt::Kind::Output:
    return lowerOutput(llvm::cast<OutputStmt>(stmt));
  case Stmt::Kind::Objective:
    return lowerObjective(llvm::cast<ObjectiveStmt>(stmt));
  }
}

void ModelLowering::lowerAssign(const AssignStmt &stmt) {
  currentBinding = stmt.getName();
  auto value = lowerTensor(stmt.getValue());
  Binding binding;
  binding.origin = Origin{stmt.loc(), "'" + stmt.getName() + "', defined here"};
  if (value) {
    binding.value = value->value;
    // A value keeps the first name it is bound to; parameters keep theirs.
    if (value->value->name().empty())
      value->value->setName(stmt.getName());
  }
  scope[stmt.getName()] = std::move(binding);
}

void ModelLowering::lowerOutput(const OutputStmt &stmt) {
  if (!outputLoc.isUnknown()) {
    diagnostics.error(stmt.loc(), "a model has one output");
    diagnostics.note(outputLoc, "the first output is here");
    return;
  }
  outputLoc = stmt.loc();
  outputName = stmt.getName();
  NameExpr name(stmt.getNameLoc(), stmt.getName());
  if (auto value = lowerName(name))
    outputValue = value->value;
}

void ModelLowering::lowerObjective(const ObjectiveStmt &stmt) {
  if (stmt.isMetric())
    return lowerMetric(stmt);
  if (!lossLoc.isUnknown()) {
    diagnostics.error(stmt.loc(), "a model has one loss");
    diagnostics.note(lossLoc, "the first loss is here");
    return;
  }
  lossLoc = stmt.loc();
  const Expr &expr = stmt.getValue();
  // A loss that is one call of something that is no function at all gets
  // the list of losses.
  if (const CallExpr *call = stmt.getCall()) {
    const std::string &callee = call->getCallee();
    const ObjectiveDef *def = lookupObjective(callee);
    if (def && !def->isLoss) {
      diagnostics.error(call->loc(), "'" + callee +
                                         "' is a metric, not a loss; use it "
                                         "as 'metric " +
                                         callee + "(...)'");
      return;
    }
    if (!def && !lookupFunction(callee) && !lookupLayer(callee) &&
        !scope.count(callee)) {
      std::vector<std::string> names;
      for (const ObjectiveDef &o : allObjectives())
        if (o.isLoss)
          names.push_back(o.name().str());
      diagnostics.error(call->loc(), "unknown loss '" + callee + "'" +
                                         didYouMean(callee, names) +
                                         " (expected " +
                                         joinAlternatives(names) +
                                         ", or an expression of them)");
      return;
    }
  }
  auto value = lowerTensor(expr);
  if (!value)
    return;
  const TensorType &type = value->value->type();
  if (!type.isScalar() || type.element() != ElementType::F32) {
    diagnostics.error(expr.loc(),
                      "the loss must be an f32 scalar, got " + type.str() +
                          (type.isScalar() ? std::string()
                                           : "; average it over the batch, "
                                             "as in reduce_mean(...)"));
    noteOrigin(*value);
    return;
  }
  // The loss is returned as `loss`; a value that already has a name (a
  // parameter, a bound name) keeps it.
  if (value->value->name().empty())
    value->value->setName("loss");
  loss = Result{"loss", value->value, stmt.loc()};
}

void ModelLowering::lowerMetric(const ObjectiveStmt &stmt) {
  const CallExpr &call = *stmt.getCall();
  const ObjectiveDef *def = lookupObjective(call.getCallee());
  if (!def) {
    std::vector<std::string> names;
    for (const ObjectiveDef &o : allObjectives())
      names.push_back(o.name().str());
    diagnostics.error(call.loc(), "unknown metric '" + call.getCallee() + "'" +
                                      didYouMean(call.getCallee(), names) +
                                      " (expected " + joinAlternatives(names) +
                                      ")");
    return;
  }
  auto args = bindArguments(call, def->signature, diagnostics);
  if (!args)
    return;
  CallContext context(*this, call, std::move(*args));
  std::string name =
      def->resultName ? def->resultName(context) : def->name().str();
  for (const Result &m : metrics)
    if (m.name == name) {
      diagnostics.error(stmt.loc(), "metric '" + name + "' is given twice");
      diagnostics.note(m.loc, "the first one is here");
      return;
    }
  auto value = def->lower(context);
  if (!value)
    return;
  // A metric that is a value bound elsewhere keeps that value's name.
  if (value->value->name().empty())
    value->value->setName(name);
  metrics.push_back(Result{name, value->value, stmt.loc()});
}

//===----------------------------------------------------------------------===//
// Parameters and state
//===----------------------------------------------------------------------===//

std::optional<Operand> ModelLowering::createParam(const std::string &name,
                                                  const TensorType &type,
                                                  const Initializer &init,
                                                  const Location &loc) {
  auto [it, inserted] = paramNames.try_emplace(name, loc);
  if (!inserted) {
    diagnostics.error(loc, "parameter '" + name + "' is already defined");
    diagnostics.note(it->second, "'" + name + "' is first defined here");
    return std::nullopt;
  }
  // Parameters go at the top of the graph, in order of creation, so that a
  // layer and its spelled-out form give the same graph.
  if (lastParam)
    builder.setInsertionPointAfter(lastParam);
  else
    builder.setInsertionPointToStart(*graph);
  AttrDict attrs;
  attrs.set("name", name);
  attrs.set("init", init.str());
  builder.setLoc(loc);
  auto op = builder.tryCreate(OpKind::Param, {}, std::move(attrs), {type});
  builder.setInsertionPointToEnd(*graph);
  if (!op) {
    diagnostics.error(loc, "invalid parameter '" + name +
                               "': " + llvm::toString(op.takeError()));
    return std::nullopt;
  }
  lastParam = *op;
  Value *value = lastParam->result();
  value->setName(name);
  paramValues[name] = value;
  return Operand{value, Origin{loc, "'" + name + "', created here"}};
}

Value *ModelLowering::createState(const std::string &name,
                                  const TensorType &type, llvm::StringRef init,
                                  const Location &loc) {
  if (lastParam)
    builder.setInsertionPointAfter(lastParam);
  else
    builder.setInsertionPointToStart(*graph);
  builder.setLoc(loc);
  Value *v = builder.state(name, type, init);
  v->setName(name);
  lastParam = v->definingOp();
  builder.setInsertionPointToEnd(*graph);
  return v;
}

void ModelLowering::assign(Value *variable, Value *value, const Location &loc) {
  builder.setInsertionPointToEnd(*graph);
  builder.setLoc(loc);
  builder.assign(variable, value);
}

Value *ModelLowering::stepCounter(const Location &loc) {
  if (step)
    return step;
  // Named apart from the optimizers' counters, which start with the
  // optimizer step that the frontend does not see.
  step = createState("dropout.step", TensorType(ElementType::I32, {}), "zeros",
                     loc);
  builder.setLoc(loc);
  assign(step, builder.add(step, builder.scalar(1.0, ElementType::I32)), loc);
  return step;
}

Value *ModelLowering::standardized(const InputStmt &decl, Value *arg) {
  TensorType features(ElementType::F32, arg->type().shape().drop_front());
  std::string prefix = standardizationPrefix(decl.getName());
  Value *mean =
      createState(prefix + "mean", features, "zeros", decl.getNameLoc());
  Value *stddev =
      createState(prefix + "std", features, "ones", decl.getNameLoc());
  builder.setLoc(decl.getNameLoc());
  Value *centred = builder.sub(arg, mean);
  Value *scaled = builder.div(centred, stddev);
  scaled->setName(decl.getName());
  return scaled;
}

} // namespace nnc::nn
