//===- DataSetup.h - The train block's data, for the runtime ----*- C++ -*-===//
//
// The frontend reads `data`, `validation_split` and `standardize` from the
// train block; the runtime loads data sets and holds the model's state.
// Neither knows the other (the layering is one-way), so the driver
// translates: the data set the block names, what one example is for the
// model, and the standardisation statistics that go into the model's state.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_DATASETUP_H
#define NNC_TOOLS_DATASETUP_H

#include "frontend/TrainingConfig.h"
#include "ir/Graph.h"
#include "runtime/DataLoading.h"
#include "runtime/ModelState.h"

#include "llvm/Support/raw_ostream.h"

namespace nnc {

/// The runtime's description of the configured data.
DataSource dataSourceOf(const TrainingConfig &config);

/// What one example must be for the forward graph `g`: its first
/// argument's shape, its label's type, and the number of classes its
/// cross-entropy or one_hot says the labels index.
DataRequest dataRequestOf(const Graph &g);

/// Gives the standardisation states of the model (standardize.<input>.mean
/// and .std) the statistics of the training split of `data`, except those
/// `restored` from a checkpoint. Says on `log` what it computed.
llvm::Error setStandardization(ModelState &state, const Dataset &data,
                               const Graph &forward,
                               llvm::ArrayRef<std::string> restored,
                               llvm::raw_ostream &log);

/// A --data argument as the train block's `data` value: mnist,
/// fashion_mnist and calls are as written; a directory is idx("dir"); a
/// .csv (.csv.gz, .tsv) file csv("file"), a .npz file npz("file").
std::string dataSettingOf(llvm::StringRef argument);

} // namespace nnc

#endif
