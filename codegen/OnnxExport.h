//===- OnnxExport.h - Inference graphs as ONNX models -----------*- C++ -*-===//
//
// `nnc model.nn --load ckpt --export model.onnx` writes the inference graph
// (the model's output, no loss) as an ONNX model: the graph's arguments are
// its inputs, its result its output, every parameter an initializer holding
// the trained weights, every op one or a few ONNX nodes. The model is built
// with the generated classes of ONNX's protobuf definitions (Debian's
// libonnx-dev) and checked by ONNX's own checker before it is returned.
//
// Each op maps through one table keyed by the op's name
// (OnnxOpMappings.cpp): adding an op's mapping is one row there. An op
// without a row, or one whose element type the chosen opset does not
// define it for, is reported at the op's location in the model file,
// naming the op.
//
// The batch axis becomes a symbolic dimension `batch` when the graph keeps
// it apart (every example's outputs depend on that example alone, and
// reshapes keep the batch in front); otherwise the model has the batch size
// the graph was built with, and the export says so.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_ONNXEXPORT_H
#define NNC_CODEGEN_ONNXEXPORT_H

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "ir/MemoryPlan.h"

#include <optional>
#include <string>

namespace nnc {

struct OnnxExportOptions {
  /// The ONNX graph's name: the model's.
  std::string modelName;
  /// The opset: 13 is the oldest with every mapping here, and what ONNX
  /// Runtime and every ONNX consumer of the last years read.
  int64_t opset = 13;
  std::string producerVersion;
};

/// Whether this nnc was built with ONNX (libonnx-dev, libprotobuf-dev).
bool canExportOnnx();

/// The ONNX model of inference graph `g`, serialised, with each param's
/// data read from `state` at its `layout` offset; nullopt after reporting
/// errors through `diag`. `batchIsSymbolic`, when given, says whether the
/// batch axis became the symbolic `batch`.
std::optional<std::string> exportOnnx(const Graph &g, const StateLayout &layout,
                                      const char *state,
                                      const OnnxExportOptions &options,
                                      DiagnosticEngine &diag,
                                      bool *batchIsSymbolic = nullptr);

} // namespace nnc

#endif
