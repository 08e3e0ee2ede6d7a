//===- OnnxExport.cpp - Inference graphs as ONNX models -------------------===//
#include "codegen/OnnxExport.h"

#ifdef NNC_HAVE_ONNX
#include "codegen/OnnxBuilder.h"

#include <onnx/checker.h>
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

using namespace onnxexport;
using onnx::TensorProto;

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
    case OpKind::State:
      break;
    case OpKind::Conv2D:
      // Each example's image with a kernel that must not carry the batch.
      if (rows.lookup(op.operand(1)))
        return false;
      keeps = any;
      break;
    case OpKind::MaxPool2D:
    case OpKind::AvgPool2D:
      keeps = any;
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
    // Parameters, and the state an inference graph reads but never
    // assigns (batch_norm's moving averages), are constants of the model.
    if (op.is(OpKind::Param) || op.is(OpKind::State)) {
      const StateLayout::Entry *e = layout.lookup(variableName(op));
      if (!e) {
        diag.error(op.loc(), "no trained value of " +
                                 llvm::Twine(op.is(OpKind::Param) ? "parameter"
                                                                  : "state") +
                                 " '" + variableName(op) + "' to export");
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
      diag.error(
          op.loc(),
          "ONNX export: no mapping for op '" + op.name() + "'" +
              (op.is(OpKind::Assign) ? " (ONNX graphs hold no state)" : ""));
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
