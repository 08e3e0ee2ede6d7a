//===- Lexer.cpp - Tokens of the .nn model language -----------------------===//
#include "frontend/Lexer.h"
#include "ir/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

namespace nnc::nn {

std::string describeTokenKind(Tok kind) {
  switch (kind) {
  case Tok::Eof:
    return "end of file";
  case Tok::Error:
    return "an invalid token";
  case Tok::Identifier:
    return "a name";
  case Tok::Integer:
  case Tok::Float:
    return "a number";
  case Tok::String:
    return "a string";
  case Tok::KwModel:
    return "'model'";
  case Tok::KwTrain:
    return "'train'";
  case Tok::KwInput:
    return "'input'";
  case Tok::KwLabel:
    return "'label'";
  case Tok::KwOutput:
    return "'output'";
  case Tok::KwLoss:
    return "'loss'";
  case Tok::KwMetric:
    return "'metric'";
  case Tok::KwBatch:
    return "'batch'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Equal:
    return "'='";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::At:
    return "'@'";
  case Tok::Dot:
    return "'.'";
  }
  return "a token";
}

std::string describeToken(const Token &tok) {
  switch (tok.kind) {
  case Tok::Eof:
  case Tok::Error:
    return describeTokenKind(tok.kind);
  case Tok::Integer:
  case Tok::Float:
    return "number " + tok.spelling.str();
  case Tok::String:
    return "string " + tok.spelling.str();
  default:
    if (tok.isKeyword())
      return "keyword '" + tok.spelling.str() + "'";
    return "'" + tok.spelling.str() + "'";
  }
}

static std::string hexByte(unsigned char b) {
  return {llvm::hexdigit(b >> 4), llvm::hexdigit(b & 15)};
}

/// The code point of a valid UTF-8 sequence of `len` bytes.
static uint32_t decodeUTF8(const unsigned char *p, unsigned len) {
  if (len == 1)
    return p[0];
  uint32_t cp = p[0] & (0x7F >> len);
  for (unsigned i = 1; i < len; ++i)
    cp = (cp << 6) | (p[i] & 0x3F);
  return cp;
}

static bool isIdentifierStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isIdentifierChar(char c) { return llvm::isAlnum(c) || c == '_'; }

Token Lexer::make(Tok kind, const char *start, std::string text) {
  Token t;
  t.kind = kind;
  t.spelling = llvm::StringRef(start, cur - start);
  t.text = std::move(text);
  t.line = tokLine;
  t.col = tokCol;
  t.startsLine = tokStartsLine;
  return t;
}

void Lexer::step() {
  if (*cur == '\n') {
    ++line;
    lineStart = cur + 1;
  }
  ++cur;
}

void Lexer::skipSpaceAndComments() {
  while (cur != buf.end()) {
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      step();
    } else if (c == '#') {
      // Comments are free text: anything goes up to the end of the line.
      while (cur != buf.end() && *cur != '\n')
        ++cur;
    } else {
      return;
    }
  }
}

Token Lexer::lex() {
  unsigned lineBefore = line;
  skipSpaceAndComments();
  const char *start = cur;
  tokStartsLine = line != lineBefore || start == buf.begin();
  tokLine = line;
  tokCol = unsigned(start - lineStart) + 1;
  if (cur == buf.end())
    return make(Tok::Eof, start);
  char c = *cur++;
  switch (c) {
  case '(':
    return make(Tok::LParen, start);
  case ')':
    return make(Tok::RParen, start);
  case '[':
    return make(Tok::LBracket, start);
  case ']':
    return make(Tok::RBracket, start);
  case '{':
    return make(Tok::LBrace, start);
  case '}':
    return make(Tok::RBrace, start);
  case ',':
    return make(Tok::Comma, start);
  case ':':
    return make(Tok::Colon, start);
  case '=':
    return make(Tok::Equal, start);
  case '+':
    return make(Tok::Plus, start);
  case '-':
    return make(Tok::Minus, start);
  case '*':
    return make(Tok::Star, start);
  case '/':
    return make(Tok::Slash, start);
  case '@':
    return make(Tok::At, start);
  case '.':
    return make(Tok::Dot, start);
  case '"':
    return lexString(start);
  default:
    break;
  }
  cur = start;
  if (llvm::isDigit(c))
    return lexNumber(start);
  if (isIdentifierStart(c))
    return lexIdentifier(start);
  return lexBadByte(start);
}

Token Lexer::lexIdentifier(const char *start) {
  while (cur != buf.end() && isIdentifierChar(*cur))
    ++cur;
  llvm::StringRef name(start, cur - start);
  Tok kind = llvm::StringSwitch<Tok>(name)
                 .Case("model", Tok::KwModel)
                 .Case("train", Tok::KwTrain)
                 .Case("input", Tok::KwInput)
                 .Case("label", Tok::KwLabel)
                 .Case("output", Tok::KwOutput)
                 .Case("loss", Tok::KwLoss)
                 .Case("metric", Tok::KwMetric)
                 .Case("batch", Tok::KwBatch)
                 .Case("true", Tok::KwTrue)
                 .Case("false", Tok::KwFalse)
                 .Default(Tok::Identifier);
  return make(kind, start, name.str());
}

/// number ::= digit+ ('.' digit*)? (('e' | 'E') ('+' | '-')? digit+)?
Token Lexer::lexNumber(const char *start) {
  bool isFloat = false;
  while (cur != buf.end() && llvm::isDigit(*cur))
    ++cur;
  if (cur != buf.end() && *cur == '.') {
    isFloat = true;
    ++cur;
    while (cur != buf.end() && llvm::isDigit(*cur))
      ++cur;
  }
  if (cur != buf.end() && (*cur == 'e' || *cur == 'E')) {
    isFloat = true;
    ++cur;
    if (cur != buf.end() && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur == buf.end() || !llvm::isDigit(*cur)) {
      return make(Tok::Error, start,
                  "expected digits in the exponent of '" +
                      llvm::StringRef(start, cur - start).str() + "'");
    }
    while (cur != buf.end() && llvm::isDigit(*cur))
      ++cur;
  }
  // `12abc` is a typo, not a number followed by a name.
  if (cur != buf.end() && (isIdentifierChar(*cur) || *cur == '.')) {
    const char *bad = cur;
    while (cur != buf.end() && (isIdentifierChar(*cur) || *cur == '.'))
      ++cur;
    return make(Tok::Error, start,
                "invalid number '" + llvm::StringRef(start, cur - start).str() +
                    "': unexpected '" + std::string(1, *bad) + "'");
  }
  return make(isFloat ? Tok::Float : Tok::Integer, start);
}

/// string ::= '"' (char | '\"' | '\\' | '\n' | '\t')* '"'
///
/// A bad character inside a string is reported where it is, and the lexer
/// still moves to the closing quote, so that the rest of the string is not
/// read as code.
Token Lexer::lexString(const char *start) {
  std::string value;
  std::string problem;
  const char *problemAt = nullptr;
  auto flag = [&](const char *at, std::string message) {
    if (!problemAt) {
      problemAt = at;
      problem = std::move(message);
    }
  };
  while (true) {
    if (cur == buf.end() || *cur == '\n' || *cur == '\r')
      return make(Tok::Error, start, "unterminated string");
    unsigned char c = (unsigned char)*cur;
    if (c == '"') {
      ++cur;
      if (!problemAt)
        return make(Tok::String, start, value);
      Token t = make(Tok::Error, start, problem);
      t.col += unsigned(problemAt - start);
      return t;
    }
    if (c == '\\') {
      const char *at = cur++;
      if (cur == buf.end())
        return make(Tok::Error, start, "unterminated string");
      char e = *cur;
      switch (e) {
      case '"':
      case '\\':
        value += e;
        ++cur;
        continue;
      case 'n':
        value += '\n';
        ++cur;
        continue;
      case 't':
        value += '\t';
        ++cur;
        continue;
      default:
        if (e == '\n' || e == '\r')
          continue; // reported as unterminated
        flag(at, "unknown escape '\\" +
                     (llvm::isPrint(e) ? std::string(1, e)
                                       : "x" + hexByte((unsigned char)e)) +
                     "' in string (use \\\", \\\\, \\n or \\t)");
        ++cur;
        continue;
      }
    }
    if (c < 0x20 && c != '\t') {
      flag(cur, "control character 0x" + hexByte(c) + " in string");
      ++cur;
      continue;
    }
    unsigned len = nnir::utf8SequenceLength(
        reinterpret_cast<const unsigned char *>(cur), buf.end() - cur);
    if (len == 0) {
      flag(cur, "invalid UTF-8 byte 0x" + hexByte(c) + " in string");
      ++cur;
      continue;
    }
    value.append(cur, len);
    cur += len;
  }
}

Token Lexer::lexBadByte(const char *start) {
  unsigned char byte = (unsigned char)*start;
  if (byte < 0x80) {
    ++cur;
    if (byte < 0x20 || byte == 0x7F)
      return make(Tok::Error, start,
                  "unexpected control character 0x" + hexByte(byte));
    return make(Tok::Error, start,
                "unexpected character '" + std::string(1, char(byte)) + "'");
  }
  unsigned len = nnir::utf8SequenceLength(
      reinterpret_cast<const unsigned char *>(start), buf.end() - start);
  if (len == 0) {
    ++cur;
    return make(Tok::Error, start, "invalid UTF-8 byte 0x" + hexByte(byte));
  }
  cur += len;
  uint32_t cp = decodeUTF8(reinterpret_cast<const unsigned char *>(start), len);
  std::string hex = llvm::utohexstr(cp, /*LowerCase=*/false);
  hex.insert(0, hex.size() < 4 ? 4 - hex.size() : 0, '0');
  return make(Tok::Error, start,
              "non-ASCII character '" + std::string(start, len) + "' (U+" +
                  hex +
                  ") outside a string or comment: names use ASCII letters, "
                  "digits and '_'");
}

} // namespace nnc::nn
