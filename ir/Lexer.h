//===- Lexer.h - Tokens of the `.nnir` text format --------------*- C++ -*-===//
#ifndef NNC_IR_LEXER_H
#define NNC_IR_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <string>

namespace nnc::nnir {

enum class Tok {
  Eof,
  Error, ///< The lexer's message is in Token::text.
  Ident,
  ValueId,  ///< %name (text without the %)
  SymbolId, ///< @name (text without the @)
  Integer,
  Float,
  String, ///< text holds the unescaped contents
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Equal,
  Arrow,
};

struct Token {
  Tok kind = Tok::Eof;
  llvm::StringRef spelling; ///< The source text of the token.
  std::string text;         ///< Identifier, unescaped string or error message.
  llvm::SMLoc loc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  bool is(Tok k) const { return kind == k; }
  bool isKeyword(llvm::StringRef kw) const {
    return kind == Tok::Ident && text == kw;
  }
};

class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer) : buf(buffer), cur(buffer.begin()) {}
  Token next();

private:
  Token make(Tok kind, const char *start, std::string text = "");
  Token error(const char *at, const std::string &message);
  Token lexIdentifierLike(Tok kind, const char *start);
  Token lexNumber(const char *start);
  Token lexString(const char *start);
  void skipSpaceAndComments();

  llvm::StringRef buf;
  const char *cur;
};

/// The length of the valid UTF-8 sequence starting at `p` (at most `avail`
/// bytes), or 0 if it is not one.
unsigned utf8SequenceLength(const unsigned char *p, size_t avail);

} // namespace nnc::nnir

#endif
