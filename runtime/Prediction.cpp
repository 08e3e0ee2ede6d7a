//===- Prediction.cpp - Running the inference graph over examples ---------===//
#include "runtime/Prediction.h"
#include "runtime/AtomicFile.h"
#include "runtime/Dataset.h"
#include "runtime/IdxFile.h"
#include "runtime/ImageFile.h"
#include "runtime/InputFile.h"
#include "runtime/NpyFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <cmath>

namespace nnc {

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

llvm::ArrayRef<uint8_t> bytesOf(const llvm::MemoryBuffer &buffer) {
  return {reinterpret_cast<const uint8_t *>(buffer.getBufferStart()),
          buffer.getBufferSize()};
}

/// An IDX file of images: [N, H, W] bytes.
llvm::Expected<PredictionInput> fromIdx(llvm::ArrayRef<uint8_t> bytes,
                                        llvm::StringRef path) {
  auto idx = parseIdx(bytes, path);
  if (!idx)
    return idx.takeError();
  if (idx->dims.size() != 3)
    return makeError(path + ": an IDX file of " +
                     llvm::Twine(idx->dims.size()) +
                     " dimensions; --predict reads images, [N, height, "
                     "width]");
  // The reader takes every IDX element type; images here are bytes.
  if (idx->type != 0x08)
    return makeError(path + ": an IDX file of " + idxTypeName(idx->type) +
                     "s; --predict reads images of unsigned bytes");
  PredictionInput in;
  in.name = path.str();
  in.count = idx->dims[0];
  in.height = idx->dims[1];
  in.width = idx->dims[2];
  in.pixels = std::move(idx->data);
  return in;
}

/// The test split of a data set, with its labels.
llvm::Expected<PredictionInput> fromDataset(llvm::StringRef name,
                                            llvm::StringRef dataRoot,
                                            unsigned numClasses) {
  auto data = loadDataset(name, dataRoot, numClasses);
  if (!data)
    return data.takeError();
  PredictionInput in;
  in.name = name.str();
  in.count = data->size(Split::Test);
  in.height = data->height();
  in.width = data->width();
  llvm::ArrayRef<uint8_t> images = data->images(Split::Test);
  in.pixels.assign(images.begin(),
                   images.begin() + in.count * data->pixelsPerImage());
  llvm::ArrayRef<uint8_t> labels = data->labels(Split::Test);
  in.labels.assign(labels.begin(), labels.end());
  return in;
}

} // namespace

llvm::Expected<PredictionInput>
loadPredictionInput(llvm::StringRef nameOrPath, llvm::StringRef defaultDataRoot,
                    unsigned numClasses) {
  if (nameOrPath == "mnist" || nameOrPath == "fashion_mnist" ||
      llvm::sys::fs::is_directory(nameOrPath))
    return fromDataset(nameOrPath, defaultDataRoot, numClasses);
  auto buffer = readRegularFile(nameOrPath);
  if (!buffer)
    return makeError(nameOrPath +
                     ": cannot read: " + llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes = bytesOf(**buffer);
  bool idx =
      bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08;
  if (idx || isGzip(bytes))
    return fromIdx(bytes, nameOrPath);
  auto image = decodeImage(bytes, nameOrPath);
  if (!image)
    return image.takeError();
  PredictionInput in;
  in.name = nameOrPath.str();
  in.count = 1;
  in.height = image->height;
  in.width = image->width;
  in.pixels = std::move(image->pixels);
  in.conversion = std::move(image->conversion);
  return in;
}

llvm::Error checkGraphFitsInput(const Graph &infer, const PredictionInput &in) {
  if (infer.numArguments() != 1)
    return makeError("--predict feeds one input, images, but the model "
                     "takes " +
                     llvm::Twine(infer.numArguments()) + " inputs");
  const Value *x = infer.argument(0);
  const TensorType &t = x->type();
  std::string name = x->name().empty() ? "x" : x->name();
  if (t.element() != ElementType::F32)
    return makeError("--predict feeds images as f32, but the model's input '" +
                     name + "' is " + t.str());
  auto example = llvm::ArrayRef(t.shape()).drop_front();
  int64_t perExample = t.numElements() / std::max<int64_t>(1, t.dim(0));
  bool fits = example.size() == 2
                  ? example[0] == in.height && example[1] == in.width
                  : perExample == in.height * in.width;
  if (fits)
    return llvm::Error::success();
  // Sizes as images are described, width x height.
  std::string size = std::to_string(in.width) + "x" + std::to_string(in.height);
  std::string what = in.count == 1 ? "the image is " + size + " pixels"
                                   : "the images are " + size + " pixels";
  std::string wanted = example.size() == 2 ? std::to_string(example[1]) + "x" +
                                                 std::to_string(example[0])
                                           : "";
  std::string takes =
      wanted.empty() ? "images of " + std::to_string(perExample) + " pixels"
                     : wanted + " images";
  std::string hint;
  if (in.count == 1 && !wanted.empty())
    hint = "; resize it first, e.g. with ImageMagick: convert " + in.name +
           " -resize " + wanted + "! resized.png";
  return makeError(in.name + ": " + what +
                   " (width x height), but the "
                   "model's input '" +
                   name + "' (" + t.str() + ") takes " + takes + hint);
}

llvm::Expected<Predictions> predict(GraphExecutor &infer,
                                    const PredictionInput &in) {
  const Graph &g = infer.graph();
  if (llvm::Error err = checkGraphFitsInput(g, in))
    return err;
  const Value *result = g.terminator()->operand(0);
  const TensorType &type = result->type();
  int64_t batch = g.argument(0)->type().dim(0);
  if (type.rank() == 0 || type.dim(0) != batch)
    return makeError("the model's output " + type.str() +
                     " does not have the batch (" + llvm::Twine(batch) +
                     ") as its first axis, so it has no row per example");
  Predictions p;
  p.outputName = g.resultNames().empty() ? "output" : g.resultNames()[0];
  p.exampleType = TensorType(
      type.element(), Shape(type.shape().begin() + 1, type.shape().end()));
  p.count = in.count;
  p.labels = in.labels;
  int64_t perExample = p.exampleType.numElements();
  p.values.resize(size_t(in.count * perExample));
  int64_t pixels = in.height * in.width;
  auto *x = static_cast<float *>(infer.argument(0));
  for (int64_t begin = 0; begin < in.count; begin += batch) {
    int64_t rows = std::min(batch, in.count - begin);
    const uint8_t *from = in.pixels.data() + begin * pixels;
    for (int64_t i = 0; i < rows * pixels; ++i)
      x[i] = float(from[i]) / 255.0f;
    // The padding rows are zeros: their outputs are dropped.
    std::fill(x + rows * pixels, x + batch * pixels, 0.0f);
    if (llvm::Error err = infer.run())
      return err;
    HostTensor out = infer.result(0);
    std::copy(out.data.begin(), out.data.begin() + rows * perExample,
              p.values.begin() + begin * perExample);
  }
  return p;
}

ClassScore classify(llvm::ArrayRef<double> logits) {
  ClassScore best;
  if (logits.empty())
    return best;
  for (size_t j = 1; j < logits.size(); ++j)
    if (logits[j] > logits[best.label])
      best.label = int64_t(j);
  double max = logits[best.label], sum = 0;
  for (double l : logits)
    sum += std::exp(l - max);
  best.probability = 1.0 / sum;
  return best;
}

namespace {

/// "logits_3", or "out_1_2" for an element of a larger output.
std::string columnName(const std::string &output, const TensorType &t,
                       int64_t i) {
  std::string name = output;
  llvm::SmallVector<int64_t, 4> index(t.rank());
  for (int64_t d = t.rank() - 1; d >= 0; --d) {
    index[d] = i % t.dim(d);
    i /= t.dim(d);
  }
  for (int64_t k : index)
    name += "_" + std::to_string(k);
  return name;
}

} // namespace

void printPredictionsCsv(llvm::raw_ostream &os, const Predictions &p,
                         bool classifier) {
  bool labels = !p.labels.empty();
  bool integers = p.exampleType.element() != ElementType::F32 &&
                  p.exampleType.element() != ElementType::F64;
  int64_t n = p.exampleType.numElements();
  os << "example";
  if (labels)
    os << ",label";
  if (classifier)
    os << ",class,probability";
  for (int64_t j = 0; j < n; ++j)
    os << "," << columnName(p.outputName, p.exampleType, j);
  os << "\n";
  for (int64_t i = 0; i < p.count; ++i) {
    llvm::ArrayRef<double> row = p.row(i);
    os << i;
    if (labels)
      os << "," << unsigned(p.labels[i]);
    if (classifier) {
      ClassScore c = classify(row);
      os << "," << c.label << "," << llvm::format("%.6f", c.probability);
    }
    // Nine significant digits identify a float.
    for (double v : row) {
      if (integers)
        os << "," << int64_t(v);
      else
        os << "," << llvm::format("%.9g", v);
    }
    os << "\n";
  }
}

llvm::Error writePredictions(llvm::StringRef path, const Predictions &p,
                             bool classifier) {
  auto fail = [&](llvm::Error err) {
    return makeError("cannot write " + path + ": " +
                     llvm::toString(std::move(err)));
  };
  if (llvm::sys::path::extension(path) == ".npy") {
    Shape shape = {p.count};
    shape.append(p.exampleType.shape().begin(), p.exampleType.shape().end());
    TensorType all(p.exampleType.element(), shape);
    std::vector<char> bytes(size_t(all.byteSize()));
    for (int64_t i = 0; i < all.numElements(); ++i)
      storeElement(bytes.data(), all.element(), i, p.values[i]);
    if (llvm::Error err =
            writeNpyFile(path, all.element(), all.shape(), bytes.data()))
      return fail(std::move(err));
    return llvm::Error::success();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  printPredictionsCsv(os, p, classifier);
  if (path == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    if (llvm::outs().has_error())
      return makeError("cannot write the predictions to standard output");
    return llvm::Error::success();
  }
  if (llvm::Error err = writeFileAtomically(path, text))
    return fail(std::move(err));
  return llvm::Error::success();
}

} // namespace nnc
