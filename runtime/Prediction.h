//===- Prediction.h - Running the inference graph over examples -*- C++ -*-===//
//
// `nnc model.nn --load ckpt --predict INPUT -o preds.csv` runs the model's
// inference graph (its `output`, no loss) over the examples INPUT names,
// in batches of the graph's size with the last one padded, and writes one
// row of outputs per example; for a classifier (an output whose loss is its
// softmax cross-entropy), also the class with the highest score and its
// softmax probability. Pixels become x/255 floats, as in training.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_PREDICTION_H
#define NNC_RUNTIME_PREDICTION_H

#include "runtime/Executor.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace nnc {

/// The examples to predict: images of bytes, and their labels when known.
struct PredictionInput {
  std::string name; ///< as given on the command line
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels; ///< [count, height, width]
  std::vector<uint8_t> labels; ///< [count], or empty
  /// What was done to an image to read it (ImageFile.h), or "".
  std::string conversion;
};

/// Reads what --predict names: an image (PNG or PGM), an IDX file of
/// images ([N, H, W] bytes, plain or gzip), or a data set (`mnist`,
/// `fashion_mnist` or a directory of IDX files, as for --data), whose test
/// split is read with its labels. `defaultDataRoot` and `numClasses` are
/// as for loadDataset.
llvm::Expected<PredictionInput>
loadPredictionInput(llvm::StringRef nameOrPath, llvm::StringRef defaultDataRoot,
                    unsigned numClasses);

/// Checks that `infer` takes one f32 argument whose rows hold one image of
/// the input's size: [batch, H, W], or [batch, H * W] for a flat input.
llvm::Error checkGraphFitsInput(const Graph &infer, const PredictionInput &in);

/// The outputs of every example, in input order.
struct Predictions {
  std::string outputName;
  /// One example's output: the graph's result without its batch axis.
  TensorType exampleType;
  int64_t count = 0;
  std::vector<double> values;  ///< [count, exampleType.numElements()]
  std::vector<uint8_t> labels; ///< the input's labels, or empty

  llvm::ArrayRef<double> row(int64_t i) const {
    int64_t n = exampleType.numElements();
    return llvm::ArrayRef(values).slice(i * n, n);
  }
};

/// Runs `infer` over every example of `in`.
llvm::Expected<Predictions> predict(GraphExecutor &infer,
                                    const PredictionInput &in);

/// A classifier's answer for one example's logits: the highest-scoring
/// class (the first, on ties, as argmax) and its softmax probability.
struct ClassScore {
  int64_t label = 0;
  double probability = 0;
};
ClassScore classify(llvm::ArrayRef<double> logits);

/// Writes the predictions to `path`: `.npy` gives the outputs as one array
/// [count, ...] of the output's element type; anything else CSV with a
/// header (example, label when known, class and probability for a
/// classifier, then every output element), `-` being standard output.
llvm::Error writePredictions(llvm::StringRef path, const Predictions &p,
                             bool classifier);

/// The CSV form of writePredictions.
void printPredictionsCsv(llvm::raw_ostream &os, const Predictions &p,
                         bool classifier);

} // namespace nnc

#endif
