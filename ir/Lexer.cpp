//===- Lexer.cpp - Tokens of the `.nnir` text format ----------------------===//
#include "ir/Lexer.h"

#include "llvm/ADT/StringExtras.h"

namespace nnc::nnir {

unsigned utf8SequenceLength(const unsigned char *p, size_t avail) {
  unsigned len = *p < 0x80         ? 1
                 : (*p >> 5) == 6  ? 2
                 : (*p >> 4) == 14 ? 3
                 : (*p >> 3) == 30 ? 4
                                   : 0;
  if (len == 0 || len > avail)
    return 0;
  for (unsigned i = 1; i < len; ++i)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  // Reject overlong forms and surrogates.
  if (len == 2 && *p < 0xC2)
    return 0;
  if (len == 3 && ((*p == 0xE0 && p[1] < 0xA0) || (*p == 0xED && p[1] > 0x9F)))
    return 0;
  if (len == 4 &&
      ((*p == 0xF0 && p[1] < 0x90) || *p > 0xF4 || (*p == 0xF4 && p[1] > 0x8F)))
    return 0;
  return len;
}

/// Two upper-case hex digits.
static std::string hexByte(unsigned char b) {
  return {llvm::hexdigit(b >> 4), llvm::hexdigit(b & 15)};
}

Token Lexer::make(Tok kind, const char *start, std::string text) {
  Token t;
  t.kind = kind;
  t.spelling = llvm::StringRef(start, cur - start);
  t.text = std::move(text);
  return t;
}

Token Lexer::error(const char *at, const std::string &message) {
  Token t;
  t.kind = Tok::Error;
  t.spelling = llvm::StringRef(at, 1);
  t.text = message;
  return t;
}

void Lexer::skipSpaceAndComments() {
  while (cur != buf.end()) {
    if (*cur == ' ' || *cur == '\t' || *cur == '\n' || *cur == '\r') {
      ++cur;
    } else if (*cur == '/' && cur + 1 != buf.end() && cur[1] == '/') {
      while (cur != buf.end() && *cur != '\n')
        ++cur;
    } else {
      return;
    }
  }
}

static bool isIdentChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '.';
}

Token Lexer::lexIdentifierLike(Tok kind, const char *start) {
  const char *nameStart = cur;
  while (cur != buf.end() && isIdentChar(*cur))
    ++cur;
  if (cur == nameStart)
    return error(start, std::string("expected a name after '") + *start + "'");
  return make(kind, start, std::string(nameStart, cur));
}

Token Lexer::lexNumber(const char *start) {
  if (*cur == '-')
    ++cur;
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
    if (cur == buf.end() || !llvm::isDigit(*cur))
      return error(cur == buf.end() ? cur - 1 : cur,
                   "expected digits in the exponent");
    while (cur != buf.end() && llvm::isDigit(*cur))
      ++cur;
  }
  return make(isFloat ? Tok::Float : Tok::Integer, start);
}

Token Lexer::lexString(const char *start) {
  std::string value;
  while (true) {
    if (cur == buf.end() || *cur == '\n')
      return error(start, "unterminated string");
    char c = *cur;
    if (c == '"') {
      ++cur;
      return make(Tok::String, start, value);
    }
    if (c == '\\') {
      ++cur;
      if (cur == buf.end())
        return error(start, "unterminated string");
      if (*cur == '"' || *cur == '\\') {
        value += *cur++;
        continue;
      }
      if (cur + 1 < buf.end() && llvm::isHexDigit(cur[0]) &&
          llvm::isHexDigit(cur[1])) {
        value += char(llvm::hexFromNibbles(cur[0], cur[1]));
        cur += 2;
        continue;
      }
      return error(cur, "unknown escape in string (use \\\", \\\\ or \\XX)");
    }
    unsigned len = utf8SequenceLength(
        reinterpret_cast<const unsigned char *>(cur), buf.end() - cur);
    if (len == 0)
      return error(cur, "invalid UTF-8 byte 0x" + hexByte((unsigned char)c) +
                            " in string");
    value.append(cur, len);
    cur += len;
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  const char *start = cur;
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
  case '%':
    return lexIdentifierLike(Tok::ValueId, start);
  case '@':
    return lexIdentifierLike(Tok::SymbolId, start);
  case '"':
    return lexString(start);
  case '-':
    if (cur != buf.end() && *cur == '>') {
      ++cur;
      return make(Tok::Arrow, start);
    }
    if (cur != buf.end() && llvm::isDigit(*cur)) {
      cur = start;
      return lexNumber(start);
    }
    if (llvm::StringRef(cur, buf.end() - cur).starts_with("inf")) {
      cur += 3;
      return make(Tok::Ident, start, "-inf");
    }
    return error(start, "unexpected '-'");
  default:
    break;
  }
  if (llvm::isDigit(c)) {
    cur = start;
    return lexNumber(start);
  }
  if (llvm::isAlpha(c) || c == '_') {
    cur = start;
    while (cur != buf.end() && isIdentChar(*cur))
      ++cur;
    return make(Tok::Ident, start, std::string(start, cur));
  }
  unsigned char byte = (unsigned char)c;
  if (byte >= 0x80) {
    unsigned len = utf8SequenceLength(
        reinterpret_cast<const unsigned char *>(start), buf.end() - start);
    if (len == 0)
      return error(start, "invalid UTF-8 byte 0x" + hexByte(byte));
    return error(start,
                 "unexpected character '" + std::string(start, len) + "'");
  }
  if (!llvm::isPrint(c))
    return error(start, "unexpected control character 0x" + hexByte(byte));
  return error(start, std::string("unexpected character '") + c + "'");
}

} // namespace nnc::nnir
