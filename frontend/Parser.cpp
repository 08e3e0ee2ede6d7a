//===- Parser.cpp - Recursive-descent parser of the .nn language ----------===//
#include "frontend/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

namespace nnc::nn {

using namespace ast;

//===----------------------------------------------------------------------===//
// Tokens, errors and recovery
//===----------------------------------------------------------------------===//

void Parser::consume() {
  if (tok.isNot(Tok::Eof) || tok.spelling.data()) {
    prevEndLine = tok.line;
    prevEndCol = tok.col + tok.spelling.size();
  }
  if (lookahead) {
    tok = std::move(*lookahead);
    lookahead.reset();
  } else {
    tok = lexer.lex();
  }
  if (stopped) {
    tok.kind = Tok::Eof;
    return;
  }
  if (tok.is(Tok::Error))
    error(tok.text);
}

const Token &Parser::peek() {
  if (!lookahead)
    lookahead = lexer.lex();
  return *lookahead;
}

std::nullptr_t Parser::error(const Location &at, const llvm::Twine &msg) {
  if (stopped)
    return nullptr;
  diag.error(at, msg);
  if (++errors >= kMaxParseErrors) {
    diag.error(at, "too many errors; stopping here");
    stopped = true;
    tok.kind = Tok::Eof;
    lookahead.reset();
  }
  return nullptr;
}

void Parser::note(const Location &at, const llvm::Twine &msg) {
  if (!stopped)
    diag.note(at, msg);
}

Location Parser::missingLoc() const {
  if (prevEndLine == 0 || tok.line == prevEndLine)
    return loc();
  return Location(fileName, prevEndLine, prevEndCol);
}

std::nullptr_t Parser::expected(const llvm::Twine &what) {
  if (tok.is(Tok::Error))
    return nullptr;
  return error(missingLoc(),
               "expected " + what + ", found " + describeToken(tok));
}

std::nullptr_t Parser::expectedHere(const llvm::Twine &what) {
  if (tok.is(Tok::Error))
    return nullptr;
  return error("expected " + what + ", found " + describeToken(tok));
}

bool Parser::expect(Tok kind, const llvm::Twine &what) {
  if (tok.isNot(kind)) {
    expected(what);
    return false;
  }
  consume();
  return true;
}

bool Parser::tooDeep(unsigned treeDepth) {
  if (depth <= kMaxExpressionDepth && treeDepth <= kMaxExpressionDepth)
    return false;
  error("expression nested too deeply (more than " +
        llvm::Twine(kMaxExpressionDepth) + " levels)");
  return true;
}

/// Tokens that start a statement or a block wherever they are, and keywords
/// that do when they begin a line (`batch = 3` is still a statement).
static bool startsStatement(const Token &t) {
  switch (t.kind) {
  case Tok::KwInput:
  case Tok::KwLabel:
  case Tok::KwOutput:
  case Tok::KwLoss:
  case Tok::KwMetric:
  case Tok::KwModel:
  case Tok::KwTrain:
    return true;
  default:
    return t.startsLine && t.isKeyword();
  }
}

void Parser::recoverInModel(const char *failedAt) {
  // Always move on, so that a statement failing on its first token cannot
  // make the statement loop spin.
  if (tok.spelling.data() == failedAt && tok.isNot(Tok::Eof))
    consume();
  int nesting = 0;
  while (tok.isNot(Tok::Eof) && !startsStatement(tok)) {
    if (tok.is(Tok::LParen) || tok.is(Tok::LBracket) || tok.is(Tok::LBrace))
      ++nesting;
    else if (tok.is(Tok::RParen) || tok.is(Tok::RBracket))
      nesting = std::max(0, nesting - 1);
    else if (tok.is(Tok::RBrace) && nesting-- == 0)
      return;
    else if (tok.is(Tok::Identifier) && nesting == 0 &&
             (tok.startsLine || peek().is(Tok::Equal)))
      return;
    nesting = std::max(0, nesting);
    consume();
  }
}

/// The entries a train block knows; used only to find where the next entry
/// starts after a syntax error.
static bool isTrainKey(const Token &t) {
  static const char *const keys[] = {"data", "optimizer", "epochs", "seed",
                                     "shuffle"};
  return t.is(Tok::KwBatch) ||
         (t.is(Tok::Identifier) && llvm::is_contained(keys, t.text));
}

void Parser::recoverInTrain(const char *failedAt) {
  if (tok.spelling.data() == failedAt && tok.isNot(Tok::Eof))
    consume();
  int nesting = 0;
  while (tok.isNot(Tok::Eof) && tok.isNot(Tok::KwModel) &&
         tok.isNot(Tok::KwTrain)) {
    if (tok.is(Tok::LParen) || tok.is(Tok::LBracket) || tok.is(Tok::LBrace))
      ++nesting;
    else if (tok.is(Tok::RParen) || tok.is(Tok::RBracket))
      nesting = std::max(0, nesting - 1);
    else if (tok.is(Tok::RBrace) && nesting-- == 0)
      return;
    else if (nesting == 0 &&
             (isTrainKey(tok) || (tok.startsLine && tok.is(Tok::Identifier))))
      return;
    nesting = std::max(0, nesting);
    consume();
  }
}

void Parser::recoverAtTopLevel() {
  if (tok.isNot(Tok::Eof))
    consume();
  while (tok.isNot(Tok::Eof) && tok.isNot(Tok::KwModel) &&
         tok.isNot(Tok::KwTrain))
    consume();
}

//===----------------------------------------------------------------------===//
// Blocks and statements
//===----------------------------------------------------------------------===//

std::unique_ptr<ModelFile> Parser::parseModelFile() {
  size_t nul = buffer.find('\0');
  if (nul != llvm::StringRef::npos) {
    llvm::StringRef before = buffer.take_front(nul);
    unsigned line = 1 + before.count('\n');
    unsigned col = nul - (before.rfind('\n') + 1) + 1;
    error(Location(fileName, line, col),
          "this is not a model file: it contains a NUL byte, as binary files "
          "do");
    return nullptr;
  }
  consume();
  auto file = std::make_unique<ModelFile>();
  Location firstModel, firstTrain;
  while (tok.isNot(Tok::Eof)) {
    if (tok.is(Tok::KwModel)) {
      Location at = loc();
      auto model = parseModel();
      if (!firstModel.isUnknown()) {
        error(at, "a file holds exactly one model block");
        note(firstModel, "the first one is here");
      } else {
        firstModel = at;
        file->model = std::move(model);
      }
    } else if (tok.is(Tok::KwTrain)) {
      Location at = loc();
      auto train = parseTrain();
      if (!firstTrain.isUnknown()) {
        error(at, "a file holds at most one train block");
        note(firstTrain, "the first one is here");
      } else {
        firstTrain = at;
        file->train = std::move(train);
      }
    } else {
      expectedHere("a 'model' or 'train' block");
      recoverAtTopLevel();
    }
  }
  if (firstModel.isUnknown() && !errors)
    error("expected a 'model' block, found end of file");
  if (errors)
    return nullptr;
  return file;
}

std::unique_ptr<ModelDecl> Parser::parseModel() {
  consume(); // 'model'
  auto model = std::make_unique<ModelDecl>();
  model->loc = loc();
  if (tok.isNot(Tok::Identifier)) {
    expected("the model's name after 'model'");
    recoverAtTopLevel();
    return nullptr;
  }
  model->name = tok.text;
  consume();
  Location open = loc();
  if (!expect(Tok::LBrace, "'{' after the model's name")) {
    recoverAtTopLevel();
    return nullptr;
  }
  while (true) {
    if (tok.is(Tok::RBrace)) {
      consume();
      return model;
    }
    if (tok.is(Tok::Eof) || tok.is(Tok::KwModel) || tok.is(Tok::KwTrain)) {
      expected("'}' to close model '" + model->name + "'");
      note(open, "the model block opens here");
      return model;
    }
    const char *start = tok.spelling.data();
    if (StmtPtr stmt = parseStatement())
      model->body.push_back(std::move(stmt));
    else
      recoverInModel(start);
  }
}

StmtPtr Parser::parseStatement() {
  // `loss = ...`: keywords cannot be rebound.
  if (tok.isKeyword() && peek().is(Tok::Equal))
    return error("'" + tok.text +
                 "' is a keyword and cannot be assigned; choose another name");
  switch (tok.kind) {
  case Tok::KwInput:
  case Tok::KwLabel:
    return parseInput();
  case Tok::KwOutput:
    return parseOutput();
  case Tok::KwLoss:
  case Tok::KwMetric:
    return parseObjective();
  case Tok::Identifier:
    // A bad byte right after a name (`hé = ...`) is the only problem.
    if (peek().is(Tok::Error)) {
      consume();
      return nullptr;
    }
    if (peek().is(Tok::Equal))
      return parseAssign();
    if (peek().is(Tok::LParen))
      return error("the result of '" + tok.text +
                   "(...)' must be bound to a name, as in 'h = " + tok.text +
                   "(...)'");
    return error(peek().line == tok.line
                     ? loc(peek())
                     : Location(fileName, tok.line,
                                tok.col + unsigned(tok.spelling.size())),
                 "expected '=' after '" + tok.text +
                     "' (a statement is 'name = expression' or starts with "
                     "input, label, output, loss or metric)");
  default:
    return expectedHere("a statement (input, label, output, loss, metric or "
                        "'name = expression')");
  }
}

StmtPtr Parser::parseInput() {
  bool isLabel = tok.is(Tok::KwLabel);
  Location at = loc();
  consume();
  if (tok.isNot(Tok::Identifier))
    return expected(isLabel ? "the label's name after 'label'"
                            : "the input's name after 'input'");
  std::string name = tok.text;
  Location nameLoc = loc();
  consume();
  if (!expect(Tok::Colon, "':' and a type after '" + name + "'"))
    return nullptr;
  auto type = parseType();
  if (!type)
    return nullptr;
  return std::make_unique<InputStmt>(std::move(at), isLabel, std::move(name),
                                     std::move(nameLoc), std::move(*type));
}

std::optional<TypeSpec> Parser::parseType() {
  if (tok.isNot(Tok::Identifier)) {
    expected("a type such as f32[batch, 784]");
    return std::nullopt;
  }
  TypeSpec type;
  type.element = tok.text;
  type.loc = loc();
  consume();
  if (!expect(Tok::LBracket, "'[' after the element type"))
    return std::nullopt;
  while (tok.isNot(Tok::RBracket)) {
    TypeSpec::Dim dim;
    dim.loc = loc();
    if (tok.is(Tok::KwBatch)) {
      dim.isBatch = true;
    } else if (tok.is(Tok::Integer)) {
      if (tok.spelling.getAsInteger(10, dim.size) || dim.size > INT32_MAX) {
        error("dimension " + tok.spelling + " is too large");
        return std::nullopt;
      }
      if (dim.size == 0) {
        error("dimensions must be positive, got 0");
        return std::nullopt;
      }
    } else {
      expected("a dimension (a positive integer or 'batch')");
      return std::nullopt;
    }
    consume();
    type.dims.push_back(std::move(dim));
    if (tok.is(Tok::Comma))
      consume();
    else if (tok.isNot(Tok::RBracket)) {
      expected("',' or ']' in the type");
      return std::nullopt;
    }
  }
  consume(); // ']'
  return type;
}

StmtPtr Parser::parseOutput() {
  Location at = loc();
  consume();
  if (tok.isNot(Tok::Identifier))
    return expected("the name of the model's output after 'output'");
  auto stmt = std::make_unique<OutputStmt>(std::move(at), tok.text, loc());
  consume();
  return stmt;
}

StmtPtr Parser::parseObjective() {
  bool isMetric = tok.is(Tok::KwMetric);
  Location at = loc();
  consume();
  const char *example = isMetric ? "accuracy(logits, labels)"
                                 : "softmax_cross_entropy(logits, labels)";
  if (tok.isNot(Tok::Identifier))
    return expected(llvm::Twine(isMetric ? "a metric" : "a loss") +
                    " such as " + example);
  if (peek().isNot(Tok::LParen)) {
    std::string name = tok.text;
    consume();
    if (tok.is(Tok::Error))
      return nullptr;
    return error(missingLoc(), "expected '(' after '" + name + "', found " +
                                   describeToken(tok) + "; a " +
                                   (isMetric ? "metric" : "loss") +
                                   " is a call such as " + example);
  }
  auto call = parseCall();
  if (!call)
    return nullptr;
  return std::make_unique<ObjectiveStmt>(std::move(at), isMetric,
                                         std::move(call));
}

StmtPtr Parser::parseAssign() {
  std::string name = tok.text;
  Location at = loc();
  consume(); // name
  consume(); // '='
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<AssignStmt>(std::move(at), std::move(name),
                                      std::move(value));
}

std::unique_ptr<TrainDecl> Parser::parseTrain() {
  auto train = std::make_unique<TrainDecl>();
  train->loc = loc();
  consume(); // 'train'
  Location open = loc();
  if (!expect(Tok::LBrace, "'{' after 'train'")) {
    recoverAtTopLevel();
    return nullptr;
  }
  while (true) {
    if (tok.is(Tok::RBrace)) {
      consume();
      return train;
    }
    if (tok.is(Tok::Eof) || tok.is(Tok::KwModel) || tok.is(Tok::KwTrain)) {
      expected("'}' to close the train block");
      note(open, "the train block opens here");
      return train;
    }
    const char *start = tok.spelling.data();
    if (!parseTrainEntry(*train))
      recoverInTrain(start);
  }
}

bool Parser::parseTrainEntry(TrainDecl &train) {
  if (tok.isNot(Tok::Identifier) && tok.isNot(Tok::KwBatch)) {
    expectedHere("a train setting (data, optimizer, batch, epochs, seed or "
                 "shuffle)");
    return false;
  }
  TrainEntry entry;
  entry.key = tok.text;
  entry.loc = loc();
  consume();
  if (tok.is(Tok::Equal)) {
    error("train settings are written without '=': '" + entry.key + " value'");
    return false;
  }
  entry.value = parseExpression();
  if (!entry.value)
    return false;
  train.entries.push_back(std::move(entry));
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Binding strength of a binary operator; -1 for other tokens.
static int precedence(Tok kind) {
  switch (kind) {
  case Tok::Plus:
  case Tok::Minus:
    return 1;
  case Tok::Star:
  case Tok::Slash:
  case Tok::At:
    return 2;
  default:
    return -1;
  }
}

static BinaryOp binaryOp(Tok kind) {
  switch (kind) {
  case Tok::Plus:
    return BinaryOp::Add;
  case Tok::Minus:
    return BinaryOp::Sub;
  case Tok::Star:
    return BinaryOp::Mul;
  case Tok::Slash:
    return BinaryOp::Div;
  default:
    return BinaryOp::MatMul;
  }
}

ExprPtr Parser::parseExpression() {
  DepthGuard guard(*this);
  if (tooDeep())
    return nullptr;
  ExprPtr lhs = parseUnary();
  if (!lhs)
    return nullptr;
  return parseBinaryRHS(0, std::move(lhs));
}

ExprPtr Parser::parseBinaryRHS(int minPrecedence, ExprPtr lhs) {
  while (true) {
    int prec = precedence(tok.kind);
    if (prec < minPrecedence || prec < 0)
      return lhs;
    Tok opKind = tok.kind;
    Location opLoc = loc();
    consume();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    // An operator that binds tighter takes rhs as its left operand first.
    if (precedence(tok.kind) > prec) {
      rhs = parseBinaryRHS(prec + 1, std::move(rhs));
      if (!rhs)
        return nullptr;
    }
    lhs = std::make_unique<BinaryExpr>(std::move(opLoc), binaryOp(opKind),
                                       std::move(lhs), std::move(rhs));
    // A long chain `a + a + ...` builds a deep tree without deep recursion.
    if (tooDeep(lhs->depth()))
      return nullptr;
  }
}

ExprPtr Parser::parseUnary() {
  if (tok.isNot(Tok::Minus))
    return parsePrimary();
  DepthGuard guard(*this);
  if (tooDeep())
    return nullptr;
  Location at = loc();
  consume();
  ExprPtr operand = parseUnary();
  if (!operand)
    return nullptr;
  return std::make_unique<NegateExpr>(std::move(at), std::move(operand));
}

ExprPtr Parser::parsePrimary() {
  switch (tok.kind) {
  case Tok::Integer:
  case Tok::Float:
    return parseNumber();
  case Tok::String: {
    auto e = std::make_unique<StringExpr>(loc(), tok.text);
    consume();
    return e;
  }
  case Tok::KwTrue:
  case Tok::KwFalse: {
    auto e = std::make_unique<BoolExpr>(loc(), tok.is(Tok::KwTrue));
    consume();
    return e;
  }
  case Tok::KwBatch: {
    auto e = std::make_unique<BatchExpr>(loc());
    consume();
    return e;
  }
  case Tok::Identifier: {
    if (peek().is(Tok::LParen))
      return parseCall();
    auto e = std::make_unique<NameExpr>(loc(), tok.text);
    consume();
    return e;
  }
  case Tok::LBracket:
    return parseList();
  case Tok::LParen: {
    Location open = loc();
    consume();
    ExprPtr inner = parseExpression();
    if (!inner)
      return nullptr;
    if (tok.isNot(Tok::RParen)) {
      expected("')'");
      note(open, "to match this '('");
      return nullptr;
    }
    consume();
    return inner;
  }
  default:
    return expected("an expression");
  }
}

ExprPtr Parser::parseNumber() {
  Location at = loc();
  std::string spelling = tok.spelling.str();
  if (tok.is(Tok::Integer)) {
    int64_t value;
    if (tok.spelling.getAsInteger(10, value))
      return error("integer " + tok.spelling + " is too large (at most " +
                   llvm::Twine(INT64_MAX) + ")");
    consume();
    return std::make_unique<NumberExpr>(std::move(at), std::move(spelling),
                                        double(value), true, value);
  }
  double value;
  // getAsDouble accepts overflow to infinity and underflow to zero as merely
  // inexact; neither is what the user wrote.
  llvm::StringRef mantissa =
      tok.spelling.take_until([](char c) { return c == 'e' || c == 'E'; });
  bool nonZero = mantissa.find_first_of("123456789") != llvm::StringRef::npos;
  if (tok.spelling.getAsDouble(value) || !std::isfinite(value) ||
      (value == 0 && nonZero))
    return error("number " + tok.spelling +
                 " is out of range for a double-precision float");
  consume();
  return std::make_unique<NumberExpr>(std::move(at), std::move(spelling), value,
                                      false, 0);
}

std::unique_ptr<CallExpr> Parser::parseCall() {
  std::string callee = tok.text;
  Location at = loc();
  consume(); // callee
  Location open = loc();
  consume(); // '('
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  while (tok.isNot(Tok::RParen)) {
    if (tok.is(Tok::Identifier) && peek().is(Tok::Equal)) {
      KeywordArg kw;
      kw.name = tok.text;
      kw.loc = loc();
      consume(); // name
      consume(); // '='
      kw.value = parseExpression();
      if (!kw.value)
        return nullptr;
      kwargs.push_back(std::move(kw));
    } else {
      Location argLoc = loc();
      ExprPtr arg = parseExpression();
      if (!arg)
        return nullptr;
      if (!kwargs.empty())
        return error(argLoc, "positional argument after keyword argument '" +
                                 kwargs.back().name + "'");
      args.push_back(std::move(arg));
    }
    if (tok.is(Tok::Comma)) {
      consume();
    } else if (tok.isNot(Tok::RParen)) {
      expected("',' or ')' in the call to '" + callee + "'");
      if (tok.isNot(Tok::Error))
        note(open, "the argument list opens here");
      return nullptr;
    }
  }
  consume(); // ')'
  auto call = std::make_unique<CallExpr>(std::move(at), std::move(callee),
                                         std::move(args), std::move(kwargs));
  if (tooDeep(call->depth()))
    return nullptr;
  return call;
}

ExprPtr Parser::parseList() {
  Location at = loc();
  consume(); // '['
  std::vector<ExprPtr> elements;
  while (tok.isNot(Tok::RBracket)) {
    ExprPtr e = parseExpression();
    if (!e)
      return nullptr;
    elements.push_back(std::move(e));
    if (tok.is(Tok::Comma)) {
      consume();
    } else if (tok.isNot(Tok::RBracket)) {
      expected("',' or ']' in the list");
      if (tok.isNot(Tok::Error))
        note(at, "the list opens here");
      return nullptr;
    }
  }
  consume(); // ']'
  auto list = std::make_unique<ListExpr>(std::move(at), std::move(elements));
  if (tooDeep(list->depth()))
    return nullptr;
  return list;
}

} // namespace nnc::nn
