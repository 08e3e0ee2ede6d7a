//===- Location.h - Source positions carried by ops -------------*- C++ -*-===//
//
// Every op remembers where it came from: the `.nnir` line that spelled it, or
// the `.nn` line whose layer call or expression was lowered to it. Errors found
// long after parsing (a shape clash in autodiff, say) still point at the text
// the user wrote.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_LOCATION_H
#define NNC_IR_LOCATION_H

#include <string>

namespace nnc {

struct Location {
  std::string file;
  unsigned line = 0;
  unsigned col = 0;

  Location() = default;
  Location(std::string file, unsigned line, unsigned col)
      : file(std::move(file)), line(line), col(col) {}

  bool isUnknown() const { return file.empty(); }
  /// `file:line:col`, or `<unknown>`.
  std::string str() const {
    if (isUnknown())
      return "<unknown>";
    return file + ":" + std::to_string(line) + ":" + std::to_string(col);
  }
  bool operator==(const Location &o) const {
    return file == o.file && line == o.line && col == o.col;
  }
};

} // namespace nnc

#endif // NNC_IR_LOCATION_H
