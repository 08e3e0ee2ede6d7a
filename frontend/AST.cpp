//===- AST.cpp - Syntax tree of the .nn model language --------------------===//
#include "frontend/AST.h"

#include "llvm/ADT/STLExtras.h"

namespace nnc::ast {

llvm::StringRef spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  }
  return "?";
}

static unsigned maxDepth(const std::vector<ExprPtr> &exprs) {
  unsigned d = 0;
  for (const ExprPtr &e : exprs)
    d = std::max(d, e->depth());
  return d;
}

CallExpr::CallExpr(Location loc, std::string callee, std::vector<ExprPtr> args,
                   std::vector<KeywordArg> kwargs)
    : Expr(Kind::Call, std::move(loc),
           [&] {
             unsigned d = maxDepth(args);
             for (const KeywordArg &kw : kwargs)
               d = std::max(d, kw.value->depth());
             return d + 1;
           }()),
      callee(std::move(callee)), args(std::move(args)),
      kwargs(std::move(kwargs)) {}

ListExpr::ListExpr(Location loc, std::vector<ExprPtr> elements)
    : Expr(Kind::List, std::move(loc), maxDepth(elements) + 1),
      elements(std::move(elements)) {}

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

namespace {

/// Locations print as ` @line:col`; the file is named once, at the top.
struct At {
  const Location &loc;
};
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, At at) {
  return os << " @" << at.loc.line << ":" << at.loc.col;
}

void printQuotedString(llvm::raw_ostream &os, llvm::StringRef s) {
  os << '"';
  os.write_escaped(s);
  os << '"';
}

void dumpType(const TypeSpec &type, llvm::raw_ostream &os) {
  os << type.element << "[";
  llvm::interleaveComma(type.dims, os, [&](const TypeSpec::Dim &d) {
    if (d.isBatch)
      os << "batch";
    else
      os << d.size;
  });
  os << "]";
}

void dumpStmt(const Stmt &stmt, llvm::raw_ostream &os, unsigned indent) {
  os.indent(indent);
  if (auto *in = llvm::dyn_cast<InputStmt>(&stmt)) {
    os << (in->isLabel() ? "Label " : "Input ") << in->getName() << ": ";
    dumpType(in->getType(), os);
    os << At{stmt.loc()} << "\n";
  } else if (auto *assign = llvm::dyn_cast<AssignStmt>(&stmt)) {
    os << "Assign " << assign->getName() << At{stmt.loc()} << "\n";
    dump(assign->getValue(), os, indent + 2);
  } else if (auto *out = llvm::dyn_cast<OutputStmt>(&stmt)) {
    os << "Output " << out->getName() << At{stmt.loc()} << "\n";
  } else if (auto *obj = llvm::dyn_cast<ObjectiveStmt>(&stmt)) {
    os << (obj->isMetric() ? "Metric" : "Loss") << At{stmt.loc()} << "\n";
    dump(obj->getValue(), os, indent + 2);
  }
}

} // namespace

void dump(const Expr &expr, llvm::raw_ostream &os, unsigned indent) {
  os.indent(indent);
  switch (expr.kind()) {
  case Expr::Kind::Number:
    os << "Number " << llvm::cast<NumberExpr>(expr).getSpelling();
    break;
  case Expr::Kind::String:
    os << "String ";
    printQuotedString(os, llvm::cast<StringExpr>(expr).getValue());
    break;
  case Expr::Kind::Name:
    os << "Name " << llvm::cast<NameExpr>(expr).getName();
    break;
  case Expr::Kind::Batch:
    os << "Batch";
    break;
  case Expr::Kind::Bool:
    os << "Bool " << (llvm::cast<BoolExpr>(expr).getValue() ? "true" : "false");
    break;
  case Expr::Kind::Negate:
    os << "Negate" << At{expr.loc()} << "\n";
    dump(llvm::cast<NegateExpr>(expr).getOperand(), os, indent + 2);
    return;
  case Expr::Kind::Binary: {
    auto &bin = llvm::cast<BinaryExpr>(expr);
    os << "Binary '" << spelling(bin.getOp()) << "'" << At{expr.loc()} << "\n";
    dump(bin.getLHS(), os, indent + 2);
    dump(bin.getRHS(), os, indent + 2);
    return;
  }
  case Expr::Kind::Call: {
    auto &call = llvm::cast<CallExpr>(expr);
    os << "Call " << call.getCallee() << At{expr.loc()} << "\n";
    for (const ExprPtr &arg : call.getArgs())
      dump(*arg, os, indent + 2);
    for (const KeywordArg &kw : call.getKeywordArgs()) {
      os.indent(indent + 2) << "Keyword " << kw.name << At{kw.loc} << "\n";
      dump(*kw.value, os, indent + 4);
    }
    return;
  }
  case Expr::Kind::List:
    os << "List" << At{expr.loc()} << "\n";
    for (const ExprPtr &e : llvm::cast<ListExpr>(expr).getElements())
      dump(*e, os, indent + 2);
    return;
  }
  os << At{expr.loc()} << "\n";
}

void dump(const ModelFile &file, llvm::raw_ostream &os) {
  os << "ModelFile";
  if (file.model && !file.model->loc.isUnknown()) {
    os << " ";
    printQuotedString(os, file.model->loc.file);
  }
  os << "\n";
  if (file.model) {
    os.indent(2) << "Model " << file.model->name << At{file.model->loc} << "\n";
    for (const StmtPtr &stmt : file.model->body)
      dumpStmt(*stmt, os, 4);
  }
  if (file.train) {
    os.indent(2) << "Train" << At{file.train->loc} << "\n";
    for (const TrainEntry &entry : file.train->entries) {
      os.indent(4) << "Entry " << entry.key << At{entry.loc} << "\n";
      dump(*entry.value, os, 6);
    }
  }
}

} // namespace nnc::ast
