//===- OnnxExport.cpp - Inference graphs as ONNX models -------------------===//
#include "codegen/OnnxExport.h"

#ifdef NNC_HAVE_ONNX
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <functional>
#endif

namespace nnc {

#ifndef NNC_HAVE_ONNX

bool canExportOnnx() { return false; }

std::optional<std::string> exportOnnx(const Graph &, const StateLayout &,
                                      const char *, const OnnxExportOptions &,
                                      DiagnosticEngine &diag, bool *) {
  diag.error(Location(), "this nnc was built without ONNX (libonnx-dev, "
                         "libprotobuf-dev), so it cannot export; run "
                         "scripts/bootstrap.sh and rebuild");
  return std::nullopt;
}

#else

bool canExportOnnx() { return true; }

namespace {

using onnx::TensorProto;

/// Element types as sets, for what an ONNX op is defined on.
using TypeSet = unsigned;
constexpr TypeSet bit(ElementType t) { return 1u << unsigned(t); }
constexpr TypeSet kFloats = bit(ElementType::F32) | bit(ElementType::F64);
/// Add, Sub, Mul, Div, MatMul, ReduceSum/Mean in opset 13: no 8-bit types.
constexpr TypeSet kArithmetic = kFloats | bit(ElementType::I32);
constexpr TypeSet kNumeric = kArithmetic | bit(ElementType::U8);
constexpr TypeSet kAny = kNumeric | bit(ElementType::I1);

int32_t onnxType(ElementType t) {
  switch (t) {
  case ElementType::F32:
    return TensorProto::FLOAT;
  case ElementType::F64:
    return TensorProto::DOUBLE;
  case ElementType::I32:
    return TensorProto::INT32;
  case ElementType::I1:
    return TensorProto::BOOL;
  case ElementType::U8:
    return TensorProto::UINT8;
  }
  return TensorProto::UNDEFINED;
}

/// Builds the ONNX graph of one nnc graph: names, nodes, initializers.
class OnnxBuilder {
public:
  OnnxBuilder(onnx::GraphProto &graph, const Op *op) : graph(graph), op(op) {}

  void setOp(const Op *current) { op = current; }

  /// The ONNX name of a value; names are unique in the graph.
  const std::string &name(const Value *v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    std::string hint = v->name();
    if (const Op *def = v->definingOp(); def && isVariable(*def))
      hint = variableName(*def).str();
    return names[v] = unique(hint.empty() ? "t" : hint);
  }
  /// Gives `v` the name `wanted` (the graph's result name) if it is free.
  void nameAs(const Value *v, const std::string &wanted) {
    if (!names.count(v))
      names[v] = unique(wanted);
  }
  std::string unique(const std::string &base) {
    std::string n = base;
    for (unsigned k = 1; !used.insert(n).second; ++k)
      n = base + "_" + std::to_string(k);
    return n;
  }

  const std::string &in(unsigned i) { return name(op->operand(i)); }
  const std::string &out() { return name(op->result()); }
  /// A name for an intermediate tensor of this op.
  std::string temp(llvm::StringRef what) {
    return unique(out() + "." + what.str());
  }

  onnx::NodeProto &node(llvm::StringRef type,
                        std::initializer_list<std::string> inputs,
                        const std::string &output) {
    onnx::NodeProto &n = *graph.add_node();
    n.set_op_type(type.str());
    n.set_name(unique(output + "." + type.str()));
    for (const std::string &i : inputs)
      n.add_input(i);
    n.add_output(output);
    if (!op->loc().isUnknown())
      n.set_doc_string(op->loc().str());
    return n;
  }

  static void setInt(onnx::NodeProto &n, llvm::StringRef name, int64_t v) {
    onnx::AttributeProto &a = *n.add_attribute();
    a.set_name(name.str());
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
  }
  static void setInts(onnx::NodeProto &n, llvm::StringRef name,
                      llvm::ArrayRef<int64_t> v) {
    onnx::AttributeProto &a = *n.add_attribute();
    a.set_name(name.str());
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a.add_ints(x);
  }
  static void setString(onnx::NodeProto &n, llvm::StringRef name,
                        llvm::StringRef v) {
    onnx::AttributeProto &a = *n.add_attribute();
    a.set_name(name.str());
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(v.str());
  }

  /// A tensor of raw little-endian bytes as an initializer.
  TensorProto &initializer(const std::string &name, ElementType type,
                           llvm::ArrayRef<int64_t> dims, const void *data,
                           size_t bytes) {
    TensorProto &t = *graph.add_initializer();
    t.set_name(name);
    t.set_data_type(onnxType(type));
    for (int64_t d : dims)
      t.add_dims(d);
    t.set_raw_data(data, bytes);
    return t;
  }
  /// An int64 vector (shapes, axes) as an initializer.
  std::string int64s(llvm::StringRef what, llvm::ArrayRef<int64_t> values) {
    std::string n = temp(what);
    TensorProto &t = *graph.add_initializer();
    t.set_name(n);
    t.set_data_type(TensorProto::INT64);
    t.add_dims(int64_t(values.size()));
    for (int64_t v : values)
      t.add_int64_data(v);
    return n;
  }
  /// A scalar of `type` as an initializer.
  std::string scalar(llvm::StringRef what, ElementType type, double value) {
    std::string n = temp(what);
    char bytes[8] = {};
    size_t size = elementByteSize(type);
    switch (type) {
    case ElementType::F32: {
      float f = float(value);
      std::memcpy(bytes, &f, 4);
      break;
    }
    case ElementType::F64:
      std::memcpy(bytes, &value, 8);
      break;
    case ElementType::I32: {
      int32_t i = int32_t(value);
      std::memcpy(bytes, &i, 4);
      break;
    }
    case ElementType::I1:
    case ElementType::U8:
      bytes[0] = char(uint8_t(value));
      break;
    }
    initializer(n, type, {}, bytes, size);
    return n;
  }

  onnx::GraphProto &graph;
  const Op *op;
  /// Whether the batch axis is symbolic: reshapes and broadcasts then say
  /// "keep the input's first dimension" rather than the batch size.
  bool symbolicBatch = false;
  llvm::DenseMap<const Value *, bool> carriesBatch;

private:
  llvm::DenseMap<const Value *, std::string> names;
  llvm::StringSet<> used;
};

/// One op's ONNX form: the element types its operands may have in opset 13,
/// and the nodes it becomes.
struct OnnxMapping {
  TypeSet operandTypes;
  std::function<void(OnnxBuilder &, const Op &)> emit;
};

/// An op that is one ONNX node of the same operands.
OnnxMapping direct(TypeSet types, llvm::StringRef onnxOp) {
  std::string type = onnxOp.str();
  return {types, [type](OnnxBuilder &b, const Op &op) {
            onnx::NodeProto &n = b.node(type, {}, b.out());
            for (unsigned i = 0; i < op.numOperands(); ++i)
              n.add_input(b.in(i));
          }};
}

/// Transposes the last two axes of operand `i` when `flag` is set.
std::string maybeTransposed(OnnxBuilder &b, const Op &op, unsigned i,
                            bool flag) {
  if (!flag)
    return b.in(i);
  int64_t rank = op.operand(i)->type().rank();
  std::vector<int64_t> perm(rank);
  for (int64_t k = 0; k < rank; ++k)
    perm[k] = k;
  std::swap(perm[rank - 1], perm[rank - 2]);
  std::string t = b.temp("transposed" + std::to_string(i));
  OnnxBuilder::setInts(b.node("Transpose", {b.in(i)}, t), "perm", perm);
  return t;
}

/// The shape operand of a Reshape or Expand: the batch kept symbolic as
/// `keep` (0 for Reshape: copy the input's; 1 for Expand: broadcast it).
std::vector<int64_t> shapeWithBatch(const OnnxBuilder &b, const Op &op,
                                    int64_t keep) {
  llvm::ArrayRef<int64_t> shape = op.result()->type().shape();
  std::vector<int64_t> dims(shape.begin(), shape.end());
  if (b.symbolicBatch && b.carriesBatch.lookup(op.result()))
    dims[0] = keep;
  return dims;
}

const llvm::StringMap<OnnxMapping> &mappings() {
  static const llvm::StringMap<OnnxMapping> table = [] {
    llvm::StringMap<OnnxMapping> m;
    // Element-wise.
    m["neg"] = direct(kArithmetic, "Neg");
    m["abs"] = direct(kNumeric, "Abs");
    m["exp"] = direct(kFloats, "Exp");
    m["log"] = direct(kFloats, "Log");
    m["sqrt"] = direct(kFloats, "Sqrt");
    m["relu"] = direct(kFloats, "Relu");
    m["sigmoid"] = direct(kFloats, "Sigmoid");
    m["tanh"] = direct(kFloats, "Tanh");
    m["add"] = direct(kArithmetic, "Add");
    m["sub"] = direct(kArithmetic, "Sub");
    m["mul"] = direct(kArithmetic, "Mul");
    m["div"] = direct(kArithmetic, "Div");
    m["max"] = direct(kNumeric, "Max");
    m["min"] = direct(kNumeric, "Min");
    m["pow"] = direct(kArithmetic, "Pow");
    m["select"] = direct(kAny, "Where");
    // ONNX has no expm1: e^x - 1 loses the digits expm1 keeps near 0 (an
    // absolute error of an ulp of 1).
    m["expm1"] = {kFloats, [](OnnxBuilder &b, const Op &op) {
                    std::string e = b.temp("exp");
                    b.node("Exp", {b.in(0)}, e);
                    std::string one =
                        b.scalar("one", op.result()->type().element(), 1.0);
                    b.node("Sub", {e, one}, b.out());
                  }};
    m["rsqrt"] = {kFloats, [](OnnxBuilder &b, const Op &) {
                    std::string s = b.temp("sqrt");
                    b.node("Sqrt", {b.in(0)}, s);
                    b.node("Reciprocal", {s}, b.out());
                  }};
    m["compare"] = {kNumeric, [](OnnxBuilder &b, const Op &op) {
                      llvm::StringRef p = op.attrs().getString("predicate");
                      if (p == "ne") {
                        std::string eq = b.temp("equal");
                        b.node("Equal", {b.in(0), b.in(1)}, eq);
                        b.node("Not", {eq}, b.out());
                        return;
                      }
                      const char *type = p == "eq"   ? "Equal"
                                         : p == "lt" ? "Less"
                                         : p == "le" ? "LessOrEqual"
                                         : p == "gt" ? "Greater"
                                                     : "GreaterOrEqual";
                      b.node(type, {b.in(0), b.in(1)}, b.out());
                    }};
    m["cast"] = {kAny, [](OnnxBuilder &b, const Op &op) {
                   OnnxBuilder::setInt(b.node("Cast", {b.in(0)}, b.out()), "to",
                                       onnxType(op.result()->type().element()));
                 }};
    // Data movement.
    m["reshape"] = {kAny, [](OnnxBuilder &b, const Op &op) {
                      std::string shape =
                          b.int64s("shape", shapeWithBatch(b, op, 0));
                      b.node("Reshape", {b.in(0), shape}, b.out());
                    }};
    m["broadcast"] = {kAny, [](OnnxBuilder &b, const Op &op) {
                        std::string shape =
                            b.int64s("shape", shapeWithBatch(b, op, 1));
                        b.node("Expand", {b.in(0), shape}, b.out());
                      }};
    m["transpose"] = {kAny, [](OnnxBuilder &b, const Op &op) {
                        OnnxBuilder::setInts(
                            b.node("Transpose", {b.in(0)}, b.out()), "perm",
                            op.attrs().getIntList("perm"));
                      }};
    // Reductions. ReduceSum takes its axes as an input from opset 13 on,
    // the others as an attribute until opset 18.
    m["reduce_sum"] = {
        kArithmetic, [](OnnxBuilder &b, const Op &op) {
          std::string axes = b.int64s("axes", op.attrs().getIntList("axes"));
          OnnxBuilder::setInt(b.node("ReduceSum", {b.in(0), axes}, b.out()),
                              "keepdims", op.attrs().getBool("keepdims"));
        }};
    for (auto [name, type] : {std::pair{"reduce_mean", "ReduceMean"},
                              std::pair{"reduce_max", "ReduceMax"}})
      m[name] = {
          kArithmetic,
          [type = std::string(type)](OnnxBuilder &b, const Op &op) {
            onnx::NodeProto &n = b.node(type, {b.in(0)}, b.out());
            OnnxBuilder::setInts(n, "axes", op.attrs().getIntList("axes"));
            OnnxBuilder::setInt(n, "keepdims", op.attrs().getBool("keepdims"));
          }};
    // ONNX's ArgMax gives int64; nnc's argmax gives i32.
    m["argmax"] = {kNumeric, [](OnnxBuilder &b, const Op &op) {
                     std::string index = b.temp("int64");
                     onnx::NodeProto &n = b.node("ArgMax", {b.in(0)}, index);
                     OnnxBuilder::setInt(n, "axis", op.attrs().getInt("axis"));
                     OnnxBuilder::setInt(n, "keepdims", 0);
                     OnnxBuilder::setInt(b.node("Cast", {index}, b.out()), "to",
                                         TensorProto::INT32);
                   }};
    // Contractions.
    m["matmul"] = {kArithmetic, [](OnnxBuilder &b, const Op &op) {
                     std::string a = maybeTransposed(
                         b, op, 0, op.attrs().getBool("transpose_a"));
                     std::string c = maybeTransposed(
                         b, op, 1, op.attrs().getBool("transpose_b"));
                     b.node("MatMul", {a, c}, b.out());
                   }};
    // Along the last axis.
    m["softmax"] = {kFloats, [](OnnxBuilder &b, const Op &) {
                      OnnxBuilder::setInt(b.node("Softmax", {b.in(0)}, b.out()),
                                          "axis", -1);
                    }};
    m["log_softmax"] = {kFloats, [](OnnxBuilder &b, const Op &) {
                          OnnxBuilder::setInt(
                              b.node("LogSoftmax", {b.in(0)}, b.out()), "axis",
                              -1);
                        }};
    // ONNX Runtime has OneHot for i32 indices with an i32 depth.
    m["one_hot"] = {
        kNumeric, [](OnnxBuilder &b, const Op &op) {
          ElementType t = op.result()->type().element();
          int32_t depthValue = int32_t(op.attrs().getInt("depth"));
          std::string depth = b.temp("depth");
          b.initializer(depth, ElementType::I32, {1}, &depthValue, 4);
          std::string offOn = b.temp("values");
          double doubles[2] = {0, 1};
          float floats[2] = {0, 1};
          int32_t ints[2] = {0, 1};
          const void *data =
              t == ElementType::F32   ? static_cast<const void *>(floats)
              : t == ElementType::I32 ? static_cast<const void *>(ints)
                                      : static_cast<const void *>(doubles);
          b.initializer(offOn, t, {2}, data, 2 * elementByteSize(t));
          OnnxBuilder::setInt(
              b.node("OneHot", {b.in(0), depth, offOn}, b.out()), "axis", -1);
        }};
    m["softmax_cross_entropy"] = {
        kFloats | bit(ElementType::I32), [](OnnxBuilder &b, const Op &) {
          OnnxBuilder::setString(
              b.node("SoftmaxCrossEntropyLoss", {b.in(0), b.in(1)}, b.out()),
              "reduction", "none");
        }};
    return m;
  }();
  return table;
}

/// Whether each value has the batch as its first axis with each row
/// depending on its own example alone; false when some op mixes the rows
/// of a value that does (a sum over the batch, a product that contracts
/// it, a reshape that merges it): the batch must then stay fixed.
bool findBatchRows(const Graph &g, int64_t batch,
                   llvm::DenseMap<const Value *, bool> &rows) {
  for (Value *arg : g.arguments())
    rows[arg] = arg->type().rank() > 0 && arg->type().dim(0) == batch;
  for (const Op &op : g.ops()) {
    if (op.is(OpKind::Return))
      return op.numOperands() == 1 && rows.lookup(op.operand(0));
    if (!op.numResults())
      continue;
    const TensorType &t = op.result()->type();
    bool any = false;
    for (const Value *v : op.operands())
      any |= rows.lookup(v);
    bool keeps = false;
    switch (op.kind()) {
    case OpKind::Param:
      break;
    case OpKind::Constant:
      // A constant as large as the batch would have to grow with it.
      if (t.rank() > 0 && t.dim(0) == batch && batch > 1)
        return false;
      break;
    case OpKind::MatMul:
      if (rows.lookup(op.operand(1)) ||
          (any && op.attrs().getBool("transpose_a")))
        return false;
      keeps = any;
      break;
    case OpKind::Reshape:
    case OpKind::Broadcast:
      if (any && (t.rank() == 0 || t.dim(0) != batch ||
                  (op.is(OpKind::Broadcast) &&
                   op.operand(0)->type().rank() != t.rank())))
        return false;
      keeps = any;
      break;
    case OpKind::Transpose:
      if (any && op.attrs().getIntList("perm")[0] != 0)
        return false;
      keeps = any;
      break;
    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
      if (any && llvm::is_contained(op.attrs().getIntList("axes"), 0))
        return false;
      keeps = any;
      break;
    case OpKind::ArgMax:
      if (any && op.attrs().getInt("axis") == 0)
        return false;
      keeps = any;
      break;
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
      if (any && t.rank() == 1)
        return false;
      keeps = any;
      break;
    default:
      // Element-wise and row-wise ops: the rows of the operands that have
      // them meet only the rows of the others, which must broadcast.
      for (const Value *v : op.operands()) {
        const TensorType &ot = v->type();
        bool aligned = ot.rank() == t.rank() && ot.rank() > 0;
        if (any && !rows.lookup(v) && aligned && ot.dim(0) != 1)
          return false;
      }
      keeps = any && t.rank() > 0 && t.dim(0) == batch;
      break;
    }
    rows[op.result()] = keeps;
  }
  return false;
}

void describeValue(onnx::ValueInfoProto &info, const std::string &name,
                   const TensorType &t, bool symbolicBatch) {
  info.set_name(name);
  auto &tensor = *info.mutable_type()->mutable_tensor_type();
  tensor.set_elem_type(onnxType(t.element()));
  auto &shape = *tensor.mutable_shape();
  for (int64_t i = 0; i < t.rank(); ++i) {
    auto &dim = *shape.add_dim();
    if (i == 0 && symbolicBatch)
      dim.set_dim_param("batch");
    else
      dim.set_dim_value(t.dim(i));
  }
}

} // namespace

std::optional<std::string> exportOnnx(const Graph &g, const StateLayout &layout,
                                      const char *state,
                                      const OnnxExportOptions &options,
                                      DiagnosticEngine &diag,
                                      bool *batchIsSymbolic) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  onnx::ModelProto model;
  // IR version 7 came with opset 13; the oldest that reads what is written.
  model.set_ir_version(7);
  model.set_producer_name("nnc");
  model.set_producer_version(options.producerVersion);
  auto &opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(options.opset);
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name(options.modelName.empty() ? g.name() : options.modelName);

  const Op *ret = g.terminator();
  if (!ret || ret->numOperands() != 1 || g.numArguments() == 0) {
    diag.error(ret ? ret->loc() : Location(),
               "ONNX export takes an inference graph: inputs and one result");
    return std::nullopt;
  }
  OnnxBuilder b(graph, nullptr);
  int64_t batch =
      g.argument(0)->type().rank() ? g.argument(0)->type().dim(0) : 0;
  b.symbolicBatch = findBatchRows(g, batch, b.carriesBatch);
  if (batchIsSymbolic)
    *batchIsSymbolic = b.symbolicBatch;

  for (Value *arg : g.arguments())
    describeValue(*graph.add_input(), b.name(arg), arg->type(),
                  b.carriesBatch.lookup(arg) && b.symbolicBatch);
  std::string resultName =
      g.resultNames().empty() ? "output" : g.resultNames()[0];
  const Value *result = ret->operand(0);
  bool passThrough = result->isArgument() || isVariable(*result->definingOp());
  if (!passThrough)
    b.nameAs(result, resultName);

  bool ok = true;
  for (const Op &op : g.ops()) {
    b.setOp(&op);
    if (op.is(OpKind::Return))
      continue;
    if (op.is(OpKind::Param)) {
      const StateLayout::Entry *e = layout.lookup(variableName(op));
      if (!e) {
        diag.error(op.loc(), "no trained value of parameter '" +
                                 variableName(op) + "' to export");
        ok = false;
        continue;
      }
      const TensorType &t = op.result()->type();
      b.initializer(b.out(), t.element(), t.shape(), state + e->offset,
                    size_t(t.byteSize()));
      continue;
    }
    if (op.is(OpKind::Constant)) {
      const TensorType &t = op.result()->type();
      std::vector<char> bytes(size_t(t.byteSize()));
      const AttrDict &attrs = op.attrs();
      for (int64_t i = 0; i < t.numElements(); ++i) {
        double v = attrs.get("values") ? attrs.get("values")->getFloatList()[i]
                                       : attrs.getFloat("value");
        char *at = bytes.data() + i * elementByteSize(t.element());
        switch (t.element()) {
        case ElementType::F32: {
          float f = float(v);
          std::memcpy(at, &f, 4);
          break;
        }
        case ElementType::F64:
          std::memcpy(at, &v, 8);
          break;
        case ElementType::I32: {
          int32_t x = int32_t(v);
          std::memcpy(at, &x, 4);
          break;
        }
        case ElementType::I1:
        case ElementType::U8:
          *at = char(uint8_t(v));
          break;
        }
      }
      b.initializer(b.out(), t.element(), t.shape(), bytes.data(),
                    bytes.size());
      continue;
    }
    const auto &table = mappings();
    auto it = table.find(op.name());
    if (it == table.end()) {
      diag.error(op.loc(), "ONNX export: no mapping for op '" + op.name() +
                               "'" +
                               (op.is(OpKind::Assign) || op.is(OpKind::State)
                                    ? " (ONNX graphs hold no state)"
                                    : ""));
      ok = false;
      continue;
    }
    bool typesOk = true;
    for (const Value *v : op.operands())
      if (!(it->second.operandTypes & bit(v->type().element()))) {
        diag.error(op.loc(), "ONNX export: opset " +
                                 llvm::Twine(options.opset) + " has no '" +
                                 op.name() + "' on " + v->type().str());
        typesOk = false;
        break;
      }
    if (!typesOk) {
      ok = false;
      continue;
    }
    it->second.emit(b, op);
  }
  if (!ok)
    return std::nullopt;

  std::string outputName = b.name(result);
  if (passThrough) {
    b.setOp(ret);
    outputName = b.unique(resultName);
    b.node("Identity", {b.name(result)}, outputName);
  }
  describeValue(*graph.add_output(), outputName, result->type(),
                b.symbolicBatch);

  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    diag.error(Location(),
               llvm::Twine("internal error: the exported ONNX model fails "
                           "ONNX's checker: ") +
                   e.what());
    return std::nullopt;
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    diag.error(Location(), "internal error: cannot serialise the ONNX model");
    return std::nullopt;
  }
  return bytes;
}

#endif

} // namespace nnc
