//===- Parser.cpp - Reading `.nnir` text ----------------------------------===//
//
// A recursive-descent parser in the MLIR style: each parse method returns a
// ParseResult that converts to true on failure, after the error has been
// reported, so `if (parseType(t)) return failure();` unwinds on the first
// error.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/MemoryBuffer.h"

#include <limits>

namespace nnc {
using llvm::failure;
using llvm::ParseResult;
using llvm::success;
using nnir::Tok;
using nnir::Token;

namespace {

class Parser {
public:
  Parser(unsigned bufferId, DiagnosticEngine &diag)
      : diag(diag),
        lexer(diag.sourceMgr().getMemoryBuffer(bufferId)->getBuffer()) {}

  std::unique_ptr<Module> parse() {
    auto module = std::make_unique<Module>();
    if (advance())
      return nullptr;
    while (!tok.is(Tok::Eof))
      if (parseGraph(*module))
        return nullptr;
    return module;
  }

private:
  //===--------------------------------------------------------------------===//
  // Tokens and errors
  //===--------------------------------------------------------------------===//

  ParseResult emitError(llvm::SMLoc at, const llvm::Twine &msg) {
    diag.error(diag.locationOf(at), msg);
    return failure();
  }
  ParseResult emitError(const llvm::Twine &msg) {
    return emitError(tok.loc(), msg);
  }

  ParseResult advance() {
    tok = lexer.next();
    if (tok.is(Tok::Error))
      return emitError(tok.text);
    return success();
  }

  std::string describe(const Token &t) {
    if (t.is(Tok::Eof))
      return "end of file";
    return "'" + t.spelling.str() + "'";
  }

  ParseResult expected(const llvm::Twine &what) {
    return emitError("expected " + what + ", found " + describe(tok));
  }

  ParseResult expect(Tok kind, const llvm::Twine &what) {
    if (!tok.is(kind))
      return expected(what);
    return advance();
  }

  /// Consumes a token of `kind` if it is next; `found` says whether it was.
  ParseResult consumeIf(Tok kind, bool &found) {
    found = tok.is(kind);
    return found ? advance() : success();
  }

  /// Parses `element (',' element)*` with `parseElement`.
  template <typename F> ParseResult parseCommaList(F parseElement) {
    bool more = true;
    while (more) {
      if (parseElement() || consumeIf(Tok::Comma, more))
        return failure();
    }
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Types and literals
  //===--------------------------------------------------------------------===//

  /// type ::= element-type '[' (dim (',' dim)*)? ']'
  ParseResult parseType(TensorType &type) {
    if (!tok.is(Tok::Ident))
      return expected("a type such as f32[32,10]");
    auto elt = parseElementType(tok.text);
    if (!elt)
      return emitError("unknown element type '" + tok.text +
                       "' (expected f32, f64, i32, i1 or u8)");
    if (advance() || expect(Tok::LBracket, "'[' after the element type"))
      return failure();
    Shape shape;
    int64_t total = 1;
    if (!tok.is(Tok::RBracket) && parseCommaList([&]() -> ParseResult {
          llvm::SMLoc at = tok.loc();
          int64_t d;
          if (parseInteger("a dimension", d))
            return failure();
          if (d <= 0)
            return emitError(at, "dimensions must be positive, got " +
                                     llvm::Twine(d));
          if (d > std::numeric_limits<int32_t>::max() ||
              total > (int64_t(1) << 40) / d)
            return emitError(at, "tensor is too large");
          total *= d;
          shape.push_back(d);
          return success();
        }))
      return failure();
    if (expect(Tok::RBracket, "']' after the dimensions"))
      return failure();
    type = TensorType(*elt, shape);
    return success();
  }

  ParseResult parseInteger(const llvm::Twine &what, int64_t &value) {
    if (!tok.is(Tok::Integer))
      return expected(what);
    if (tok.spelling.getAsInteger(10, value))
      return emitError("integer " + tok.spelling + " is out of range");
    return advance();
  }

  bool atFloat() const {
    return tok.is(Tok::Float) ||
           (tok.is(Tok::Ident) &&
            (tok.text == "inf" || tok.text == "-inf" || tok.text == "nan"));
  }

  ParseResult parseFloat(double &value) {
    if (tok.is(Tok::Ident))
      value = tok.text == "nan"   ? std::numeric_limits<double>::quiet_NaN()
              : tok.text == "inf" ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity();
    else if (tok.spelling.getAsDouble(value))
      return emitError("number " + tok.spelling + " is out of range");
    return advance();
  }

  /// attr-value ::= integer | float | string | 'true' | 'false'
  ///              | element-type | '[' (number (',' number)*)? ']'
  ParseResult parseAttributeValue(Attribute &attr) {
    if (tok.is(Tok::Integer)) {
      int64_t v;
      if (parseInteger("an integer", v))
        return failure();
      attr = Attribute(v);
      return success();
    }
    if (atFloat()) {
      double v;
      if (parseFloat(v))
        return failure();
      attr = Attribute(v);
      return success();
    }
    if (tok.is(Tok::String)) {
      attr = Attribute(tok.text);
      return advance();
    }
    if (tok.is(Tok::Ident) && (tok.text == "true" || tok.text == "false")) {
      attr = Attribute(tok.text == "true");
      return advance();
    }
    if (tok.is(Tok::Ident) && parseElementType(tok.text)) {
      attr = Attribute(*parseElementType(tok.text));
      return advance();
    }
    if (!tok.is(Tok::LBracket))
      return expected("an attribute value");
    if (advance())
      return failure();
    std::vector<int64_t> ints;
    std::vector<double> floats;
    bool anyFloat = false;
    if (!tok.is(Tok::RBracket) && parseCommaList([&]() -> ParseResult {
          if (tok.is(Tok::Integer)) {
            int64_t v;
            if (parseInteger("an integer", v))
              return failure();
            ints.push_back(v);
            floats.push_back(double(v));
            return success();
          }
          if (!atFloat())
            return expected("a number in the list");
          anyFloat = true;
          floats.emplace_back();
          return parseFloat(floats.back());
        }))
      return failure();
    attr = anyFloat ? Attribute(std::move(floats)) : Attribute(std::move(ints));
    return expect(Tok::RBracket, "']' to close the list");
  }

  /// attr-dict ::= '{' (name '=' attr-value (',' name '=' attr-value)*)? '}'
  ParseResult parseAttributes(AttrDict &attrs) {
    if (!tok.is(Tok::LBrace))
      return success();
    if (advance())
      return failure();
    if (!tok.is(Tok::RBrace) && parseCommaList([&]() -> ParseResult {
          if (!tok.is(Tok::Ident))
            return expected("an attribute name");
          std::string name = tok.text;
          llvm::SMLoc at = tok.loc();
          if (attrs.has(name))
            return emitError(at, "attribute '" + name + "' is given twice");
          Attribute value;
          if (advance() || expect(Tok::Equal, "'=' after the attribute name") ||
              parseAttributeValue(value))
            return failure();
          attrs.set(name, std::move(value));
          return success();
        }))
      return failure();
    return expect(Tok::RBrace, "'}' to close the attributes");
  }

  //===--------------------------------------------------------------------===//
  // Values
  //===--------------------------------------------------------------------===//

  using Scope = llvm::StringMap<std::pair<Value *, llvm::SMLoc>>;

  ParseResult define(Scope &scope, const Token &id, Value *v) {
    auto [it, inserted] = scope.try_emplace(id.text, v, id.loc());
    if (!inserted) {
      (void)emitError(id.loc(), "redefinition of value '%" + id.text + "'");
      diag.note(diag.locationOf(it->second.second), "previously defined here");
      return failure();
    }
    // Numbered values are renumbered when printed; named ones keep the name.
    if (!llvm::all_of(id.text, [](char c) { return llvm::isDigit(c); }))
      v->setName(id.text);
    return success();
  }

  ParseResult parseUse(Scope &scope, Value *&value) {
    if (!tok.is(Tok::ValueId))
      return expected("a value such as %x");
    auto it = scope.find(tok.text);
    if (it == scope.end())
      return emitError("use of undefined value '%" + tok.text + "'");
    value = it->second.first;
    return advance();
  }

  //===--------------------------------------------------------------------===//
  // Graphs and ops
  //===--------------------------------------------------------------------===//

  struct DeclaredResult {
    std::string name;
    TensorType type;
    llvm::SMLoc loc;
  };

  /// graph  ::= 'graph' symbol-id '(' (arg (',' arg)*)? ')'
  ///            '->' '(' (result (',' result)*)? ')' '{' op* '}'
  /// arg    ::= value-id ':' type
  /// result ::= (name ':')? type
  ParseResult parseGraph(Module &module) {
    if (!tok.is(Tok::Ident) || tok.text != "graph")
      return expected("'graph'");
    if (advance())
      return failure();
    if (!tok.is(Tok::SymbolId))
      return expected("a graph name such as @model");
    if (module.lookup(tok.text))
      return emitError("redefinition of graph '@" + tok.text + "'");
    auto graph = std::make_unique<Graph>(tok.text);
    Scope scope;
    if (advance() || expect(Tok::LParen, "'(' before the arguments"))
      return failure();
    if (!tok.is(Tok::RParen) && parseCommaList([&]() -> ParseResult {
          Token id = tok;
          TensorType type;
          if (!id.is(Tok::ValueId))
            return expected("an argument such as %x");
          if (advance() || expect(Tok::Colon, "':' after the argument name") ||
              parseType(type))
            return failure();
          return define(scope, id, graph->addArgument(type));
        }))
      return failure();

    std::vector<DeclaredResult> results;
    if (expect(Tok::RParen, "')' after the arguments") ||
        expect(Tok::Arrow, "'->' before the result types") ||
        expect(Tok::LParen, "'(' before the result types"))
      return failure();
    if (!tok.is(Tok::RParen) && parseCommaList([&]() -> ParseResult {
          DeclaredResult r;
          r.loc = tok.loc();
          if (tok.is(Tok::Ident) && !parseElementType(tok.text)) {
            r.name = tok.text;
            if (advance() || expect(Tok::Colon, "':' after the result name"))
              return failure();
          }
          if (parseType(r.type))
            return failure();
          results.push_back(std::move(r));
          return success();
        }))
      return failure();
    if (expect(Tok::RParen, "')' after the result types"))
      return failure();

    llvm::SMLoc bodyStart = tok.loc();
    if (expect(Tok::LBrace, "'{' to open the graph body") ||
        parseOps(*graph, scope, bodyStart, /*inKernel=*/false))
      return failure();

    Op *term = graph->terminator();
    if (!term || !term->is(OpKind::Return))
      return emitError(bodyStart, "graph '@" + graph->name() +
                                      "' does not end in 'return'");
    if (term->numOperands() != results.size())
      return emitError(diag.toSMLoc(term->loc()),
                       "'return' gives " + llvm::Twine(term->numOperands()) +
                           " values but the graph declares " +
                           llvm::Twine(results.size()) + " results");
    std::vector<std::string> names;
    for (unsigned i = 0; i < results.size(); ++i) {
      if (term->operand(i)->type() != results[i].type)
        return emitError(results[i].loc,
                         "result " + llvm::Twine(i) + " is declared " +
                             results[i].type.str() + " but 'return' gives " +
                             term->operand(i)->type().str());
      names.push_back(results[i].name);
    }
    graph->setResultNames(std::move(names));
    module.addGraph(std::move(graph));
    return success();
  }

  /// Parses ops up to and including the closing '}'.
  ParseResult parseOps(Graph &graph, Scope &scope, llvm::SMLoc open,
                       bool inKernel) {
    while (!tok.is(Tok::RBrace)) {
      if (tok.is(Tok::Eof))
        return emitError(open, llvm::Twine(inKernel ? "kernel" : "graph") +
                                   " body is not closed: missing '}'");
      if (parseOp(graph, scope, inKernel))
        return failure();
    }
    return advance();
  }

  /// op ::= (value-id (',' value-id)* '=')? op-name operands attr-dict?
  ///        (':' type (',' type)*)? kernel-body? location?
  ParseResult parseOp(Graph &graph, Scope &scope, bool inKernel) {
    llvm::SMLoc opStart = tok.loc();
    std::vector<Token> resultIds;
    if (tok.is(Tok::ValueId)) {
      if (parseCommaList([&]() -> ParseResult {
            if (!tok.is(Tok::ValueId))
              return expected("a result name such as %x");
            resultIds.push_back(tok);
            return advance();
          }) ||
          expect(Tok::Equal, "'=' after the result names"))
        return failure();
    }
    if (!tok.is(Tok::Ident))
      return expected("an op name");
    const OpDef *def = lookupOpDef(tok.text);
    if (!def)
      return emitError("unknown op '" + tok.text + "'");
    llvm::SMLoc nameLoc = tok.loc();
    if (advance())
      return failure();
    if (def->numResults != kVariadic && resultIds.size() != def->numResults)
      return emitError(
          resultIds.empty() ? nameLoc : resultIds.front().loc(),
          "'" + def->name + "' has " + llvm::Twine(def->numResults) +
              " result" + (def->numResults == 1 ? "" : "s") + ", but " +
              llvm::Twine(resultIds.size()) + " name" +
              (resultIds.size() == 1 ? " is" : "s are") + " given");

    std::vector<Value *> operands;
    std::vector<Token> bodyArgIds;
    AttrDict attrs;
    if (def->kind == OpKind::Kernel) {
      if (inKernel)
        return emitError(nameLoc, "kernels cannot nest");
      if (parseKernelOperands(scope, attrs, operands, bodyArgIds))
        return failure();
    } else if (tok.is(Tok::ValueId)) {
      if (parseCommaList([&]() -> ParseResult {
            operands.emplace_back();
            return parseUse(scope, operands.back());
          }))
        return failure();
    }

    llvm::SMLoc attrLoc = tok.loc();
    if (parseAttributes(attrs))
      return failure();
    if (llvm::Error err = checkAttributes(*def, attrs))
      return emitError(attrLoc, "'" + def->name + "' op " +
                                    llvm::toString(std::move(err)));

    std::vector<TensorType> types;
    if (tok.is(Tok::Colon)) {
      if (advance() || parseCommaList([&]() -> ParseResult {
            types.emplace_back();
            return parseType(types.back());
          }))
        return failure();
    }
    if (types.size() != resultIds.size())
      return emitError(
          opStart,
          resultIds.empty()
              ? "'" + def->name + "' has no results, so it takes no type"
              : "expected " + llvm::Twine(resultIds.size()) + " result type" +
                    (resultIds.size() == 1 ? "" : "s") + " after ':'");

    Op *op = graph.createOp(graph.end(), def->kind, operands, types,
                            std::move(attrs), diag.locationOf(opStart));
    for (unsigned i = 0; i < resultIds.size(); ++i)
      if (define(scope, resultIds[i], op->result(i)))
        return failure();
    if (def->kind == OpKind::Kernel &&
        parseKernelBody(*op, bodyArgIds, opStart))
      return failure();
    if (tok.is(Tok::Ident) && tok.text == "loc") {
      Location loc;
      if (parseLocation(loc))
        return failure();
      op->setLoc(std::move(loc));
    }
    return success();
  }

  /// kernel-operands ::= symbol-id '(' (value-id '=' value-id
  ///                                    (',' value-id '=' value-id)*)? ')'
  ParseResult parseKernelOperands(Scope &scope, AttrDict &attrs,
                                  std::vector<Value *> &operands,
                                  std::vector<Token> &bodyArgIds) {
    if (!tok.is(Tok::SymbolId))
      return expected("a kernel name such as @fused_add");
    attrs.set("name", tok.text);
    if (advance() || expect(Tok::LParen, "'(' before the kernel's operands"))
      return failure();
    if (!tok.is(Tok::RParen) && parseCommaList([&]() -> ParseResult {
          if (!tok.is(Tok::ValueId))
            return expected("a body argument such as %a");
          bodyArgIds.push_back(tok);
          operands.emplace_back();
          return failure(advance() ||
                         expect(Tok::Equal, "'=' binding the body argument") ||
                         parseUse(scope, operands.back()));
        }))
      return failure();
    return expect(Tok::RParen, "')' after the kernel's operands");
  }

  /// kernel-body ::= '{' op* '}'. The body sees only its own arguments.
  ParseResult parseKernelBody(Op &kernel, llvm::ArrayRef<Token> argIds,
                              llvm::SMLoc kernelLoc) {
    auto body = std::make_unique<Graph>(kernel.attrs().getString("name"));
    Scope bodyScope;
    for (unsigned i = 0; i < argIds.size(); ++i)
      if (define(bodyScope, argIds[i],
                 body->addArgument(kernel.operand(i)->type())))
        return failure();
    llvm::SMLoc open = tok.loc();
    if (expect(Tok::LBrace, "'{' to open the kernel body") ||
        parseOps(*body, bodyScope, open, /*inKernel=*/true))
      return failure();
    Op *term = body->terminator();
    if (!term || !term->is(OpKind::Yield))
      return emitError(kernelLoc, "kernel body does not end in 'yield'");
    kernel.setBody(std::move(body));
    return success();
  }

  /// location ::= 'loc' '(' string ':' integer ':' integer ')'
  ParseResult parseLocation(Location &loc) {
    if (advance() || expect(Tok::LParen, "'(' after 'loc'"))
      return failure();
    if (!tok.is(Tok::String))
      return expected("a file name string");
    std::string file = tok.text;
    int64_t line = 0, col = 0;
    llvm::SMLoc numbers;
    if (advance() || expect(Tok::Colon, "':' after the file name"))
      return failure();
    numbers = tok.loc();
    if (parseInteger("a line number", line) ||
        expect(Tok::Colon, "':' after the line number") ||
        parseInteger("a column number", col) ||
        expect(Tok::RParen, "')' after the location"))
      return failure();
    if (line <= 0 || col <= 0 || line > INT32_MAX || col > INT32_MAX)
      return emitError(numbers, "line and column must be positive");
    loc = Location(file, unsigned(line), unsigned(col));
    return success();
  }

  DiagnosticEngine &diag;
  nnir::Lexer lexer;
  Token tok;
};

} // namespace

std::unique_ptr<Module> parseModule(unsigned bufferId, DiagnosticEngine &diag) {
  return Parser(bufferId, diag).parse();
}

std::unique_ptr<Module> parseModule(llvm::StringRef text, llvm::StringRef name,
                                    DiagnosticEngine &diag) {
  unsigned id =
      diag.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name));
  return parseModule(id, diag);
}

} // namespace nnc
