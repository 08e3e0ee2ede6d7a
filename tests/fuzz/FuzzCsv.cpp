//===- FuzzCsv.cpp - libFuzzer target: CSV tables -------------------------===//
//
// Feeds arbitrary bytes, plain or gzip-compressed, to the CSV reader, with
// options taken from the first byte (delimiter, skipped lines, header). A
// malformed table must give an error, never a crash or undefined
// behaviour; an accepted table must be rectangular, hold only finite
// numbers and know the file row of each of its rows.
//
//===----------------------------------------------------------------------===//
#include "runtime/CsvFile.h"
#include "tests/fuzz/FuzzSupport.h"

#include <cmath>
#include <cstdint>

using namespace nnc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  CsvOptions options;
  if (size > 0) {
    uint8_t mode = data[0];
    const char delimiters[] = {0, ',', ';', '\t', ' '};
    if (char d = delimiters[mode % 5])
      options.delimiter = d;
    options.skipRows = (mode >> 3) % 3;
    if (mode & 0x40)
      options.header = (mode & 0x80) != 0;
    ++data;
    --size;
  }
  auto table = parseCsv(llvm::ArrayRef(data, size), "fuzz.csv", options);
  if (!table) {
    llvm::consumeError(table.takeError());
    return 0;
  }
  if (table->rows < 1 || table->columns < 1 ||
      int64_t(table->values.size()) != table->rows * table->columns ||
      int64_t(table->fileRows.size()) != table->rows)
    fuzz::finding("accepted a table that is not rectangular",
                  std::to_string(table->values.size()) + " values in " +
                      std::to_string(table->rows) + " rows of " +
                      std::to_string(table->columns));
  if (!table->columnNames.empty() &&
      int64_t(table->columnNames.size()) != table->columns)
    fuzz::finding("accepted a header of another width", "");
  for (double v : table->values)
    if (!std::isfinite(v))
      fuzz::finding("accepted a cell that is not finite", std::to_string(v));
  for (size_t r = 1; r < table->fileRows.size(); ++r)
    if (table->fileRows[r] <= table->fileRows[r - 1])
      fuzz::finding("rows out of order", "");
  return 0;
}
