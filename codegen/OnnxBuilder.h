//===- OnnxBuilder.h - Building ONNX graphs op by op -----------*- C++ -*-===//
//
// What OnnxExport.cpp and the table of op mappings (OnnxOpMappings.cpp)
// share: the ONNX graph under construction with its unique tensor names,
// and an op's mapping. Compiled only with ONNX (NNC_HAVE_ONNX).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_ONNXBUILDER_H
#define NNC_CODEGEN_ONNXBUILDER_H

#include "ir/Graph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <functional>

namespace nnc::onnxexport {

using onnx::TensorProto;

/// Element types as sets, for what an ONNX op is defined on.
using TypeSet = unsigned;
constexpr TypeSet bit(ElementType t) { return 1u << unsigned(t); }
constexpr TypeSet kFloats = bit(ElementType::F32) | bit(ElementType::F64);
/// Add, Sub, Mul, Div, MatMul, ReduceSum/Mean in opset 13: no 8-bit types.
constexpr TypeSet kArithmetic = kFloats | bit(ElementType::I32);
constexpr TypeSet kNumeric = kArithmetic | bit(ElementType::U8);
constexpr TypeSet kAny = kNumeric | bit(ElementType::I1);

inline int32_t onnxType(ElementType t) {
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

/// The mapping of every op an inference graph can hold, by op name.
const llvm::StringMap<OnnxMapping> &mappings();

} // namespace nnc::onnxexport

#endif
