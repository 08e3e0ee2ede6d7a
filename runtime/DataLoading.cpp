//===- DataLoading.cpp - From a data description to a data set ------------===//
#include "runtime/DataLoading.h"
#include "runtime/ArrayDataset.h"
#include "runtime/CsvFile.h"
#include "runtime/IdxFile.h"
#include "runtime/NpyFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <numeric>

namespace nnc {

namespace {

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// A value as a person writes it: 3, 1.5, 1e+300.
std::string number(double v) {
  return llvm::formatv("{0}", llvm::format("%.9g", v)).str();
}

std::string quoted(llvm::StringRef s) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << '"';
  os.write_escaped(s);
  os << '"';
  return out;
}

/// Values per example of a file or array, before conversion.
struct Table {
  std::string what;        ///< the file, or the array and its archive
  std::string description; ///< "float64 (442, 10)", "11 columns"
  int64_t count = 0;
  int64_t width = 0; ///< values per example
  std::vector<double> values;
  /// Where element `e` of example `i` is, for messages: "row 52, column 5".
  std::function<std::string(int64_t i, int64_t e)> locate;
};

/// Converts the values of `table` to the model's input or label, checking
/// each. `role` is "input 'x'" or "label 'y'"; `type` the declared type per
/// example.
llvm::Error convert(const Table &table, llvm::StringRef role,
                    const TensorType &type, std::optional<int64_t> classes,
                    std::vector<float> &values, std::vector<int32_t> &ints) {
  int64_t want = type.numElements();
  if (table.width != want)
    return makeError(llvm::formatv(
        "{0}: {1} values per example ({2}), but the model's {3} takes {4} per "
        "example ({5}[batch{6}{7}])",
        table.what, table.width, table.description, role, want,
        elementTypeName(type.element()), type.rank() ? ", " : "",
        llvm::join(llvm::map_range(type.shape(),
                                   [](int64_t d) { return std::to_string(d); }),
                   ", ")));
  bool integer = type.element() == ElementType::I32;
  (integer ? ints.reserve(table.values.size())
           : values.reserve(table.values.size()));
  for (size_t k = 0; k < table.values.size(); ++k) {
    double v = table.values[k];
    auto where = [&] {
      return table.what + ": " +
             table.locate(int64_t(k) / std::max<int64_t>(table.width, 1),
                          int64_t(k) % std::max<int64_t>(table.width, 1));
    };
    if (!std::isfinite(v))
      return makeError(where() + ": " + number(v) +
                       " is not a finite number (NaN and infinities cannot "
                       "be trained on)");
    if (!integer) {
      if (std::abs(v) > FLT_MAX)
        return makeError(where() + ": " + number(v) + " does not fit in f32");
      values.push_back(float(v));
      continue;
    }
    if (v != std::floor(v))
      return makeError(llvm::formatv("{0}: {1} is not a class index, but the "
                                     "model's {2} is i32; declare it f32 for "
                                     "values",
                                     where(), number(v), role));
    if (v < 0 || (classes && v >= double(*classes)) || v > INT32_MAX)
      return makeError(
          llvm::formatv("{0}: the class {1} is not {2}", where(), number(v),
                        classes ? llvm::formatv("below the model's {0} "
                                                "classes",
                                                *classes)
                                      .str()
                                : std::string("a non-negative i32")));
    ints.push_back(int32_t(v));
  }
  return llvm::Error::success();
}

/// Builds one split from its feature and target tables.
llvm::Expected<ArraySplit> buildSplit(const Table &features,
                                      const Table *targets,
                                      const DataRequest &request) {
  if (targets && targets->count != features.count)
    return makeError(llvm::formatv("{0} has {1} examples but {2} has {3}",
                                   features.what, features.count, targets->what,
                                   targets->count));
  ArraySplit s;
  s.count = features.count;
  std::vector<int32_t> unused;
  if (llvm::Error e =
          convert(features, "input '" + request.inputName + "'",
                  TensorType(ElementType::F32, request.featureShape),
                  std::nullopt, s.features, unused))
    return e;
  if (targets && request.target)
    if (llvm::Error e =
            convert(*targets, "label '" + request.labelName + "'",
                    *request.target, request.numClasses, s.values, s.classes))
      return e;
  return s;
}

//===----------------------------------------------------------------------===//
// IDX
//===----------------------------------------------------------------------===//

Table tableOf(const IdxArray &a, const std::string &path, bool scaleBytes) {
  Table t;
  t.what = path;
  t.count = a.dims[0];
  t.width = a.numElements() / std::max<int64_t>(t.count, 1);
  std::string dims;
  for (size_t i = 0; i < a.dims.size(); ++i)
    dims += (i ? "x" : "") + std::to_string(a.dims[i]);
  t.description = idxTypeName(a.type).str() + " IDX " + dims;
  t.values.resize(a.numElements());
  for (int64_t i = 0; i < a.numElements(); ++i)
    t.values[i] =
        scaleBytes ? double(float(a.element(i)) / 255.0f) : a.element(i);
  int64_t width = t.width;
  t.locate = [width](int64_t i, int64_t e) {
    return width == 1 ? llvm::formatv("example {0}", i).str()
                      : llvm::formatv("example {0}, element {1}", i, e).str();
  };
  return t;
}

/// The path of `file` in `dir`, or with `.gz` (see Dataset.cpp).
std::string idxPath(llvm::StringRef dir, llvm::StringRef file) {
  for (llvm::StringRef suffix : {"", ".gz"}) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file + suffix);
    if (llvm::sys::fs::exists(path))
      return path.str().str();
  }
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  return path.str().str();
}

llvm::Expected<std::unique_ptr<Dataset>>
loadIdx(const DataSource &source, const DataRequest &request,
        llvm::StringRef defaultDataRoot) {
  std::string name = source.kind == DataSource::Kind::MNIST ? "mnist"
                     : source.kind == DataSource::Kind::FashionMNIST
                         ? "fashion_mnist"
                         : source.path;
  DatasetSource where = resolveDataset(name, defaultDataRoot);
  if (source.validationSplit > 0)
    return makeError("data set '" + name +
                     "' has a test split (its t10k "
                     "files); validation_split is for data without one");
  // The byte images and byte labels of the MNIST family, for a classifier,
  // go to ImageDataset, which converts each batch as it is written.
  bool bytes = true;
  for (const char *file :
       {kTrainImagesFile, kTrainLabelsFile, kTestImagesFile, kTestLabelsFile}) {
    std::string path = idxPath(where.directory, file);
    // Peek at the type byte: plain files only; gzip ones are the
    // MNIST family's (Fashion-MNIST), bytes.
    auto f = llvm::MemoryBuffer::getFileSlice(path, 4, 0);
    if (f && (*f)->getBufferSize() == 4 &&
        uint8_t((*f)->getBuffer()[2]) != 0x08 &&
        uint8_t((*f)->getBuffer()[0]) == 0)
      bytes = false;
  }
  bool classifier = request.target &&
                    request.target->element() == ElementType::I32 &&
                    request.target->numElements() == 1;
  if (bytes && (classifier || !request.target)) {
    unsigned classes =
        request.numClasses
            ? unsigned(std::min<int64_t>(*request.numClasses, 256))
            : 256;
    auto images = loadDataset(where, classes);
    if (!images)
      return images.takeError();
    return std::make_unique<ImageDataset>(std::move(*images));
  }
  ArraySplit splits[2];
  const char *files[2][2] = {{kTrainImagesFile, kTrainLabelsFile},
                             {kTestImagesFile, kTestLabelsFile}};
  for (int s = 0; s < 2; ++s) {
    std::string imagesPath = idxPath(where.directory, files[s][0]);
    std::string labelsPath = idxPath(where.directory, files[s][1]);
    auto images = readIdxFile(imagesPath);
    if (!images)
      return images.takeError();
    auto labels = readIdxFile(labelsPath);
    if (!labels)
      return labels.takeError();
    Table x = tableOf(*images, imagesPath, images->type == 0x08);
    Table y = tableOf(*labels, labelsPath, false);
    auto split = buildSplit(x, &y, request);
    if (!split)
      return split.takeError();
    splits[s] = std::move(*split);
  }
  auto ds = ArrayDataset::create(
      name, request.featureShape,
      request.target ? *request.target : TensorType(ElementType::F32, {0}),
      std::move(splits[0]), std::move(splits[1]));
  if (!ds)
    return ds.takeError();
  return std::make_unique<ArrayDataset>(std::move(*ds));
}

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

llvm::Expected<CsvTable> readTable(llvm::StringRef path,
                                   const DataSource &source) {
  CsvOptions options;
  options.delimiter = source.delimiter;
  options.skipRows = source.skipRows;
  options.header = source.header;
  return readCsvFile(path, options);
}

/// The columns of `table` the source names as targets.
llvm::Expected<std::vector<int64_t>> targetColumns(const CsvTable &table,
                                                   const std::string &path,
                                                   const DataSource &source) {
  std::vector<int64_t> columns;
  if (source.targetColumns.empty())
    return std::vector<int64_t>{table.columns - 1};
  for (const auto &spec : source.targetColumns) {
    int64_t c = 0;
    if (auto *index = std::get_if<int64_t>(&spec)) {
      c = *index < 0 ? table.columns + *index : *index;
      if (c < 0 || c >= table.columns)
        return makeError(llvm::formatv("{0}: target column {1} is out of "
                                       "range: the table has {2} columns",
                                       path, *index, table.columns));
    } else {
      const std::string &name = std::get<std::string>(spec);
      auto found = table.findColumn(name);
      if (!found)
        return makeError(
            path + ": no column named " + quoted(name) +
            (table.columnNames.empty()
                 ? std::string(" (the table has no header row)")
                 : " (the header names " +
                       llvm::join(llvm::map_range(table.columnNames, quoted),
                                  ", ") +
                       ")"));
      c = *found;
    }
    if (llvm::is_contained(columns, c))
      return makeError(llvm::formatv("{0}: target {1} is named twice", path,
                                     table.describeColumn(c)));
    columns.push_back(c);
  }
  return columns;
}

/// The columns `columns` of `table` as a Table.
Table columnsOf(const CsvTable &table, const std::string &path,
                std::vector<int64_t> columns) {
  Table t;
  t.what = path;
  t.count = table.rows;
  t.width = int64_t(columns.size());
  t.description = std::to_string(columns.size()) +
                  (columns.size() == 1 ? " column" : " columns");
  if (int64_t(columns.size()) != table.columns) {
    std::vector<std::string> names;
    for (int64_t c : columns)
      names.push_back(std::to_string(c + 1));
    t.description += " (" + llvm::join(names, ", ") + " of " +
                     std::to_string(table.columns) + ")";
  }
  t.values.reserve(table.rows * columns.size());
  for (int64_t r = 0; r < table.rows; ++r)
    for (int64_t c : columns)
      t.values.push_back(table.at(r, c));
  t.locate = [table = &table, columns](int64_t i, int64_t e) {
    return "row " + std::to_string(table->fileRows[i]) + ", " +
           table->describeColumn(columns[e]);
  };
  return t;
}

/// A file's features and targets, and the tables they point into.
struct CsvSplit {
  std::vector<CsvTable> tables;
  Table features;
  std::optional<Table> targets;
};

llvm::Expected<CsvSplit> readCsvSplit(const std::string &combined,
                                      const std::string &x,
                                      const std::string &y,
                                      const DataSource &source,
                                      const DataRequest &request) {
  CsvSplit s;
  s.tables.reserve(2); // Table::locate points into them
  if (!combined.empty()) {
    auto table = readTable(combined, source);
    if (!table)
      return table.takeError();
    s.tables.push_back(std::move(*table));
    const CsvTable &t = s.tables[0];
    std::vector<int64_t> targets;
    if (request.target || !source.targetColumns.empty()) {
      auto found = targetColumns(t, combined, source);
      if (!found)
        return found.takeError();
      targets = std::move(*found);
    }
    std::vector<int64_t> features;
    for (int64_t c = 0; c < t.columns; ++c)
      if (!llvm::is_contained(targets, c))
        features.push_back(c);
    if (features.empty())
      return makeError(combined + ": no feature columns: every column is a "
                                  "target");
    s.features = columnsOf(t, combined, features);
    if (request.target)
      s.targets = columnsOf(t, combined, targets);
    return s;
  }
  for (const std::string *path : {&x, &y}) {
    if (path == &y && (!request.target || y.empty()))
      break;
    auto table = readTable(*path, source);
    if (!table)
      return table.takeError();
    s.tables.push_back(std::move(*table));
    const CsvTable &t = s.tables.back();
    std::vector<int64_t> all(t.columns);
    std::iota(all.begin(), all.end(), 0);
    (path == &x ? s.features : s.targets.emplace()) = columnsOf(t, *path, all);
  }
  if (request.target && !s.targets)
    return makeError("csv data for a model with a label needs its targets: "
                     "y=\"targets.csv\" next to x=\"" +
                     x + "\"");
  return s;
}

//===----------------------------------------------------------------------===//
// NumPy
//===----------------------------------------------------------------------===//

Table tableOf(const NpyArray &a, const std::string &what) {
  Table t;
  t.what = what;
  t.count = a.shape.empty() ? 1 : a.shape[0];
  t.width = t.count ? a.numElements() / t.count : 0;
  t.description = a.dtypeName() + " " + a.shapeString();
  t.values.resize(a.numElements());
  for (int64_t i = 0; i < a.numElements(); ++i)
    t.values[i] = a.element(i);
  std::vector<int64_t> shape = a.shape;
  t.locate = [shape](int64_t i, int64_t e) {
    // The element's full index, as NumPy writes it: [52, 3].
    std::string s = "element [" + std::to_string(i);
    std::vector<int64_t> rest;
    for (size_t d = shape.size(); d-- > 1;) {
      rest.push_back(e % shape[d]);
      e /= shape[d];
    }
    for (size_t k = rest.size(); k-- > 0;)
      s += ", " + std::to_string(rest[k]);
    return s + "]";
  };
  return t;
}

llvm::Error checkExamplesAxis(const NpyArray &a, const std::string &what) {
  if (a.shape.empty())
    return makeError(what + ": a scalar (shape ()); the first axis of an "
                            "array must be its examples");
  if (a.shape[0] == 0)
    return makeError(what + ": no examples (shape " + a.shapeString() + ")");
  return llvm::Error::success();
}

/// The named array of an archive, or an error listing those it has.
llvm::Expected<const NpyArray *> member(const NpzArchive &archive,
                                        const std::string &path,
                                        const std::string &name) {
  for (const auto &[n, a] : archive)
    if (n == name)
      return &a;
  std::vector<std::string> names;
  for (const auto &entry : archive)
    names.push_back(quoted(entry.first));
  return makeError(
      path + ": no array named " + quoted(name) + " (the archive holds " +
      (names.empty() ? std::string("none") : llvm::join(names, ", ")) + ")");
}

//===----------------------------------------------------------------------===//
// Splits
//===----------------------------------------------------------------------===//

/// Builds the data set from a training split and an optional test split;
/// without one, validation_split holds one out.
llvm::Expected<std::unique_ptr<Dataset>>
finish(const DataSource &source, const DataRequest &request, ArraySplit train,
       std::optional<ArraySplit> test) {
  TensorType target =
      request.target ? *request.target : TensorType(ElementType::F32, {0});
  int64_t features = 1;
  for (int64_t d : request.featureShape)
    features *= d;
  if (test && source.validationSplit > 0)
    return makeError(describeSource(source) +
                     " names a test split; validation_split is for data "
                     "without one");
  if (!test) {
    if (!(source.validationSplit > 0))
      return makeError(describeSource(source) +
                       " has no test split: name one (test=, or test_x= "
                       "and test_y=) or hold one out of the training data "
                       "with 'validation_split 0.2' in the train block");
    auto parts = splitForValidation(train, features, target.numElements(),
                                    source.validationSplit, source.splitSeed);
    if (!parts)
      return parts.takeError();
    train = std::move(parts->first);
    test = std::move(parts->second);
  }
  auto ds = ArrayDataset::create(describeSource(source), request.featureShape,
                                 target, std::move(train), std::move(*test));
  if (!ds)
    return ds.takeError();
  return std::make_unique<ArrayDataset>(std::move(*ds));
}

llvm::Expected<std::unique_ptr<Dataset>> loadCsv(const DataSource &source,
                                                 const DataRequest &request) {
  if (!haveCsvSupport())
    return makeError("cannot read " + describeSource(source) +
                     ": nnc was built without libcsv; install libcsv-dev "
                     "(scripts/bootstrap.sh) and rebuild");
  auto train = readCsvSplit(source.path, source.x, source.y, source, request);
  if (!train)
    return train.takeError();
  auto trainSplit = buildSplit(
      train->features, train->targets ? &*train->targets : nullptr, request);
  if (!trainSplit)
    return trainSplit.takeError();
  std::optional<ArraySplit> testSplit;
  if (!source.test.empty() || !source.testX.empty()) {
    auto test =
        readCsvSplit(source.test, source.testX, source.testY, source, request);
    if (!test)
      return test.takeError();
    auto split = buildSplit(test->features,
                            test->targets ? &*test->targets : nullptr, request);
    if (!split)
      return split.takeError();
    testSplit = std::move(*split);
  }
  return finish(source, request, std::move(*trainSplit), std::move(testSplit));
}

llvm::Expected<std::unique_ptr<Dataset>> loadNumpy(const DataSource &source,
                                                   const DataRequest &request) {
  std::optional<NpzArchive> archive;
  if (source.kind == DataSource::Kind::NPZ) {
    auto read = readNpzFile(source.path);
    if (!read)
      return read.takeError();
    archive = std::move(*read);
  }
  // Reads the array `name` (a file, or a member of the archive).
  auto array = [&](const std::string &name, std::string &what,
                   NpyArray &out) -> llvm::Error {
    if (archive) {
      auto m = member(*archive, source.path, name);
      if (!m)
        return m.takeError();
      out = **m;
      what = source.path + "[" + quoted(name) + "]";
    } else {
      auto read = readNpyFile(name);
      if (!read)
        return read.takeError();
      out = std::move(*read);
      what = name;
    }
    return checkExamplesAxis(out, what);
  };
  auto split = [&](const std::string &x,
                   const std::string &y) -> llvm::Expected<ArraySplit> {
    NpyArray xs, ys;
    std::string xWhat, yWhat;
    if (llvm::Error e = array(x, xWhat, xs))
      return e;
    Table features = tableOf(xs, xWhat);
    std::optional<Table> targets;
    if (request.target) {
      if (y.empty())
        return makeError(describeSource(source) +
                         ": the model has a label; name its array with y=");
      if (llvm::Error e = array(y, yWhat, ys))
        return e;
      targets = tableOf(ys, yWhat);
    }
    return buildSplit(features, targets ? &*targets : nullptr, request);
  };
  std::string x = source.x, y = source.y;
  if (archive) {
    if (x.empty())
      x = "x";
    if (y.empty())
      y = "y";
  }
  auto train = split(x, y);
  if (!train)
    return train.takeError();
  std::optional<ArraySplit> test;
  if (!source.testX.empty()) {
    auto t = split(source.testX, source.testY);
    if (!t)
      return t.takeError();
    test = std::move(*t);
  }
  return finish(source, request, std::move(*train), std::move(test));
}

} // namespace

std::string describeSource(const DataSource &source) {
  std::vector<std::string> args;
  auto add = [&](llvm::StringRef key, const std::string &value) {
    if (!value.empty())
      args.push_back((key.empty() ? "" : key + "=").str() + quoted(value));
  };
  switch (source.kind) {
  case DataSource::Kind::MNIST:
    return "mnist";
  case DataSource::Kind::FashionMNIST:
    return "fashion_mnist";
  case DataSource::Kind::IDX:
    return "idx(" + quoted(source.path) + ")";
  case DataSource::Kind::CSV:
  case DataSource::Kind::NPY:
  case DataSource::Kind::NPZ:
    break;
  }
  add("", source.path);
  add("x", source.x);
  add("y", source.y);
  add("test", source.test);
  add("test_x", source.testX);
  add("test_y", source.testY);
  const char *callee = source.kind == DataSource::Kind::CSV   ? "csv"
                       : source.kind == DataSource::Kind::NPY ? "npy"
                                                              : "npz";
  return std::string(callee) + "(" + llvm::join(args, ", ") + ")";
}

namespace {

/// Where the data files live: $NNC_DATA_DIR, else the default root.
std::string dataRoot(llvm::StringRef defaultDataRoot) {
  const char *env = std::getenv("NNC_DATA_DIR");
  return env && *env ? std::string(env) : defaultDataRoot.str();
}

/// A relative file name as given when it exists (relative to the working
/// directory), else under the data root when it exists there. A file in
/// neither place is an error naming both.
llvm::Error resolvePath(std::string &path, llvm::StringRef root) {
  if (path.empty() || llvm::sys::path::is_absolute(path) ||
      llvm::sys::fs::exists(path))
    return llvm::Error::success();
  llvm::SmallString<256> underRoot(root);
  llvm::sys::path::append(underRoot, path);
  if (llvm::sys::fs::exists(underRoot)) {
    path = underRoot.str().str();
    return llvm::Error::success();
  }
  std::string hint;
  if (llvm::StringRef(path).starts_with("sklearn/"))
    hint = "; scripts/fetch-data.sh sklearn fetches scikit-learn's CSV files";
  return makeError(path + ": no such file, here or in the data directory (" +
                   underRoot.str() + ")" + hint);
}

} // namespace

llvm::Expected<std::unique_ptr<Dataset>>
loadData(const DataSource &given, const DataRequest &request,
         llvm::StringRef defaultDataRoot) {
  DataSource source = given;
  std::string root = dataRoot(defaultDataRoot);
  bool archive = source.kind == DataSource::Kind::NPZ;
  for (std::string *path : {&source.path, &source.test, &source.x, &source.y,
                            &source.testX, &source.testY}) {
    // An archive's x= and y= name arrays, not files.
    if (archive && path != &source.path)
      continue;
    if (source.kind == DataSource::Kind::IDX ||
        source.kind == DataSource::Kind::MNIST ||
        source.kind == DataSource::Kind::FashionMNIST)
      break;
    if (llvm::Error e = resolvePath(*path, root))
      return e;
  }
  switch (source.kind) {
  case DataSource::Kind::MNIST:
  case DataSource::Kind::FashionMNIST:
  case DataSource::Kind::IDX:
    return loadIdx(source, request, defaultDataRoot);
  case DataSource::Kind::CSV:
    return loadCsv(source, request);
  case DataSource::Kind::NPY:
  case DataSource::Kind::NPZ:
    return loadNumpy(source, request);
  }
  return makeError("unknown data source");
}

} // namespace nnc
