//===- Parser.h - Recursive-descent parser of the .nn language --*- C++ -*-===//
//
// Each parse method carries the grammar rule it implements; docs/language.md
// has the whole grammar. On a syntax error the parser reports it, skips to
// the start of the next statement (a keyword, `name =`, or the closing `}`)
// and carries on, so one run reports every independent mistake; after 20
// errors it stops. Expressions nest at most kMaxExpressionDepth deep, so
// neither the parser nor anything walking the tree can exhaust the stack.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_PARSER_H
#define NNC_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Lexer.h"
#include "ir/Diagnostics.h"

#include <optional>

namespace nnc::nn {

constexpr unsigned kMaxExpressionDepth = 256;
constexpr unsigned kMaxParseErrors = 20;

class Parser {
public:
  /// Parses `buffer`, whose diagnostics name `fileName`.
  Parser(llvm::StringRef buffer, std::string fileName, DiagnosticEngine &diag)
      : buffer(buffer), lexer(buffer), fileName(std::move(fileName)),
        diag(diag) {}

  /// file ::= (model-block | train-block)*
  ///
  /// A file holds exactly one model block and at most one train block.
  /// Returns null if there was any error (all of them reported). A file
  /// with a NUL byte is binary, and gets one error instead of one per byte.
  std::unique_ptr<ast::ModelFile> parseModelFile();

  /// settings ::= train-entry*
  ///
  /// Train-block entries outside a block, up to the end of the buffer: a
  /// command-line option's value (`--optimizer "sgd(lr=0.1)"`) read as the
  /// block reads it. Null after an error.
  std::unique_ptr<ast::TrainDecl> parseTrainSettings();

private:
  //===--------------------------------------------------------------------===//
  // Blocks and statements
  //===--------------------------------------------------------------------===//

  /// model-block ::= 'model' identifier '{' statement* '}'
  std::unique_ptr<ast::ModelDecl> parseModel();

  /// statement ::= input-stmt | output-stmt | objective-stmt | assign-stmt
  ast::StmtPtr parseStatement();

  /// input-stmt ::= ('input' | 'label') identifier ':' type
  ast::StmtPtr parseInput();

  /// type ::= identifier '[' (dim (',' dim)* ','?)? ']'
  /// dim  ::= integer | 'batch'
  std::optional<ast::TypeSpec> parseType();

  /// output-stmt ::= 'output' identifier
  ast::StmtPtr parseOutput();

  /// objective-stmt ::= 'loss' expression | 'metric' call
  ast::StmtPtr parseObjective();

  /// assign-stmt ::= identifier '=' expression
  ast::StmtPtr parseAssign();

  /// train-block ::= 'train' '{' train-entry* '}'
  std::unique_ptr<ast::TrainDecl> parseTrain();

  /// train-entry ::= (identifier | 'batch') expression
  bool parseTrainEntry(ast::TrainDecl &train);

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  /// expression ::= unary (binary-op unary)*
  ///
  /// binary-op is '+' or '-' (lower precedence) or '*', '/' or '@' (higher);
  /// all are left-associative.
  ast::ExprPtr parseExpression();

  /// Precedence climbing: folds `(binary-op unary)*` whose operators bind at
  /// least as tightly as `minPrecedence` into `lhs`.
  ast::ExprPtr parseBinaryRHS(int minPrecedence, ast::ExprPtr lhs);

  /// unary ::= '-' unary | primary
  ast::ExprPtr parseUnary();

  /// primary ::= number | string | 'true' | 'false' | 'batch'
  ///           | name | call | list | '(' expression ')'
  /// name    ::= identifier ('.' identifier)*
  ast::ExprPtr parsePrimary();

  /// number ::= integer | float
  ast::ExprPtr parseNumber();

  /// call     ::= identifier '(' (argument (',' argument)* ','?)? ')'
  /// argument ::= (identifier '=')? expression
  std::unique_ptr<ast::CallExpr> parseCall();

  /// list ::= '[' (expression (',' expression)* ','?)? ']'
  ast::ExprPtr parseList();

  //===--------------------------------------------------------------------===//
  // Tokens, errors and recovery
  //===--------------------------------------------------------------------===//

  Location loc(const Token &t) const {
    return Location(fileName, t.line, t.col);
  }
  Location loc() const { return loc(tok); }

  /// Moves to the next token, reporting it if it is a lexical error.
  void consume();
  const Token &peek();

  /// Reports an error (unless too many were reported already); returns null
  /// so that `return error(...)` unwinds.
  std::nullptr_t error(const Location &at, const llvm::Twine &msg);
  std::nullptr_t error(const llvm::Twine &msg) { return error(loc(), msg); }
  void note(const Location &at, const llvm::Twine &msg);
  /// "expected <what>, found <current token>"; silent on a lexical error
  /// token, which was reported when it was read. The error points where the
  /// missing thing belongs: just after the previous token when the current
  /// one is on a later line, else at the current token.
  std::nullptr_t expected(const llvm::Twine &what);
  /// As expected(), always at the current token: for a token that cannot
  /// start what the parser looks for (a statement, a block).
  std::nullptr_t expectedHere(const llvm::Twine &what);
  /// Where expected() reports.
  Location missingLoc() const;
  /// Consumes a token of `kind`, or reports "expected <what>".
  bool expect(Tok kind, const llvm::Twine &what);

  /// The items of a '{' block opened at `open`, up to its '}': `item`
  /// parses one and returns false after an error, `recover(start)` then
  /// skips past it. A top-level keyword or the end of the file reports
  /// "expected <closing>" with a note at the '{'.
  void parseBlockBody(Location open, const llvm::Twine &closing,
                      const llvm::Twine &opensHere,
                      llvm::function_ref<bool()> item,
                      llvm::function_ref<void(const char *)> recover);

  /// After a failed statement: skips to the start of the next one.
  void recoverInModel(const char *failedAt);
  void recoverInTrain(const char *failedAt);
  /// Skips to the next 'model' or 'train' keyword.
  void recoverAtTopLevel();

  /// Counts expression nesting while parsing it.
  struct DepthGuard {
    Parser &p;
    explicit DepthGuard(Parser &p) : p(p) { ++p.depth; }
    ~DepthGuard() { --p.depth; }
  };
  bool tooDeep(unsigned treeDepth = 0);

  llvm::StringRef buffer;
  Lexer lexer;
  std::string fileName;
  DiagnosticEngine &diag;
  Token tok;
  std::optional<Token> lookahead;
  /// Just past the end of the previous token; line 0 before the first.
  unsigned prevEndLine = 0, prevEndCol = 0;
  unsigned errors = 0;
  bool stopped = false;
  unsigned depth = 0;
};

} // namespace nnc::nn

#endif // NNC_FRONTEND_PARSER_H
