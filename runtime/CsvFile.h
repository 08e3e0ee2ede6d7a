//===- CsvFile.h - Reading numeric CSV tables -------------------*- C++ -*-===//
//
// Tabular data sets come as CSV: rows of numbers, perhaps a header row of
// column names, perhaps gzip-compressed. The cells are split by libcsv (a
// small, well-kept C parser that handles quoting the way RFC 4180 does); this
// file turns them into a table of doubles and checks it. Every fault names
// the file, the row (counted from 1 over every line of the file, so it is the
// line number unless a quoted cell spans lines), the column (by number and,
// with a header, by name) and what is wrong: a cell that is empty, not a
// number, NaN or infinite; a row with another number of cells than the
// first; a file with no data rows; a quote that never closes.
//
// Delimiters: ',' ';' or tab, whichever the first row holds most of, or
// runs of spaces when it holds none (the layout NumPy's loadtxt reads and
// scikit-learn's diabetes files have); or the one given.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_RUNTIME_CSVFILE_H
#define NNC_RUNTIME_CSVFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc {

struct CsvOptions {
  /// The cell delimiter; nullopt to detect it from the first row read.
  /// ' ' means runs of spaces and tabs.
  std::optional<char> delimiter;
  /// Lines skipped at the start, before the header (scikit-learn's CSV
  /// files start with a line of their own: sizes and class names).
  int64_t skipRows = 0;
  /// Whether the first row after the skipped ones names the columns;
  /// nullopt: it does when one of its cells is not a number.
  std::optional<bool> header;
};

/// Whether nnc was built with libcsv; without it, reading a CSV file is an
/// error saying how to install it.
bool haveCsvSupport();

struct CsvTable {
  std::vector<std::string> columnNames; ///< empty without a header
  int64_t rows = 0;
  int64_t columns = 0;
  std::vector<double> values; ///< row-major, rows * columns
  /// The file's row number (from 1) of each data row, for messages.
  std::vector<int64_t> fileRows;

  double at(int64_t row, int64_t column) const {
    return values[row * columns + column];
  }
  /// "column 3" or "column 3 ('age')": columns counted from 1.
  std::string describeColumn(int64_t column) const;
  /// The index of the column named `name`, if any.
  std::optional<int64_t> findColumn(llvm::StringRef name) const;
};

/// The most decompressed or plain CSV data nnc reads.
constexpr uint64_t kMaxCsvBytes = uint64_t(4) << 30;

/// Parses CSV `bytes` (plain or gzip) that came from `name`, which only
/// labels the errors.
llvm::Expected<CsvTable> parseCsv(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name,
                                  const CsvOptions &options = {});

/// Reads the CSV file at `path`. Errors start with `path: `.
llvm::Expected<CsvTable> readCsvFile(llvm::StringRef path,
                                     const CsvOptions &options = {});

} // namespace nnc

#endif // NNC_RUNTIME_CSVFILE_H
