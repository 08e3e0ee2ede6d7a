//===- DotPrinter.cpp - Graphs as Graphviz pictures -----------------------===//
#include "ir/DotPrinter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace nnc {

namespace {

/// `s` as the body of a DOT string: quotes and backslashes escaped, lines
/// centred.
std::string escape(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

/// How each kind of node is drawn. Colours are light, so the black labels
/// stay readable in print.
constexpr const char *kArgumentStyle =
    "shape=invhouse, style=filled, fillcolor=\"#cfe2f3\"";
constexpr const char *kParamStyle =
    "shape=box, style=\"rounded,filled\", fillcolor=\"#ffe599\"";
constexpr const char *kStateStyle =
    "shape=cylinder, style=filled, fillcolor=\"#f4cccc\"";
constexpr const char *kConstantStyle =
    "shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", fontsize=8";
constexpr const char *kComputeStyle = "shape=box";
constexpr const char *kAssignStyle =
    "shape=box, style=filled, fillcolor=\"#ea9999\"";
constexpr const char *kReturnStyle =
    "shape=house, style=filled, fillcolor=\"#d9ead3\"";

class DotWriter {
public:
  explicit DotWriter(llvm::raw_ostream &os) : os(os) {}

  /// Draws `g`'s nodes and edges, inside a cluster when `clustered`.
  void writeGraph(const Graph &g, bool clustered) {
    unsigned indent = 1;
    if (clustered) {
      os << "  subgraph cluster_" << clusters++ << " {\n";
      os << "    label=\"@" << escape(g.name()) << "\";\n";
      os << "    style=dashed; color=\"#999999\";\n";
      indent = 2;
    }
    for (Value *arg : g.arguments()) {
      std::string label = "%" + arg->name() + "\n" + arg->type().str();
      os.indent(2 * indent) << nodeOf(arg) << " [label=\"" << escape(label)
                            << "\", " << kArgumentStyle << "];\n";
    }
    for (const Op &op : g.ops())
      writeOp(op, indent);
    if (clustered)
      os << "  }\n";
    // Edges after the nodes, so each node is declared in its cluster.
    for (const Op &op : g.ops())
      writeEdges(op, g);
  }

private:
  std::string nodeOf(const Value *v) {
    auto [it, inserted] = valueNodes.try_emplace(v, "");
    if (inserted)
      it->second = "v" + std::to_string(nextNode++);
    return it->second;
  }
  std::string nodeOf(const Op *op) {
    auto [it, inserted] = opNodes.try_emplace(op, "");
    if (inserted)
      it->second = "n" + std::to_string(nextNode++);
    return it->second;
  }

  /// The attributes that say what an op does beyond its name.
  static std::string attributes(const Op &op) {
    std::string text;
    llvm::raw_string_ostream s(text);
    for (const AttrSpec &spec : op.def().attrs) {
      if (spec.name == "name" || spec.name == "init")
        continue;
      const Attribute *value = op.attrs().get(spec.name);
      if (!value || (spec.defaultValue && *value == *spec.defaultValue))
        continue;
      s << "\n" << spec.name << " = ";
      value->print(s, op.is(OpKind::Constant) &&
                          op.result()->type().element() == ElementType::F32);
    }
    return text;
  }

  void writeOp(const Op &op, unsigned indent) {
    if (op.is(OpKind::Kernel)) {
      std::string name = op.attrs().getString("name");
      os.indent(2 * indent) << "subgraph cluster_" << clusters++ << " {\n";
      os.indent(2 * indent + 2)
          << "label=\"" << escape(name) << "\"; style=\"rounded,filled\"; "
          << "fillcolor=\"#f3f3f3\"; color=\"#666666\";\n";
      for (const Op &inner : op.body()->ops())
        if (!inner.is(OpKind::Yield))
          writeOp(inner, indent + 1);
      os.indent(2 * indent) << "}\n";
      return;
    }
    std::string label;
    const char *style = kComputeStyle;
    switch (op.kind()) {
    case OpKind::Param:
      label = "param " + variableName(op).str();
      style = kParamStyle;
      break;
    case OpKind::State:
      label = "state " + variableName(op).str();
      style = kStateStyle;
      break;
    case OpKind::Constant:
      label = "constant" + attributes(op);
      style = kConstantStyle;
      break;
    case OpKind::Assign:
      label = "assign";
      style = kAssignStyle;
      break;
    case OpKind::Return: {
      label = "return";
      const Graph *g = op.parent();
      for (unsigned i = 0; i < op.numOperands(); ++i)
        if (i < g->resultNames().size() && !g->resultNames()[i].empty())
          label += "\n" + g->resultNames()[i];
      style = kReturnStyle;
      break;
    }
    default:
      label = op.name().str() + attributes(op);
      break;
    }
    if (isVariable(op) || op.is(OpKind::Constant))
      label += "\n" + op.result()->type().str();
    os.indent(2 * indent) << nodeOf(&op) << " [label=\"" << escape(label)
                          << "\", " << style << "];\n";
  }

  /// The node that computes `v`: its op, or for a kernel's result the op in
  /// the body that yields it, for a body's argument whatever computes the
  /// kernel's operand, for a graph argument the argument's node.
  std::string sourceOf(const Value *v) {
    if (v->isArgument()) {
      const Graph *g = v->parentGraph();
      if (Op *kernel = g ? g->parentOp() : nullptr)
        return sourceOf(kernel->operand(v->index()));
      return nodeOf(v);
    }
    const Op *def = v->definingOp();
    if (def->is(OpKind::Kernel))
      return sourceOf(def->body()->terminator()->operand(v->index()));
    return nodeOf(def);
  }

  void writeEdges(const Op &op, const Graph &g) {
    if (op.is(OpKind::Kernel)) {
      for (const Op &inner : op.body()->ops())
        if (!inner.is(OpKind::Yield))
          writeEdges(inner, g);
      return;
    }
    for (unsigned i = 0; i < op.numOperands(); ++i) {
      const Value *v = op.operand(i);
      os << "  " << sourceOf(v) << " -> " << nodeOf(&op) << " [label=\""
         << escape(v->type().str()) << "\"];\n";
    }
    // An update points back at the variable it writes.
    if (op.is(OpKind::Assign) && op.numOperands())
      if (const Op *variable = variableOf(op.operand(0)))
        os << "  " << nodeOf(&op) << " -> " << nodeOf(variable)
           << " [style=dashed, color=\"#cc0000\", constraint=false, "
              "label=\"updates\", fontcolor=\"#cc0000\"];\n";
    (void)g;
  }

  llvm::raw_ostream &os;
  llvm::DenseMap<const Value *, std::string> valueNodes;
  llvm::DenseMap<const Op *, std::string> opNodes;
  unsigned nextNode = 0;
  unsigned clusters = 0;
};

void writeHeader(llvm::raw_ostream &os, llvm::StringRef name) {
  os << "digraph \"" << escape(name) << "\" {\n";
  os << "  graph [fontname=\"Helvetica\", fontsize=11, labeljust=l, "
        "rankdir=TB, nodesep=0.25, ranksep=0.35];\n";
  os << "  node [fontname=\"Helvetica\", fontsize=10, height=0.3];\n";
  os << "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n";
}

} // namespace

void printGraphDot(llvm::raw_ostream &os, const Graph &g) {
  writeHeader(os, g.name());
  DotWriter(os).writeGraph(g, /*clustered=*/false);
  os << "}\n";
}

void printModuleDot(llvm::raw_ostream &os, const Module &m,
                    llvm::ArrayRef<std::string> names) {
  std::vector<const Graph *> graphs;
  for (const Graph &g : m.graphs())
    if (names.empty() || llvm::is_contained(names, g.name()))
      graphs.push_back(&g);
  if (graphs.size() == 1)
    return printGraphDot(os, *graphs.front());
  writeHeader(os, "module");
  DotWriter writer(os);
  for (const Graph *g : graphs)
    writer.writeGraph(*g, /*clustered=*/true);
  os << "}\n";
}

} // namespace nnc
