//===- Parser.cpp - Recursive-descent parser of the .nn language ----------===//
//
// Tokens, errors and recovery, blocks and statements. Expressions are in
// ParseExpressions.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

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
  static const char *const keys[] = {
      "data",    "optimizer",        "epochs",     "seed",
      "shuffle", "validation_split", "split_seed", "standardize"};
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
  parseBlockBody(
      open, "'}' to close model '" + model->name + "'",
      "the model block opens here",
      [&] {
        StmtPtr stmt = parseStatement();
        if (!stmt)
          return false;
        model->body.push_back(std::move(stmt));
        return true;
      },
      [&](const char *start) { recoverInModel(start); });
  return model;
}

void Parser::parseBlockBody(Location open, const llvm::Twine &closing,
                            const llvm::Twine &opensHere,
                            llvm::function_ref<bool()> item,
                            llvm::function_ref<void(const char *)> recover) {
  while (true) {
    if (tok.is(Tok::RBrace)) {
      consume();
      return;
    }
    if (tok.is(Tok::Eof) || tok.is(Tok::KwModel) || tok.is(Tok::KwTrain)) {
      expected(closing);
      note(open, opensHere);
      return;
    }
    const char *start = tok.spelling.data();
    if (!item())
      recover(start);
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
  if (!isMetric) {
    // A loss is any expression: `mean_squared_error(p, y) + 1e-4 * l2(w)`.
    if (tok.is(Tok::RBrace) || tok.is(Tok::Eof) || startsStatement(tok))
      return expected("a loss such as softmax_cross_entropy(logits, labels)");
    ExprPtr value = parseExpression();
    if (!value)
      return nullptr;
    return std::make_unique<ObjectiveStmt>(std::move(at), false,
                                           std::move(value));
  }
  const char *example = "accuracy(logits, labels)";
  if (tok.isNot(Tok::Identifier))
    return expected(llvm::Twine("a metric such as ") + example);
  if (peek().isNot(Tok::LParen)) {
    std::string name = tok.text;
    consume();
    if (tok.is(Tok::Error))
      return nullptr;
    return error(missingLoc(), "expected '(' after '" + name + "', found " +
                                   describeToken(tok) +
                                   "; a metric is a call such as " + example);
  }
  auto call = parseCall();
  if (!call)
    return nullptr;
  return std::make_unique<ObjectiveStmt>(std::move(at), true, std::move(call));
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
  parseBlockBody(
      open, "'}' to close the train block", "the train block opens here",
      [&] { return parseTrainEntry(*train); },
      [&](const char *start) { recoverInTrain(start); });
  return train;
}

std::unique_ptr<TrainDecl> Parser::parseTrainSettings() {
  auto train = std::make_unique<TrainDecl>();
  consume();
  train->loc = loc();
  while (tok.isNot(Tok::Eof))
    if (!parseTrainEntry(*train))
      return nullptr;
  if (errors)
    return nullptr;
  return train;
}

bool Parser::parseTrainEntry(TrainDecl &train) {
  if (tok.isNot(Tok::Identifier) && tok.isNot(Tok::KwBatch)) {
    expectedHere("a train setting (data, optimizer, batch, epochs, seed, "
                 "shuffle, validation_split, split_seed, standardize, "
                 "lr_schedule or early_stopping)");
    return false;
  }
  TrainEntry entry;
  entry.key = tok.text;
  entry.loc = loc();
  // `early_stopping(monitor=test_loss)`: a setting written as a call is
  // its own value.
  if (tok.is(Tok::Identifier) && peek().is(Tok::LParen)) {
    entry.value = parseCall();
    if (!entry.value)
      return false;
    train.entries.push_back(std::move(entry));
    return true;
  }
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

} // namespace nnc::nn
