//===- DataSetup.cpp - The train block's data, for the runtime ------------===//
#include "tools/common/DataSetup.h"

#include "frontend/Frontend.h"
#include "runtime/ArrayDataset.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

namespace nnc {

DataSource dataSourceOf(const TrainingConfig &config) {
  const DatasetSpec &spec = config.data;
  DataSource s;
  switch (spec.kind) {
  case DatasetSpec::Kind::MNIST:
    s.kind = DataSource::Kind::MNIST;
    break;
  case DatasetSpec::Kind::FashionMNIST:
    s.kind = DataSource::Kind::FashionMNIST;
    break;
  case DatasetSpec::Kind::IDX:
    s.kind = DataSource::Kind::IDX;
    s.path = spec.directory;
    break;
  case DatasetSpec::Kind::CSV:
    s.kind = DataSource::Kind::CSV;
    break;
  case DatasetSpec::Kind::NPY:
    s.kind = DataSource::Kind::NPY;
    break;
  case DatasetSpec::Kind::NPZ:
    s.kind = DataSource::Kind::NPZ;
    break;
  }
  if (spec.kind != DatasetSpec::Kind::IDX)
    s.path = spec.path;
  s.test = spec.test;
  s.x = spec.x;
  s.y = spec.y;
  s.testX = spec.testX;
  s.testY = spec.testY;
  s.targetColumns = spec.target;
  s.delimiter = spec.delimiter;
  s.skipRows = spec.skip;
  s.header = spec.header;
  s.validationSplit = config.validationSplit;
  s.splitSeed = config.splitSeed;
  return s;
}

DataRequest dataRequestOf(const Graph &g) {
  DataRequest r;
  if (g.numArguments() > 0) {
    const Value *x = g.argument(0);
    r.inputName = x->name();
    r.featureShape = Shape(x->type().shape().drop_front());
  }
  if (g.numArguments() > 1) {
    const Value *y = g.argument(1);
    r.labelName = y->name();
    r.target = TensorType(y->type().element(), y->type().shape().drop_front());
    // The classes the labels index: the depth of what reads them as
    // classes.
    for (const Op &op : g.ops()) {
      if (op.is(OpKind::SoftmaxCrossEntropy) && op.operand(1) == y)
        r.numClasses = op.operand(0)->type().shape().back();
      else if (op.is(OpKind::OneHot) && op.operand(0) == y)
        r.numClasses = op.attrs().getInt("depth");
      if (r.numClasses)
        break;
    }
  }
  return r;
}

llvm::Error setStandardization(ModelState &state, const Dataset &data,
                               const Graph &forward,
                               llvm::ArrayRef<std::string> restored,
                               llvm::raw_ostream &log) {
  if (forward.numArguments() == 0)
    return llvm::Error::success();
  std::string prefix = standardizationPrefix(forward.argument(0)->name());
  const StateLayout::Entry *mean = state.layout().lookup(prefix + "mean");
  const StateLayout::Entry *stddev = state.layout().lookup(prefix + "std");
  if (!mean || !stddev)
    return llvm::Error::success();
  if (llvm::is_contained(restored, mean->name) &&
      llvm::is_contained(restored, stddev->name))
    return llvm::Error::success();
  FeatureStatistics stats = computeFeatureStatistics(data, Split::Train);
  if (int64_t(stats.mean.size()) != mean->type.numElements() ||
      mean->type != stddev->type || mean->type.element() != ElementType::F32)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the standardisation state " + mean->name + " is " + mean->type.str() +
            ", but the data has " + llvm::Twine(stats.mean.size()) +
            " features per example");
  auto *m = static_cast<float *>(state.data(*mean));
  auto *s = static_cast<float *>(state.data(*stddev));
  for (size_t i = 0; i < stats.mean.size(); ++i) {
    m[i] = float(stats.mean[i]);
    s[i] = float(stats.stddev[i]);
  }
  log << llvm::formatv("standardized {0} features with the mean and "
                       "standard deviation of the {1} training examples\n",
                       stats.mean.size(), data.size(Split::Train));
  return llvm::Error::success();
}

std::string dataSettingOf(llvm::StringRef argument) {
  std::string quotedArg = "\"";
  {
    llvm::raw_string_ostream os(quotedArg);
    os.write_escaped(argument);
  }
  quotedArg += "\"";
  if (argument == "mnist" || argument == "fashion_mnist" ||
      argument.contains('('))
    return argument.str();
  if (llvm::sys::fs::is_directory(argument))
    return "idx(" + quotedArg + ")";
  llvm::StringRef lower = argument;
  if (lower.ends_with(".csv") || lower.ends_with(".csv.gz") ||
      lower.ends_with(".tsv") || lower.ends_with(".txt"))
    return "csv(" + quotedArg + ")";
  if (lower.ends_with(".npz"))
    return "npz(" + quotedArg + ")";
  return "idx(" + quotedArg + ")";
}

} // namespace nnc
