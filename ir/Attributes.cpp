//===- Attributes.cpp - Compile-time constants attached to ops ------------===//
#include "ir/Attributes.h"

#include "llvm/ADT/StringExtras.h"

#include <charconv>
#include <cmath>

namespace nnc {

llvm::StringRef attrKindName(AttrKind kind) {
  switch (kind) {
  case AttrKind::Int:
    return "integer";
  case AttrKind::Float:
    return "float";
  case AttrKind::Bool:
    return "boolean";
  case AttrKind::String:
    return "string";
  case AttrKind::IntList:
    return "integer list";
  case AttrKind::FloatList:
    return "float list";
  case AttrKind::Type:
    return "element type";
  }
  return "?";
}

bool Attribute::coerceTo(AttrKind target) {
  AttrKind k = kind();
  if (k == target)
    return true;
  if (k == AttrKind::Int && target == AttrKind::Float) {
    value = double(getInt());
    return true;
  }
  if (k == AttrKind::IntList && target == AttrKind::FloatList) {
    std::vector<double> fs(getIntList().begin(), getIntList().end());
    value = std::move(fs);
    return true;
  }
  // An empty list literal reads as an integer list; it is a valid float list.
  if (k == AttrKind::FloatList && target == AttrKind::IntList &&
      getFloatList().empty()) {
    value = std::vector<int64_t>{};
    return true;
  }
  return false;
}

void printFloat(llvm::raw_ostream &os, double v, bool asFloat32) {
  if (std::isnan(v)) {
    os << "nan";
    return;
  }
  if (std::isinf(v)) {
    os << (v < 0 ? "-inf" : "inf");
    return;
  }
  char buf[64];
  auto res = asFloat32 ? std::to_chars(buf, buf + sizeof(buf), float(v))
                       : std::to_chars(buf, buf + sizeof(buf), v);
  llvm::StringRef text(buf, res.ptr - buf);
  os << text;
  if (text.find_first_of(".e") == llvm::StringRef::npos)
    os << ".0";
}

void printQuoted(llvm::raw_ostream &os, llvm::StringRef s) {
  os << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      os << '\\' << c;
    else if (c >= 0x20 && c < 0x7f)
      os << c;
    else
      os << "\\" << llvm::hexdigit(c >> 4) << llvm::hexdigit(c & 15);
  }
  os << '"';
}

void Attribute::print(llvm::raw_ostream &os, bool asFloat32) const {
  switch (kind()) {
  case AttrKind::Int:
    os << getInt();
    return;
  case AttrKind::Float:
    printFloat(os, getFloat(), asFloat32);
    return;
  case AttrKind::Bool:
    os << (getBool() ? "true" : "false");
    return;
  case AttrKind::String:
    printQuoted(os, getString());
    return;
  case AttrKind::IntList:
    os << '[';
    llvm::interleave(getIntList(), os, ", ");
    os << ']';
    return;
  case AttrKind::FloatList:
    os << '[';
    llvm::interleave(
        getFloatList(), os, [&](double d) { printFloat(os, d, asFloat32); },
        ", ");
    os << ']';
    return;
  case AttrKind::Type:
    os << elementTypeName(getType());
    return;
  }
}

std::string Attribute::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  print(os);
  return s;
}

const Attribute *AttrDict::get(llvm::StringRef name) const {
  for (const Entry &e : entries)
    if (e.first == name)
      return &e.second;
  return nullptr;
}

void AttrDict::set(llvm::StringRef name, Attribute value) {
  for (Entry &e : entries)
    if (e.first == name) {
      e.second = std::move(value);
      return;
    }
  entries.emplace_back(name.str(), std::move(value));
}

void AttrDict::erase(llvm::StringRef name) {
  llvm::erase_if(entries, [&](const Entry &e) { return e.first == name; });
}

} // namespace nnc
