//===- LayerBuilders.h - The build functions of the layer table -*- C++ -*-===//
//
// Internal to frontend/: the build functions that Layers.cpp's table names,
// grouped by file (ImageLayers.cpp: convolution and pooling;
// TrainingLayers.cpp: dropout and batch_norm, which differ between the
// training step and evaluation), and the pieces layers share.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_LAYERBUILDERS_H
#define NNC_FRONTEND_LAYERBUILDERS_H

#include "frontend/Layers.h"

namespace nnc::nn {

Initializer initializerOf(Initializer::Kind kind);

/// The `activation` argument: relu, sigmoid, tanh, softmax or none.
std::optional<std::string> activationOf(LayerContext &layer);
/// `y` through `activation` ("none" returns it as is).
std::optional<Operand> applyActivation(LayerContext &layer, const Operand &y,
                                       llvm::StringRef activation);

// ImageLayers.cpp
std::optional<Operand> buildConv2D(LayerContext &layer);
std::optional<Operand> buildMaxPool2D(LayerContext &layer);
std::optional<Operand> buildAvgPool2D(LayerContext &layer);
std::optional<Operand> buildGlobalAvgPool2D(LayerContext &layer);

// TrainingLayers.cpp
std::optional<Operand> buildDropout(LayerContext &layer);
std::optional<Operand> buildBatchNorm(LayerContext &layer);

} // namespace nnc::nn

#endif // NNC_FRONTEND_LAYERBUILDERS_H
