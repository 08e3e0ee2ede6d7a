// CSV tables: numbers, headers, delimiters, quoting and gzip read back;
// every malformed table is an error naming the file, the row and the
// column, and what is wrong with the cell.
#include "runtime/CsvFile.h"

#include "TestFiles.h"

#include <gtest/gtest.h>

using namespace nnc;
using namespace nnc::test;

namespace {

class CsvFile : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveCsvSupport())
      GTEST_SKIP() << "nnc was built without libcsv (scripts/bootstrap.sh "
                      "installs libcsv-dev)";
  }

  llvm::Expected<CsvTable> parse(llvm::StringRef text,
                                 const CsvOptions &options = {}) {
    return parseCsv(
        llvm::ArrayRef(reinterpret_cast<const uint8_t *>(text.data()),
                       text.size()),
        "t.csv", options);
  }

  /// The error of parsing `text`, or "ok".
  std::string errorOf(llvm::StringRef text, const CsvOptions &options = {}) {
    auto table = parse(text, options);
    if (table)
      return "ok";
    return llvm::toString(table.takeError());
  }
};

TEST_F(CsvFile, NumbersInRowsWithADetectedHeader) {
  auto t = parse("age,bmi,\"y\"\n59,32.1,151\n48,-2.5e1,75\r\n");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->rows, 2);
  EXPECT_EQ(t->columns, 3);
  EXPECT_EQ(t->columnNames, (std::vector<std::string>{"age", "bmi", "y"}));
  EXPECT_EQ(t->values, (std::vector<double>{59, 32.1, 151, 48, -25, 75}));
  EXPECT_EQ(t->fileRows, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t->findColumn("y"), 2);
  EXPECT_EQ(t->describeColumn(1), "column 2 ('bmi')");
}

TEST_F(CsvFile, WithoutHeaderSkippedLinesAndDelimiters) {
  // scikit-learn's layout: a first line of sizes and class names.
  CsvOptions skip;
  skip.skipRows = 1;
  auto iris =
      parse("3,2,setosa,versicolor\n5.1,3.5,0\n4.9,3.0,1\n7,3.2,2\n", skip);
  ASSERT_TRUE(bool(iris)) << llvm::toString(iris.takeError());
  EXPECT_TRUE(iris->columnNames.empty());
  EXPECT_EQ(iris->rows, 3);
  EXPECT_EQ(iris->at(2, 0), 7);
  EXPECT_EQ(iris->fileRows[0], 2);
  // Runs of spaces (the diabetes files), semicolons, tabs: detected.
  for (llvm::StringRef text :
       {"1 2  3\n 4 5 6 \n", "1;2;3\n4;5;6\n", "1\t2\t3\n4\t5\t6\n"}) {
    auto t = parse(text);
    ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
    EXPECT_EQ(t->values, (std::vector<double>{1, 2, 3, 4, 5, 6})) << text.str();
  }
  // A header of numbers is a header when told so.
  CsvOptions header;
  header.header = true;
  auto t = parse("1,2\n3,4\n", header);
  ASSERT_TRUE(bool(t));
  EXPECT_EQ(t->rows, 1);
  EXPECT_EQ(t->columnNames, (std::vector<std::string>{"1", "2"}));
  // A given delimiter is the only one.
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  semicolon.header = false;
  EXPECT_EQ(errorOf("1,5;2\n", semicolon),
            "t.csv: row 1, column 1: the cell '1,5' is not a number");
}

TEST_F(CsvFile, QuotedCellsAndBlankLines) {
  auto t = parse("\"a, b\",c\n\"1\",\" 2 \"\n\n3,4\n");
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->columnNames[0], "a, b");
  EXPECT_EQ(t->values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(t->fileRows, (std::vector<int64_t>{2, 4}));
}

TEST_F(CsvFile, GzipIsRecognisedByItsMagicBytes) {
  std::string text = "x,y\n1,2\n3,4\n";
  Bytes gz = gzipBytes(llvm::ArrayRef(
      reinterpret_cast<const uint8_t *>(text.data()), text.size()));
  ScratchDir dir;
  writeFile(dir.path("t.csv.gz"), gz);
  auto t = readCsvFile(dir.path("t.csv.gz"));
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(t->values, (std::vector<double>{1, 2, 3, 4}));
  gz.resize(gz.size() / 2);
  writeFile(dir.path("cut.csv.gz"), gz);
  auto cut = readCsvFile(dir.path("cut.csv.gz"));
  ASSERT_FALSE(bool(cut));
  EXPECT_EQ(llvm::toString(cut.takeError()),
            dir.path("cut.csv.gz") + ": truncated gzip data: the compressed "
                                     "stream ends before its end marker");
}

TEST_F(CsvFile, CorruptTablesNameTheRowAndColumn) {
  EXPECT_EQ(errorOf("a,b\n1,2\n3\n"),
            "t.csv: row 3 has 1 cells, row 2 has 2: every row needs the "
            "same number");
  EXPECT_EQ(errorOf("a,b\n1,2,3\n"),
            "t.csv: row 2 has 3 cells but the header (row 1) names 2 "
            "columns");
  EXPECT_EQ(errorOf("a,b\n1,2\n3,x7\n"),
            "t.csv: row 3, column 2 ('b'): the cell 'x7' is not a number");
  EXPECT_EQ(errorOf("a,b\n1,nan\n"),
            "t.csv: row 2, column 2 ('b'): the cell 'nan' is not a finite "
            "number (NaN and infinities cannot be trained on)");
  EXPECT_EQ(errorOf("1,inf\n"),
            "t.csv: row 1, column 2: the cell 'inf' is not a finite number "
            "(NaN and infinities cannot be trained on)");
  EXPECT_EQ(errorOf("1,1e999\n"),
            "t.csv: row 1, column 2: the cell '1e999' is out of the range "
            "of a double");
  EXPECT_EQ(errorOf("a,b\n1,\n"),
            "t.csv: row 2, column 2 ('b'): the cell is empty (nnc reads "
            "tables without missing values)");
  EXPECT_EQ(errorOf(""), "t.csv: empty: no rows");
  EXPECT_EQ(errorOf("\n\n"), "t.csv: empty: no rows");
  EXPECT_EQ(errorOf("a,b\n"), "t.csv: no data rows after the header");
  CsvOptions skip;
  skip.skipRows = 5;
  EXPECT_EQ(errorOf("1\n2\n", skip), "t.csv: no rows after the 5 skipped");
  EXPECT_EQ(errorOf("1,\"2\n3,4\n"),
            "t.csv: row 2: a quoted cell is not closed before the end of "
            "the file");
  EXPECT_EQ(errorOf("1,2\"3\n"),
            "t.csv: row 1: malformed CSV (error parsing data while strict "
            "checking enabled), as where a quote appears inside an unquoted "
            "cell or after a closing quote");
  EXPECT_EQ(errorOf(llvm::StringRef("1,2\n\0,3\n", 8)),
            "t.csv: not a CSV file: it contains a NUL byte, as binary files "
            "do");
}

TEST_F(CsvFile, MissingAndSpecialFilesAreNamed) {
  ScratchDir dir;
  auto missing = readCsvFile(dir.path("none.csv"));
  ASSERT_FALSE(bool(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            dir.path("none.csv") + ": cannot read: No such file or directory");
  auto device = readCsvFile("/dev/zero");
  ASSERT_FALSE(bool(device));
  EXPECT_EQ(llvm::toString(device.takeError()),
            "/dev/zero: cannot read: not a regular file but a character "
            "device");
}

} // namespace
