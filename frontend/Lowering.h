//===- Lowering.h - Semantic checks and lowering to the graph IR ----------===//
//
// ModelLowering walks a model block statement by statement and builds its
// forward graph:
//
//   graph @<model>(<inputs...>, <label>) -> (loss, <metrics...>)
//
// The arguments are the inputs in order of declaration, then the label (if
// any). Every `param` op comes first, in order of creation, then the
// computation, then `return` of the loss and the metrics under their names.
// Each op carries the location of the construct that produced it.
//
// Errors are reported in the user's terms at the user's text and lowering
// continues with the next statement: a name whose definition failed is
// remembered as failed, so its later uses do not repeat the error.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_LOWERING_H
#define NNC_FRONTEND_LOWERING_H

#include "frontend/Frontend.h"
#include "frontend/Layers.h"
#include "frontend/LoweringContext.h"
#include "ir/Builder.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

namespace nnc::nn {

class ModelLowering : public LoweringContext {
public:
  ModelLowering(const ast::ModelDecl &model, int64_t batchSize,
                DiagnosticEngine &diag);

  /// Lowers the model; null after reporting errors. The graph verifies.
  std::unique_ptr<Graph> lower();
  /// Lowers the model's inference graph (Frontend.h), reporting the same
  /// errors as lower() and those of the output; null after errors.
  std::unique_ptr<Graph> lowerInference(OutputKind *kind);

  /// Standardise every f32 input (Frontend.h, ModelOptions).
  void setStandardizeInputs(bool on) { standardizeInputs = on; }
  /// Lower the training step's forward graph (Frontend.h, ModelOptions).
  void setTraining(bool on) { isTraining = on; }
  void setSeed(uint64_t s) { runSeed = s; }

  // LoweringContext.
  DiagnosticEngine &diag() override { return diagnostics; }
  int64_t batchSize() const override { return batch; }
  ConstantReader &constants() override { return constReader; }
  std::optional<Operand> lowerTensor(const ast::Expr &e) override;
  std::optional<std::pair<Operand, Operand>>
  lowerOperands(const ast::Expr &a, const ast::Expr &b) override;
  std::optional<Operand>
  emit(OpKind kind, llvm::ArrayRef<Operand> operands, const Location &loc,
       llvm::StringRef what, AttrDict attrs = {},
       llvm::ArrayRef<TensorType> declared = {}) override;
  std::optional<Operand> createParam(const std::string &name,
                                     const TensorType &type,
                                     const Initializer &init,
                                     const Location &loc) override;
  llvm::StringRef boundName() const override { return currentBinding; }
  bool training() const override { return isTraining; }
  uint64_t seed() const override { return runSeed; }
  Value *createState(const std::string &name, const TensorType &type,
                     llvm::StringRef init, const Location &loc) override;
  void assign(Value *variable, Value *value, const Location &loc) override;
  Value *stepCounter(const Location &loc) override;

private:
  /// (x - mean) / std of the input `decl`'s argument, with its statistics
  /// as states.
  Value *standardized(const ast::InputStmt &decl, Value *arg);

public:
private:
  /// What a name is bound to. A null value means its definition failed.
  struct Binding {
    Value *value = nullptr;
    Origin origin;
  };
  /// A result of the graph: the loss or a metric.
  struct Result {
    std::string name;
    Value *value;
    Location loc;
  };
  /// A number written in the source, possibly negated.
  struct Literal {
    double value;
    bool isInteger;
    std::string spelling;
    Location loc;
  };

  /// Lowers every statement and reports what the model lacks; false after
  /// errors.
  bool lowerBody();
  void declareArguments();
  /// Keeps only the ops the terminator's operands need, and drops the
  /// label argument; false when the output needs the label.
  bool pruneToOutput();
  void lowerStatement(const ast::Stmt &stmt);
  void lowerAssign(const ast::AssignStmt &stmt);
  void lowerOutput(const ast::OutputStmt &stmt);
  void lowerObjective(const ast::ObjectiveStmt &stmt);
  void lowerMetric(const ast::ObjectiveStmt &stmt);
  std::optional<Operand> lowerName(const ast::NameExpr &e);
  std::optional<Operand> lowerCall(const ast::CallExpr &e);
  std::optional<Operand> lowerBinary(const ast::BinaryExpr &e);
  std::optional<Literal> asLiteral(const ast::Expr &e) const;
  std::optional<Operand> lowerLiteral(const Literal &lit, ElementType elt);
  void reportOpError(OpKind kind, llvm::ArrayRef<Operand> operands,
                     llvm::ArrayRef<TensorType> declared, const Location &loc,
                     const std::string &ruleMessage);
  void noteOrigin(const Operand &operand);
  bool failed() const { return diagnostics.numErrors() > errorsAtStart; }

  const ast::ModelDecl &model;
  int64_t batch;
  bool standardizeInputs = false;
  bool isTraining = true;
  uint64_t runSeed = 0;
  Value *step = nullptr;
  DiagnosticEngine &diagnostics;
  unsigned errorsAtStart;
  ConstantReader constReader;
  std::unique_ptr<Graph> graph;
  Builder builder;
  Op *lastParam = nullptr;
  LayerNamer namer;

  llvm::StringMap<Binding> scope;
  /// Where each name is first defined, to tell "used before it is defined"
  /// from "unknown".
  llvm::StringMap<Location> definitions;
  llvm::DenseMap<const ast::InputStmt *, Value *> arguments;
  llvm::StringMap<Location> paramNames;
  /// Parameters by name, for qualified names in expressions
  /// (`l2(dense_1.weight)`).
  llvm::StringMap<Value *> paramValues;
  std::string currentBinding;

  std::optional<Result> loss;
  Location lossLoc; ///< Set by a loss statement even if it failed.
  std::vector<Result> metrics;
  Location outputLoc;
  std::string outputName;
  Value *outputValue = nullptr;
  const ast::InputStmt *label = nullptr;
};

} // namespace nnc::nn

#endif // NNC_FRONTEND_LOWERING_H
