// The lexer: token kinds, keywords, numbers, strings, locations, and errors
// that always move past the bad input.
#include "frontend/Lexer.h"

#include <gtest/gtest.h>

#include <vector>

using namespace nnc::nn;

namespace {

std::vector<Token> lexAll(llvm::StringRef text) {
  Lexer lexer(text);
  std::vector<Token> tokens;
  while (true) {
    tokens.push_back(lexer.lex());
    if (tokens.back().is(Tok::Eof))
      return tokens;
    // Every token consumes input, so this cannot loop forever.
    EXPECT_LT(tokens.size(), text.size() + 2);
  }
}

std::vector<Tok> kinds(llvm::StringRef text) {
  std::vector<Tok> out;
  for (const Token &t : lexAll(text))
    out.push_back(t.kind);
  return out;
}

} // namespace

TEST(Lexer, PunctuationAndOperators) {
  EXPECT_EQ(
      kinds("( ) [ ] { } , : = + - * / @"),
      (std::vector<Tok>{Tok::LParen, Tok::RParen, Tok::LBracket, Tok::RBracket,
                        Tok::LBrace, Tok::RBrace, Tok::Comma, Tok::Colon,
                        Tok::Equal, Tok::Plus, Tok::Minus, Tok::Star,
                        Tok::Slash, Tok::At, Tok::Eof}));
}

TEST(Lexer, KeywordsAreReservedNamesAreNot) {
  auto tokens = lexAll("model train input label output loss metric batch "
                       "true false dense relu batches _x1");
  std::vector<Tok> expected = {
      Tok::KwModel,    Tok::KwTrain,    Tok::KwInput,    Tok::KwLabel,
      Tok::KwOutput,   Tok::KwLoss,     Tok::KwMetric,   Tok::KwBatch,
      Tok::KwTrue,     Tok::KwFalse,    Tok::Identifier, Tok::Identifier,
      Tok::Identifier, Tok::Identifier, Tok::Eof};
  ASSERT_EQ(tokens.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(tokens[i].kind, expected[i]) << "token " << i;
  EXPECT_EQ(tokens[11].text, "relu");
  EXPECT_EQ(tokens[12].text, "batches");
  EXPECT_EQ(tokens[13].text, "_x1");
}

TEST(Lexer, Numbers) {
  auto tokens = lexAll("0 128 1e-3 2.5 3. 4E+2");
  EXPECT_EQ(tokens[0].kind, Tok::Integer);
  EXPECT_EQ(tokens[1].kind, Tok::Integer);
  EXPECT_EQ(tokens[1].spelling, "128");
  EXPECT_EQ(tokens[2].kind, Tok::Float);
  EXPECT_EQ(tokens[2].spelling, "1e-3");
  EXPECT_EQ(tokens[3].kind, Tok::Float);
  EXPECT_EQ(tokens[4].kind, Tok::Float);
  EXPECT_EQ(tokens[4].spelling, "3.");
  EXPECT_EQ(tokens[5].kind, Tok::Float);
  EXPECT_EQ(tokens[5].spelling, "4E+2");
  // A minus sign is an operator; the parser folds it into literals.
  EXPECT_EQ(kinds("-1"),
            (std::vector<Tok>{Tok::Minus, Tok::Integer, Tok::Eof}));
}

TEST(Lexer, BadNumbers) {
  auto tokens = lexAll("12abc 1e x");
  EXPECT_EQ(tokens[0].kind, Tok::Error);
  EXPECT_EQ(tokens[0].text, "invalid number '12abc': unexpected 'a'");
  EXPECT_EQ(tokens[1].kind, Tok::Error);
  EXPECT_EQ(tokens[1].text, "expected digits in the exponent of '1e'");
  EXPECT_EQ(tokens[2].kind, Tok::Identifier);
}

TEST(Lexer, Strings) {
  auto tokens = lexAll(R"("dense_1" "a \"b\" \\ \n" )"
                       "\"caf\xC3\xA9\"");
  ASSERT_EQ(tokens[0].kind, Tok::String);
  EXPECT_EQ(tokens[0].text, "dense_1");
  ASSERT_EQ(tokens[1].kind, Tok::String);
  EXPECT_EQ(tokens[1].text, "a \"b\" \\ \n");
  ASSERT_EQ(tokens[2].kind, Tok::String);
  EXPECT_EQ(tokens[2].text, "caf\xC3\xA9");
}

TEST(Lexer, BadStringsAreReadToTheirEnd) {
  // The rest of a string with a bad escape is not read as code.
  auto tokens = lexAll(R"(x = "a\qb" y)");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[2].kind, Tok::Error);
  EXPECT_EQ(tokens[2].text,
            "unknown escape '\\q' in string (use \\\", \\\\, \\n or \\t)");
  EXPECT_EQ(tokens[2].col, 7u); // at the backslash
  EXPECT_EQ(tokens[3].kind, Tok::Identifier);
  EXPECT_EQ(tokens[3].text, "y");

  tokens = lexAll("\"open\ny");
  EXPECT_EQ(tokens[0].kind, Tok::Error);
  EXPECT_EQ(tokens[0].text, "unterminated string");
  EXPECT_EQ(tokens[1].kind, Tok::Identifier);
  EXPECT_EQ(tokens[1].line, 2u);

  tokens = lexAll("\"a\xFF\"");
  EXPECT_EQ(tokens[0].kind, Tok::Error);
  EXPECT_EQ(tokens[0].text, "invalid UTF-8 byte 0xFF in string");
}

TEST(Lexer, CommentsAndLocations) {
  auto tokens = lexAll("# a comment with anything: \xFF\x01 {\n"
                       "model m {  # another\n"
                       "\th = x\n");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[0].kind, Tok::KwModel);
  EXPECT_EQ(tokens[0].line, 2u);
  EXPECT_EQ(tokens[0].col, 1u);
  EXPECT_TRUE(tokens[0].startsLine);
  EXPECT_EQ(tokens[1].col, 7u);
  EXPECT_FALSE(tokens[1].startsLine);
  EXPECT_EQ(tokens[2].kind, Tok::LBrace);
  EXPECT_EQ(tokens[2].col, 9u);
  // A tab is one column, as in the source manager that prints carets.
  EXPECT_EQ(tokens[3].text, "h");
  EXPECT_EQ(tokens[3].line, 3u);
  EXPECT_EQ(tokens[3].col, 2u);
  EXPECT_TRUE(tokens[3].startsLine);
  EXPECT_EQ(tokens[5].col, 6u);
  EXPECT_EQ(tokens[6].kind, Tok::Eof);
  EXPECT_EQ(tokens[6].line, 4u);
}

TEST(Lexer, BadBytesAreErrorsThatMoveOn) {
  auto tokens = lexAll("a \x01 $ \xFF \xC3\xA9 b");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[1].kind, Tok::Error);
  EXPECT_EQ(tokens[1].text, "unexpected control character 0x01");
  EXPECT_EQ(tokens[2].text, "unexpected character '$'");
  EXPECT_EQ(tokens[3].text, "invalid UTF-8 byte 0xFF");
  EXPECT_EQ(tokens[4].kind, Tok::Error);
  EXPECT_EQ(tokens[4].text,
            "non-ASCII character '\xC3\xA9' (U+00E9) outside a string or "
            "comment: names use ASCII letters, digits and '_'");
  // The whole UTF-8 sequence is one error, not one per byte.
  EXPECT_EQ(tokens[4].spelling.size(), 2u);
  EXPECT_EQ(tokens[5].text, "b");
}

TEST(Lexer, EmbeddedNulIsAnErrorNotTheEnd) {
  llvm::StringRef text("a\0b", 3);
  auto tokens = lexAll(text);
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[1].kind, Tok::Error);
  EXPECT_EQ(tokens[1].text, "unexpected control character 0x00");
  EXPECT_EQ(tokens[2].text, "b");
}

TEST(Lexer, DescribesTokensForErrors) {
  auto tokens = lexAll("dense 12 \"s\" loss +");
  EXPECT_EQ(describeToken(tokens[0]), "'dense'");
  EXPECT_EQ(describeToken(tokens[1]), "number 12");
  EXPECT_EQ(describeToken(tokens[2]), "string \"s\"");
  EXPECT_EQ(describeToken(tokens[3]), "keyword 'loss'");
  EXPECT_EQ(describeToken(tokens[4]), "'+'");
  EXPECT_EQ(describeToken(tokens[5]), "end of file");
}
