//===- Lowering.cpp - Semantic checks and lowering to the graph IR --------===//
#include "frontend/Lowering.h"
#include "frontend/Frontend.h"
#include "frontend/Functions.h"
#include "frontend/Objectives.h"
#include "frontend/Suggestions.h"
#include "ir/Verifier.h"

#include "llvm/ADT/SmallSet.h"

#include <cfloat>

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
// Expressions
//===----------------------------------------------------------------------===//

std::optional<Operand> ModelLowering::lowerTensor(const Expr &e) {
  if (auto lit = asLiteral(e))
    return lowerLiteral(*lit, ElementType::F32);
  switch (e.kind()) {
  case Expr::Kind::Name:
    return lowerName(llvm::cast<NameExpr>(e));
  case Expr::Kind::Call:
    return lowerCall(llvm::cast<CallExpr>(e));
  case Expr::Kind::Binary:
    return lowerBinary(llvm::cast<BinaryExpr>(e));
  case Expr::Kind::Negate: {
    auto x = lowerTensor(llvm::cast<NegateExpr>(e).getOperand());
    if (!x)
      return std::nullopt;
    return emit(OpKind::Neg, {*x}, e.loc(), "'-'");
  }
  case Expr::Kind::List:
    diagnostics.error(e.loc(), "expected a tensor, got a list (lists give "
                               "shapes, axes and permutations)");
    return std::nullopt;
  default:
    diagnostics.error(e.loc(), "expected a tensor, got " + describeExpr(e));
    return std::nullopt;
  }
}

std::optional<Operand> ModelLowering::lowerName(const NameExpr &e) {
  const std::string &name = e.getName();
  auto it = scope.find(name);
  if (it != scope.end()) {
    if (!it->second.value)
      return std::nullopt; // its definition failed, and said so
    return Operand{it->second.value, it->second.origin};
  }
  if (auto param = paramValues.find(name); param != paramValues.end())
    return Operand{param->second, Origin{paramNames.lookup(name),
                                         "'" + name + "', created here"}};
  if (lookupFunction(name) || lookupLayer(name) || lookupObjective(name)) {
    diagnostics.error(e.loc(), "'" + name + "' is a function; call it, as in " +
                                   name + "(...)");
    return std::nullopt;
  }
  auto later = definitions.find(name);
  if (later != definitions.end()) {
    diagnostics.error(e.loc(), "'" + name + "' is used before it is defined");
    diagnostics.note(later->second, "'" + name + "' is defined here");
    return std::nullopt;
  }
  std::vector<std::string> known;
  for (const auto &entry : scope)
    known.push_back(entry.getKey().str());
  for (const auto &entry : paramNames)
    known.push_back(entry.getKey().str());
  llvm::sort(known);
  if (llvm::StringRef(name).contains('.')) {
    // Parameters are created as their layers are lowered: a loss names
    // dense_1.weight after the dense layer.
    diagnostics.error(
        e.loc(),
        "unknown parameter '" + name + "'" + didYouMean(name, known) +
            (paramNames.empty() ? std::string()
                                : " (parameters are known once the statement "
                                  "creating them is lowered)"));
    return std::nullopt;
  }
  diagnostics.error(e.loc(),
                    "unknown name '" + name + "'" + didYouMean(name, known));
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerCall(const CallExpr &e) {
  const std::string &callee = e.getCallee();
  if (const LayerDef *layer = lookupLayer(callee))
    return lowerLayerCall(*layer, e, *this, namer);
  if (const FunctionDef *fn = lookupFunction(callee)) {
    auto args = bindArguments(e, fn->signature, diagnostics);
    if (!args)
      return std::nullopt;
    CallContext context(*this, e, std::move(*args));
    return fn->lower(context);
  }
  if (const ObjectiveDef *objective = lookupObjective(callee)) {
    // Losses are functions; metrics are finished by the runtime over a
    // whole data set, so they exist only as `metric` statements.
    if (!objective->isLoss) {
      diagnostics.error(e.loc(), "'" + callee +
                                     "' can only be used in a 'metric' "
                                     "statement");
      return std::nullopt;
    }
    auto args = bindArguments(e, objective->signature, diagnostics);
    if (!args)
      return std::nullopt;
    CallContext context(*this, e, std::move(*args));
    return objective->lower(context);
  }
  if (scope.count(callee)) {
    diagnostics.error(e.loc(), "'" + callee + "' is a value, not a function");
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (const FunctionDef &fn : allFunctions())
    names.push_back(fn.name().str());
  for (const LayerDef &layer : allLayers())
    names.push_back(layer.kind.str());
  for (const ObjectiveDef &o : allObjectives())
    if (o.isLoss)
      names.push_back(o.name().str());
  diagnostics.error(e.loc(), "unknown function '" + callee + "'" +
                                 didYouMean(callee, names));
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerBinary(const BinaryExpr &e) {
  auto operands = lowerOperands(e.getLHS(), e.getRHS());
  if (!operands)
    return std::nullopt;
  OpKind kind = OpKind::MatMul;
  switch (e.getOp()) {
  case BinaryOp::Add:
    kind = OpKind::Add;
    break;
  case BinaryOp::Sub:
    kind = OpKind::Sub;
    break;
  case BinaryOp::Mul:
    kind = OpKind::Mul;
    break;
  case BinaryOp::Div:
    kind = OpKind::Div;
    break;
  case BinaryOp::MatMul:
    break;
  }
  return emit(kind, {operands->first, operands->second}, e.loc(),
              "'" + spelling(e.getOp()).str() + "'");
}

std::optional<std::pair<Operand, Operand>>
ModelLowering::lowerOperands(const Expr &a, const Expr &b) {
  auto litA = asLiteral(a), litB = asLiteral(b);
  if (litA && !litB) {
    auto rhs = lowerTensor(b);
    if (!rhs)
      return std::nullopt;
    auto lhs = lowerLiteral(*litA, rhs->value->type().element());
    if (!lhs)
      return std::nullopt;
    return std::make_pair(*lhs, *rhs);
  }
  auto lhs = lowerTensor(a);
  if (!lhs)
    return std::nullopt;
  auto rhs =
      litB ? lowerLiteral(*litB, lhs->value->type().element()) : lowerTensor(b);
  if (!rhs)
    return std::nullopt;
  return std::make_pair(*lhs, *rhs);
}

std::optional<ModelLowering::Literal>
ModelLowering::asLiteral(const Expr &e) const {
  if (auto *n = llvm::dyn_cast<NumberExpr>(&e))
    return Literal{n->getValue(), n->isInteger(), n->getSpelling(), e.loc()};
  if (llvm::isa<BatchExpr>(e))
    return Literal{double(batch), true, "batch", e.loc()};
  if (auto *neg = llvm::dyn_cast<NegateExpr>(&e))
    if (auto inner = asLiteral(neg->getOperand()))
      return Literal{-inner->value, inner->isInteger, "-" + inner->spelling,
                     e.loc()};
  return std::nullopt;
}

std::optional<Operand> ModelLowering::lowerLiteral(const Literal &lit,
                                                   ElementType elt) {
  if (elt == ElementType::I32) {
    if (!lit.isInteger) {
      diagnostics.error(lit.loc, "the number " + lit.spelling +
                                     " is not an integer, but the other "
                                     "operand is i32");
      return std::nullopt;
    }
    if (lit.value < INT32_MIN || lit.value > INT32_MAX) {
      diagnostics.error(lit.loc,
                        "the number " + lit.spelling + " does not fit in i32");
      return std::nullopt;
    }
  } else if (std::abs(lit.value) > FLT_MAX) {
    diagnostics.error(lit.loc, "the number " + lit.spelling +
                                   " is too large for " + elementTypeName(elt));
    return std::nullopt;
  }
  AttrDict attrs;
  attrs.set("value", lit.value);
  auto value = emit(OpKind::Constant, {}, lit.loc, "", std::move(attrs),
                    {TensorType(elt, {})});
  if (value)
    value->origin.description = "the number " + lit.spelling + " here";
  return value;
}

//===----------------------------------------------------------------------===//
// Creating ops and parameters
//===----------------------------------------------------------------------===//

std::optional<Operand>
ModelLowering::emit(OpKind kind, llvm::ArrayRef<Operand> operands,
                    const Location &loc, llvm::StringRef what, AttrDict attrs,
                    llvm::ArrayRef<TensorType> declared) {
  llvm::SmallVector<Value *, 3> values;
  for (const Operand &o : operands)
    values.push_back(o.value);
  builder.setLoc(loc);
  auto op = builder.tryCreate(kind, values, std::move(attrs), declared);
  if (!op) {
    reportOpError(kind, operands, declared, loc,
                  llvm::toString(op.takeError()));
    return std::nullopt;
  }
  Value *result = (*op)->result();
  if (!checkedNumElements(result->type().shape())) {
    diagnostics.error(loc, "the result of " + what + ", " +
                               result->type().str() + ", is too large " +
                               sizeLimits());
    for (const Operand &o : operands)
      noteOrigin(o);
    return std::nullopt;
  }
  return Operand{result, Origin{loc, "the result of " + what.str() + " here"}};
}

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

/// "cannot multiply A by B": the operation in the user's words.
static std::string describeOperation(OpKind kind,
                                     llvm::ArrayRef<TensorType> operands,
                                     llvm::ArrayRef<TensorType> declared) {
  auto op = [&](unsigned i) {
    return i < operands.size() ? operands[i].str() : std::string("?");
  };
  std::string target = declared.empty() ? "" : declared[0].str();
  switch (kind) {
  case OpKind::MatMul:
    return "cannot multiply " + op(0) + " by " + op(1);
  case OpKind::Add:
    return "cannot add " + op(0) + " and " + op(1);
  case OpKind::Sub:
    return "cannot subtract " + op(1) + " from " + op(0);
  case OpKind::Mul:
    return "cannot multiply " + op(0) + " and " + op(1) + " element-wise";
  case OpKind::Div:
    return "cannot divide " + op(0) + " by " + op(1);
  case OpKind::Pow:
    return "cannot raise " + op(0) + " to the power " + op(1);
  case OpKind::Compare:
    return "cannot compare " + op(0) + " and " + op(1);
  case OpKind::SoftmaxCrossEntropy:
    return "cannot compute the cross-entropy of logits " + op(0) +
           " and labels " + op(1);
  case OpKind::Reshape:
    return "cannot reshape " + op(0) + " to " + target;
  case OpKind::Cast:
    return "cannot cast " + op(0) + " to " + target;
  case OpKind::Transpose:
    return "cannot transpose " + op(0);
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
    return "cannot reduce " + op(0);
  default:
    break;
  }
  std::string s = "cannot apply '" + getOpDef(kind).name.str() + "' to ";
  for (size_t i = 0; i < operands.size(); ++i)
    s += (i ? " and " : "") + operands[i].str();
  return s;
}

void ModelLowering::reportOpError(OpKind kind, llvm::ArrayRef<Operand> operands,
                                  llvm::ArrayRef<TensorType> declared,
                                  const Location &loc,
                                  const std::string &ruleMessage) {
  llvm::SmallVector<TensorType, 3> types;
  for (const Operand &o : operands)
    types.push_back(o.value->type());
  // A type rule that already says what cannot be done ("cannot broadcast
  // f32[4] and f32[3]: ...") is clear on its own at the operator.
  std::string message =
      llvm::StringRef(ruleMessage).starts_with("cannot ")
          ? ruleMessage
          : describeOperation(kind, types, declared) + ": " + ruleMessage;
  diagnostics.error(loc, message);
  llvm::SmallSet<std::pair<Value *, std::string>, 4> noted;
  for (const Operand &o : operands)
    if (noted.insert({o.value, o.origin.loc.str()}).second)
      noteOrigin(o);
}

void ModelLowering::noteOrigin(const Operand &operand) {
  if (operand.origin.loc.isUnknown())
    return;
  diagnostics.note(operand.origin.loc, operand.value->type().str() + " is " +
                                           operand.origin.description);
}

} // namespace nnc::nn
