//===- Diagnostics.cpp - The driver's error and warning lines -------------===//

#include "tools/nnc/Diagnostics.h"

#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace nnc {

namespace {
// Formatted in memory, coloured as stderr would be, then written at once.
void printLine(llvm::HighlightColor color, llvm::StringRef label,
               const llvm::Twine &msg) {
  std::string line;
  llvm::raw_string_ostream os(line);
  bool colors = llvm::errs().has_colors();
  os.enable_colors(colors);
  os << "nnc: ";
  llvm::WithColor(os, color,
                  colors ? llvm::ColorMode::Enable : llvm::ColorMode::Disable)
          .get()
      << label << ": ";
  os << msg << "\n";
  os.flush();
  llvm::errs() << line;
}
} // namespace

void printError(const llvm::Twine &msg) {
  printLine(llvm::HighlightColor::Error, "error", msg);
}

void printWarning(const llvm::Twine &msg) {
  printLine(llvm::HighlightColor::Warning, "warning", msg);
}

void printNote(const llvm::Twine &msg) {
  printLine(llvm::HighlightColor::Note, "note", msg);
}

} // namespace nnc
