//===- Lexer.h - Tokens of the .nn model language ---------------*- C++ -*-===//
//
// The lexer turns a model file into tokens, each with the line and column it
// starts at, so that every AST node and every op lowered from it can point
// back at the user's text. Newlines are not tokens: every statement starts
// with a keyword or `name =`, which is enough to tell where one ends.
//
// Bad bytes (control characters, invalid UTF-8, non-ASCII letters in names)
// come back as Error tokens carrying the message; the lexer always moves past
// them, so the parser can report and carry on.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_LEXER_H
#define NNC_FRONTEND_LEXER_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace nnc::nn {

enum class Tok {
  Eof,
  Error, ///< Token::text holds the message.
  Identifier,
  Integer,
  Float,
  String, ///< Token::text holds the unescaped contents.

  // Keywords. `batch`, `true` and `false` are keywords too: `batch` is the
  // symbolic batch dimension and a train-block entry.
  KwModel,
  KwTrain,
  KwInput,
  KwLabel,
  KwOutput,
  KwLoss,
  KwMetric,
  KwBatch,
  KwTrue,
  KwFalse,

  // Punctuation and operators.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Equal,
  Plus,
  Minus,
  Star,
  Slash,
  At,
  Dot, ///< Between the parts of a qualified name: `dense_1.weight`.
};

struct Token {
  Tok kind = Tok::Eof;
  llvm::StringRef spelling; ///< The source text of the token.
  std::string text;         ///< Identifier, unescaped string or error message.
  unsigned line = 1, col = 1;
  /// True for the first token of a line. Newlines mean nothing to the
  /// grammar, but after a syntax error they show where to resume.
  bool startsLine = false;

  bool is(Tok k) const { return kind == k; }
  bool isNot(Tok k) const { return kind != k; }
  bool isKeyword() const {
    return kind >= Tok::KwModel && kind <= Tok::KwFalse;
  }
};

/// How a token kind reads in an error message: `'('`, `a number`.
std::string describeTokenKind(Tok kind);

/// How a token reads in an error message: `'+'`, `'dense'`, `end of file`.
std::string describeToken(const Token &tok);

class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer) : buf(buffer), cur(buffer.begin()) {}

  /// Returns the next token; Eof at the end, forever after.
  Token lex();

private:
  Token make(Tok kind, const char *start, std::string text = "");
  Token lexIdentifier(const char *start);
  Token lexNumber(const char *start);
  Token lexString(const char *start);
  Token lexBadByte(const char *start);
  void skipSpaceAndComments();
  /// Moves past one byte, keeping the line and column up to date.
  void step();

  llvm::StringRef buf;
  const char *cur;
  unsigned line = 1;
  const char *lineStart = buf.begin();
  unsigned tokLine = 1, tokCol = 1;
  bool tokStartsLine = true;
};

} // namespace nnc::nn

#endif // NNC_FRONTEND_LEXER_H
