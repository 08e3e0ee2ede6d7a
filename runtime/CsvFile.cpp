//===- CsvFile.cpp - Reading numeric CSV tables ---------------------------===//
#include "runtime/CsvFile.h"
#include "runtime/Gzip.h"
#include "runtime/InputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#ifdef NNC_HAVE_LIBCSV
#include <csv.h>
#endif

#include <charconv>
#include <cmath>

namespace nnc {

namespace {

llvm::Error fileError(llvm::StringRef name, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + msg);
}

/// A cell as the user wrote it, quoted and shortened for messages.
std::string quoteCell(llvm::StringRef cell) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'";
  os.write_escaped(cell.take_front(40));
  if (cell.size() > 40)
    os << "...";
  os << "'";
  return s;
}

/// The value of a numeric cell, or why it is not one.
std::optional<double> parseNumber(llvm::StringRef cell, std::string &why) {
  llvm::StringRef text = cell.trim();
  if (text.empty()) {
    why = "is empty (nnc reads tables without missing values)";
    return std::nullopt;
  }
  if (text.starts_with("+"))
    text = text.drop_front();
  double value = 0;
  auto [end, ec] = std::from_chars(text.begin(), text.end(), value);
  if (ec == std::errc::result_out_of_range) {
    why = quoteCell(cell) + " is out of the range of a double";
    return std::nullopt;
  }
  if (ec != std::errc() || end != text.end()) {
    why = quoteCell(cell) + " is not a number";
    return std::nullopt;
  }
  if (!std::isfinite(value)) {
    why = quoteCell(cell) +
          " is not a finite number (NaN and infinities cannot be trained on)";
    return std::nullopt;
  }
  return value;
}

/// Whether a cell is written as a number, finite or not: a header row is
/// one with a cell that is not (a table of data with a NaN in its first row
/// is reported as such, not taken for a header).
bool looksLikeNumber(llvm::StringRef cell) {
  llvm::StringRef text = cell.trim();
  text.consume_front("+");
  double value = 0;
  auto [end, ec] = std::from_chars(text.begin(), text.end(), value);
  return !text.empty() && end == text.end() &&
         (ec == std::errc() || ec == std::errc::result_out_of_range);
}

/// The delimiter of a file whose first line (of those read) is `line`.
char detectDelimiter(llvm::StringRef line) {
  char best = ' ';
  size_t most = 0;
  for (char c : {',', ';', '\t'}) {
    size_t n = line.count(c);
    if (n > most) {
      best = c;
      most = n;
    }
  }
  return best;
}

/// The rows of cells of a CSV text, with the file row each ends on.
struct Cells {
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> fileRows;
};

#ifdef NNC_HAVE_LIBCSV
struct Splitter {
  Cells cells;
  std::vector<std::string> row;
  bool whitespace = false;
  int64_t line = 0;

  static void onCell(void *text, size_t size, void *self) {
    auto &s = *static_cast<Splitter *>(self);
    llvm::StringRef cell(text ? static_cast<const char *>(text) : "", size);
    // With runs of spaces as the delimiter, the empty cells between them
    // are not cells.
    if (s.whitespace && cell.empty())
      return;
    s.row.push_back(cell.str());
  }
  static void onRow(int, void *self) {
    auto &s = *static_cast<Splitter *>(self);
    if (s.whitespace && s.row.empty())
      return;
    s.cells.rows.push_back(std::move(s.row));
    s.cells.fileRows.push_back(s.line);
    s.row.clear();
  }
};

/// Only tabs are trimmed around unquoted cells when spaces delimit them.
int isTab(unsigned char c) { return c == '\t'; }
#endif

/// Splits `text` into rows of cells, line by line so that each row knows
/// the line it ends on. Lines before `skip` are not read.
llvm::Expected<Cells> splitCells(llvm::StringRef text, llvm::StringRef name,
                                 const CsvOptions &options) {
#ifdef NNC_HAVE_LIBCSV
  // Skip the leading lines, then detect the delimiter from the next one
  // that is not blank.
  int64_t line = 0;
  llvm::StringRef rest = text;
  while (line < options.skipRows && !rest.empty()) {
    rest = rest.split('\n').second;
    ++line;
  }
  char delimiter = ',';
  if (options.delimiter) {
    delimiter = *options.delimiter;
  } else {
    llvm::StringRef probe = rest;
    while (!probe.empty()) {
      auto [first, next] = probe.split('\n');
      if (!first.trim().empty()) {
        delimiter = detectDelimiter(first);
        break;
      }
      probe = next;
    }
  }

  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
    return fileError(name, "cannot start the CSV parser");
  Splitter s;
  s.whitespace = delimiter == ' ';
  csv_set_delim(&parser, static_cast<unsigned char>(delimiter));
  if (s.whitespace)
    csv_set_space_func(&parser, isTab);
  auto fail = [&](const llvm::Twine &msg) {
    csv_free(&parser);
    return fileError(name, msg);
  };
  while (!rest.empty()) {
    auto [current, next] = rest.split('\n');
    bool lastLine = next.data() == nullptr || next.empty();
    ++line;
    s.line = line;
    // The newline goes to the parser too: it ends rows, and a quoted cell
    // may hold it.
    size_t length = current.size() + (rest.size() > current.size() ? 1 : 0);
    std::string tabsAsSpaces;
    llvm::StringRef chunk(rest.data(), length);
    if (s.whitespace && chunk.contains('\t')) {
      tabsAsSpaces = chunk.str();
      std::replace(tabsAsSpaces.begin(), tabsAsSpaces.end(), '\t', ' ');
      chunk = tabsAsSpaces;
    }
    if (csv_parse(&parser, chunk.data(), chunk.size(), Splitter::onCell,
                  Splitter::onRow, &s) != chunk.size())
      return fail(llvm::formatv("row {0}: malformed CSV ({1}), as where a "
                                "quote appears inside an unquoted cell or "
                                "after a closing quote",
                                line, csv_strerror(csv_error(&parser))));
    rest = lastLine ? llvm::StringRef() : next;
  }
  s.line = line;
  if (csv_fini(&parser, Splitter::onCell, Splitter::onRow, &s) != 0)
    return fail(llvm::formatv("row {0}: a quoted cell is not closed before "
                              "the end of the file",
                              line));
  csv_free(&parser);
  return std::move(s.cells);
#else
  (void)text;
  (void)options;
  return fileError(name, "nnc was built without libcsv, so it cannot read "
                         "CSV files: install libcsv-dev (scripts/"
                         "bootstrap.sh) and rebuild");
#endif
}

} // namespace

bool haveCsvSupport() {
#ifdef NNC_HAVE_LIBCSV
  return true;
#else
  return false;
#endif
}

std::string CsvTable::describeColumn(int64_t column) const {
  std::string s = "column " + std::to_string(column + 1);
  if (column < int64_t(columnNames.size()) && !columnNames[column].empty())
    s += " (" + quoteCell(columnNames[column]) + ")";
  return s;
}

std::optional<int64_t> CsvTable::findColumn(llvm::StringRef name) const {
  for (size_t i = 0; i < columnNames.size(); ++i)
    if (llvm::StringRef(columnNames[i]).trim() == name)
      return int64_t(i);
  return std::nullopt;
}

llvm::Expected<CsvTable> parseCsv(llvm::ArrayRef<uint8_t> bytes,
                                  llvm::StringRef name,
                                  const CsvOptions &options) {
  std::vector<uint8_t> inflated;
  if (isGzip(bytes)) {
    auto data = decompressGzip(bytes, name, kMaxCsvBytes);
    if (!data)
      return data.takeError();
    inflated = std::move(*data);
    bytes = inflated;
  } else if (bytes.size() > kMaxCsvBytes) {
    return fileError(name, llvm::formatv("larger than the {0} bytes nnc "
                                         "reads from a CSV file",
                                         kMaxCsvBytes));
  }
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size());
  if (text.contains('\0'))
    return fileError(name, "not a CSV file: it contains a NUL byte, as "
                           "binary files do");
  // A UTF-8 byte order mark is not part of the first cell.
  if (options.skipRows == 0)
    text.consume_front("\xEF\xBB\xBF");
  auto cells = splitCells(text, name, options);
  if (!cells)
    return cells.takeError();
  if (cells->rows.empty())
    return fileError(name, options.skipRows
                               ? llvm::formatv("no rows after the {0} "
                                               "skipped",
                                               options.skipRows)
                                     .str()
                               : std::string("empty: no rows"));

  CsvTable table;
  size_t first = 0;
  const std::vector<std::string> &top = cells->rows[0];
  bool header = options.header ? *options.header
                               : !llvm::all_of(top, [](const std::string &c) {
                                   return looksLikeNumber(c);
                                 });
  if (header) {
    for (const std::string &c : top)
      table.columnNames.push_back(llvm::StringRef(c).trim().str());
    first = 1;
  }
  if (first >= cells->rows.size())
    return fileError(name, "no data rows after the header");
  table.columns = int64_t(cells->rows[first].size());
  if (header && table.columns != int64_t(top.size()))
    return fileError(name, llvm::formatv("row {0} has {1} cells but the "
                                         "header (row {2}) names {3} "
                                         "columns",
                                         cells->fileRows[first], table.columns,
                                         cells->fileRows[0], top.size()));
  table.rows = int64_t(cells->rows.size() - first);
  table.values.reserve(table.rows * table.columns);
  for (size_t r = first; r < cells->rows.size(); ++r) {
    const std::vector<std::string> &row = cells->rows[r];
    int64_t fileRow = cells->fileRows[r];
    if (int64_t(row.size()) != table.columns)
      return fileError(name,
                       llvm::formatv("row {0} has {1} cells, row {2} "
                                     "has {3}: every row needs the "
                                     "same number",
                                     fileRow, row.size(),
                                     cells->fileRows[first], table.columns));
    for (int64_t c = 0; c < table.columns; ++c) {
      std::string why;
      auto v = parseNumber(row[c], why);
      if (!v)
        return fileError(name,
                         llvm::formatv("row {0}, {1}: the cell {2}", fileRow,
                                       table.describeColumn(c), why));
      table.values.push_back(*v);
    }
    table.fileRows.push_back(fileRow);
  }
  return table;
}

llvm::Expected<CsvTable> readCsvFile(llvm::StringRef path,
                                     const CsvOptions &options) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return fileError(path,
                     "cannot read: " + llvm::toString(buffer.takeError()));
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
      (*buffer)->getBufferSize());
  return parseCsv(bytes, path, options);
}

} // namespace nnc
