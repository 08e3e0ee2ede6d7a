//===- ModelExport.h - A trained model as ONNX or a C library ---*- C++ -*-===//
//
// What `nnc --export` and `nnc --emit-lib` make of a trained model: the
// inference graph with the weights, as an ONNX model or compiled ahead of
// time into an object file and a header.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_MODELEXPORT_H
#define NNC_TOOLS_NNC_MODELEXPORT_H

#include "runtime/ModelState.h"
#include "tools/common/TrainingPipeline.h"
#include "tools/nnc/Run.h"

namespace nnc {

/// Writes the inference graph, without fusion, as an ONNX model with the
/// weights of `state`; false after reporting why not.
bool exportModel(const ForwardBuilder &inference, int64_t batch,
                 const std::string &modelName, const ModelState &state,
                 const std::string &path, DiagnosticEngine &diag);

/// Compiles the fused inference graph ahead of time into DIR/<model>.o with
/// the weights of `state`, and writes DIR/<model>.h; false after reporting
/// why not.
bool emitLibrary(const ForwardBuilder &inference, int64_t batch, bool fusion,
                 const std::string &modelName, const std::string &source,
                 const ModelState &state, const RunOptions &options,
                 DiagnosticEngine &diag);

} // namespace nnc

#endif
