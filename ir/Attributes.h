//===- Attributes.h - Compile-time constants attached to ops ----*- C++ -*-===//
//
// Attributes carry what an op needs besides its operands: the axes of a
// reduction, the permutation of a transpose, the name of a parameter. They
// print as `{axes = [1], keepdims = true}` and parse back to the same value.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_ATTRIBUTES_H
#define NNC_IR_ATTRIBUTES_H

#include "ir/Types.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nnc {

enum class AttrKind { Int, Float, Bool, String, IntList, FloatList, Type };

llvm::StringRef attrKindName(AttrKind kind);

class Attribute {
public:
  Attribute() : value(int64_t(0)) {}
  Attribute(int64_t v) : value(v) {}
  Attribute(int v) : value(int64_t(v)) {}
  Attribute(double v) : value(v) {}
  Attribute(bool v) : value(v) {}
  Attribute(std::string v) : value(std::move(v)) {}
  Attribute(const char *v) : value(std::string(v)) {}
  Attribute(std::vector<int64_t> v) : value(std::move(v)) {}
  Attribute(std::vector<double> v) : value(std::move(v)) {}
  Attribute(ElementType v) : value(v) {}

  AttrKind kind() const { return AttrKind(value.index()); }

  int64_t getInt() const { return std::get<int64_t>(value); }
  double getFloat() const { return std::get<double>(value); }
  bool getBool() const { return std::get<bool>(value); }
  const std::string &getString() const { return std::get<std::string>(value); }
  const std::vector<int64_t> &getIntList() const {
    return std::get<std::vector<int64_t>>(value);
  }
  const std::vector<double> &getFloatList() const {
    return std::get<std::vector<double>>(value);
  }
  ElementType getType() const { return std::get<ElementType>(value); }

  /// Converts a literal to `kind` where no information is lost (an integer
  /// literal to a float, an empty or integer list to a float list). Returns
  /// false when the value cannot be read as `kind`.
  bool coerceTo(AttrKind kind);

  /// With `asFloat32`, floats print in the shortest form that reads back to
  /// the same float (a constant of f32 type holds floats, whatever double
  /// was written).
  void print(llvm::raw_ostream &os, bool asFloat32 = false) const;
  std::string str() const;

  bool operator==(const Attribute &o) const { return value == o.value; }
  bool operator!=(const Attribute &o) const { return !(*this == o); }

private:
  // The order of the alternatives matches AttrKind.
  std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
               std::vector<double>, ElementType>
      value;
};

/// Prints a double so that parsing the text gives the same bits, and so that
/// it always reads as a float (`1.0`, not `1`). With `asFloat32`, the shortest
/// text that gives the same value once rounded to float.
void printFloat(llvm::raw_ostream &os, double v, bool asFloat32 = false);

/// Prints a string literal with escapes for quotes, backslashes and bytes
/// outside printable ASCII.
void printQuoted(llvm::raw_ostream &os, llvm::StringRef s);

/// A small ordered dictionary of named attributes.
class AttrDict {
public:
  using Entry = std::pair<std::string, Attribute>;

  const Attribute *get(llvm::StringRef name) const;
  bool has(llvm::StringRef name) const { return get(name) != nullptr; }
  void set(llvm::StringRef name, Attribute value);
  void erase(llvm::StringRef name);

  // Typed accessors for attributes the verifier has already checked.
  int64_t getInt(llvm::StringRef name) const { return get(name)->getInt(); }
  double getFloat(llvm::StringRef name) const { return get(name)->getFloat(); }
  bool getBool(llvm::StringRef name) const { return get(name)->getBool(); }
  const std::string &getString(llvm::StringRef name) const {
    return get(name)->getString();
  }
  const std::vector<int64_t> &getIntList(llvm::StringRef name) const {
    return get(name)->getIntList();
  }

  auto begin() const { return entries.begin(); }
  auto end() const { return entries.end(); }
  bool empty() const { return entries.empty(); }
  size_t size() const { return entries.size(); }

  bool operator==(const AttrDict &o) const { return entries == o.entries; }

private:
  llvm::SmallVector<Entry, 2> entries;
};

} // namespace nnc

#endif // NNC_IR_ATTRIBUTES_H
