//===- OnnxOpMappings.cpp - Each op's ONNX form ---------------------------===//
//
// One row per op, keyed by its name: the element types ONNX opset 13
// defines the op's ONNX form for, and the nodes it becomes. A new op adds
// its row here.
//
// Images are NHWC in nnc and NCHW in ONNX's Conv, MaxPool and
// AveragePool, with convolution kernels HWIO in nnc and OIHW in ONNX: each
// such op becomes a Transpose of its operands into ONNX's layout, the op,
// and a Transpose of its result back. ONNX Runtime's transpose optimizer
// cancels the pairs that meet between two such ops, and folds the
// kernel's into its initializer.
//
//===----------------------------------------------------------------------===//
#ifdef NNC_HAVE_ONNX
#include "codegen/OnnxBuilder.h"

namespace nnc::onnxexport {

using onnx::TensorProto;

namespace {

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

/// Operand `i`, transposed by `perm` into a new tensor named after `what`.
std::string transposed(OnnxBuilder &b, unsigned i, llvm::StringRef what,
                       llvm::ArrayRef<int64_t> perm) {
  std::string t = b.temp(what);
  OnnxBuilder::setInts(b.node("Transpose", {b.in(i)}, t), "perm", perm);
  return t;
}

constexpr int64_t kToNCHW[] = {0, 3, 1, 2};
constexpr int64_t kToNHWC[] = {0, 2, 3, 1};
constexpr int64_t kHWIOToOIHW[] = {3, 2, 0, 1};

/// ONNX's pads [top, left, bottom, right] from nnc's [top, bottom, left,
/// right].
std::vector<int64_t> onnxPads(const Op &op) {
  const std::vector<int64_t> &p = op.attrs().getIntList("padding");
  return {p[0], p[2], p[1], p[3]};
}

/// An NHWC image op as its NCHW ONNX node `type` between two transposes;
/// `extra` adds inputs (the transposed kernel) and `attrs` attributes.
void nchwNode(OnnxBuilder &b, const Op &op, llvm::StringRef type,
              llvm::ArrayRef<std::string> extra,
              llvm::function_ref<void(onnx::NodeProto &)> attrs) {
  std::string x = transposed(b, 0, "nchw", kToNCHW);
  std::string y = b.temp(type.lower());
  onnx::NodeProto &n = b.node(type, {x}, y);
  for (const std::string &e : extra)
    n.add_input(e);
  OnnxBuilder::setInts(n, "strides", op.attrs().getIntList("strides"));
  OnnxBuilder::setInts(n, "pads", onnxPads(op));
  attrs(n);
  OnnxBuilder::setInts(b.node("Transpose", {y}, b.out()), "perm", kToNHWC);
}

/// max_pool2d and avg_pool2d: ONNX's pooling pads add no elements to a
/// window (MaxPool's never win; AveragePool's count_include_pad = 0
/// divides by the elements inside), as nnc's.
OnnxMapping pooling(llvm::StringRef onnxOp) {
  std::string type = onnxOp.str();
  return {kFloats, [type](OnnxBuilder &b, const Op &op) {
            nchwNode(b, op, type, {}, [&](onnx::NodeProto &n) {
              OnnxBuilder::setInts(n, "kernel_shape",
                                   op.attrs().getIntList("window"));
              if (type == "AveragePool")
                OnnxBuilder::setInt(n, "count_include_pad", 0);
            });
          }};
}

} // namespace

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
    // Images.
    m["conv2d"] = {
        kFloats, [](OnnxBuilder &b, const Op &op) {
          std::string w = transposed(b, 1, "oihw", kHWIOToOIHW);
          const TensorType &k = op.operand(1)->type();
          nchwNode(b, op, "Conv", {w}, [&](onnx::NodeProto &n) {
            OnnxBuilder::setInts(n, "kernel_shape", {k.dim(0), k.dim(1)});
            OnnxBuilder::setInts(n, "dilations",
                                 op.attrs().getIntList("dilations"));
          });
        }};
    m["max_pool2d"] = pooling("MaxPool");
    m["avg_pool2d"] = pooling("AveragePool");
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

} // namespace nnc::onnxexport
#endif
