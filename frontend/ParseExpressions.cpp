//===- ParseExpressions.cpp - Expressions of the .nn language -------------===//
//
// Operators by precedence climbing, primaries, calls and lists. Nesting is
// counted as it is parsed and the height of the tree as it is built, so
// neither deep parentheses nor long operator chains can exhaust the stack
// of the parser or of anything that walks the tree later.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include <cmath>

namespace nnc::nn {

using namespace ast;

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
    // A qualified name, `dense_1.weight`, names a layer's parameter.
    Location at = loc();
    std::string name = tok.text;
    consume();
    while (tok.is(Tok::Dot)) {
      consume();
      if (tok.isNot(Tok::Identifier))
        return expected("a name after '.' in '" + name + ".'");
      name += "." + tok.text;
      consume();
    }
    return std::make_unique<NameExpr>(std::move(at), std::move(name));
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
