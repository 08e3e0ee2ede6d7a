//===- OpRegistration.h - How op families add themselves to the table -----===//
//
// Internal to ir/: each file under ir/ops/ defines one family of ops and a
// function that adds their definitions to the table.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_OPS_OPREGISTRATION_H
#define NNC_IR_OPS_OPREGISTRATION_H

#include "ir/OpDef.h"

#include <functional>

namespace nnc {

using OpRegistry = std::function<void(OpDef)>;

void registerStructuralOps(const OpRegistry &add);
void registerElementwiseOps(const OpRegistry &add);
void registerDataMovementOps(const OpRegistry &add);
void registerReductionOps(const OpRegistry &add);
void registerContractionOps(const OpRegistry &add);
void registerNeuralNetOps(const OpRegistry &add);
void registerCollectiveOps(const OpRegistry &add);
void registerConvolutionOps(const OpRegistry &add);
void registerPoolingOps(const OpRegistry &add);
void registerPatchOps(const OpRegistry &add);
void registerRandomOps(const OpRegistry &add);

} // namespace nnc

#endif
