//===- Printer.cpp - The textual form of the graph IR ---------------------===//
#include "ir/Printer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

namespace nnc {

namespace {

/// Assigns each value of a top-level graph (kernel bodies included) a unique
/// printed name.
class NameTable {
public:
  const std::string &nameOf(const Value *v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    return names[v] = makeName(v->name());
  }

private:
  static std::string sanitize(llvm::StringRef hint) {
    std::string s;
    for (char c : hint)
      s += (llvm::isAlnum(c) || c == '_' || c == '.') ? c : '_';
    if (!s.empty() && !llvm::isAlpha(s[0]) && s[0] != '_')
      s = "v" + s;
    return s;
  }

  std::string makeName(llvm::StringRef hint) {
    std::string name;
    if (hint.empty()) {
      do
        name = std::to_string(nextNumber++);
      while (used.contains(name));
    } else {
      std::string base = sanitize(hint);
      name = base;
      for (unsigned k = 1; used.contains(name); ++k)
        name = base + "_" + std::to_string(k);
    }
    used.insert(name);
    return name;
  }

  llvm::DenseMap<const Value *, std::string> names;
  llvm::StringSet<> used;
  unsigned nextNumber = 0;
};

class Printer {
public:
  Printer(llvm::raw_ostream &os, const PrintOptions &opts)
      : os(os), opts(opts) {}

  void printGraph(const Graph &g) {
    os << "graph @" << g.name() << "(";
    llvm::interleaveComma(g.arguments(), os, [&](Value *arg) {
      os << "%" << names.nameOf(arg) << ": " << arg->type().str();
    });
    os << ") -> (";
    if (Op *term = g.terminator()) {
      llvm::ArrayRef<std::string> resultNames = g.resultNames();
      for (unsigned i = 0; i < term->numOperands(); ++i) {
        if (i)
          os << ", ";
        if (i < resultNames.size() && !resultNames[i].empty())
          os << resultNames[i] << ": ";
        os << term->operand(i)->type().str();
      }
    }
    os << ") {\n";
    printBody(g, 1);
    os << "}\n";
  }

  void printOp(const Op &op, unsigned indent) {
    os.indent(indent * 2);
    if (op.numResults()) {
      llvm::interleaveComma(op.results(), os,
                            [&](Value *r) { os << "%" << names.nameOf(r); });
      os << " = ";
    }
    os << op.name();
    if (op.is(OpKind::Kernel))
      printKernelHeader(op);
    else
      printOperands(op);
    printAttributes(op);
    if (op.numResults()) {
      os << " : ";
      llvm::interleaveComma(op.results(), os,
                            [&](Value *r) { os << r->type().str(); });
    }
    if (op.body()) {
      os << " {\n";
      printBody(*op.body(), indent + 1);
      os.indent(indent * 2) << "}";
    }
    if (opts.printLocations && !op.loc().isUnknown()) {
      os << " loc(";
      printQuoted(os, op.loc().file);
      os << ":" << op.loc().line << ":" << op.loc().col << ")";
    }
  }

private:
  void printBody(const Graph &g, unsigned indent) {
    for (const Op &op : g.ops()) {
      printOp(op, indent);
      os << "\n";
    }
  }

  void printOperands(const Op &op) {
    if (!op.numOperands())
      return;
    os << " ";
    llvm::interleaveComma(op.operands(), os,
                          [&](Value *v) { os << "%" << names.nameOf(v); });
  }

  /// `@name(%inner = %outer, ...)`: each body argument bound to an operand.
  void printKernelHeader(const Op &op) {
    os << " @" << op.attrs().getString("name") << "(";
    const Graph *body = op.body();
    for (unsigned i = 0; i < op.numOperands(); ++i) {
      if (i)
        os << ", ";
      if (body && i < body->numArguments())
        os << "%" << names.nameOf(body->argument(i)) << " = ";
      os << "%" << names.nameOf(op.operand(i));
    }
    os << ")";
  }

  /// A constant's values are elements of its type, so an f32 constant
  /// prints its values as floats.
  static bool holdsFloat32(const Op &op) {
    return op.is(OpKind::Constant) &&
           op.result()->type().element() == ElementType::F32;
  }

  void printAttributes(const Op &op) {
    const OpDef &def = op.def();
    bool first = true;
    for (const AttrSpec &spec : def.attrs) {
      if (op.is(OpKind::Kernel) && spec.name == "name")
        continue; // printed as @name
      const Attribute *value = op.attrs().get(spec.name);
      if (!value || (spec.defaultValue && *value == *spec.defaultValue))
        continue;
      os << (first ? " {" : ", ") << spec.name << " = ";
      value->print(os, holdsFloat32(op));
      first = false;
    }
    if (!first)
      os << "}";
  }

  llvm::raw_ostream &os;
  const PrintOptions &opts;
  NameTable names;
};

} // namespace

void printGraph(llvm::raw_ostream &os, const Graph &g,
                const PrintOptions &opts) {
  Printer(os, opts).printGraph(g);
}

void printModule(llvm::raw_ostream &os, const Module &m,
                 const PrintOptions &opts) {
  bool first = true;
  for (const Graph &g : m.graphs()) {
    if (!first)
      os << "\n";
    printGraph(os, g, opts);
    first = false;
  }
}

std::string toString(const Graph &g, const PrintOptions &opts) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printGraph(os, g, opts);
  return s;
}

} // namespace nnc
