//===- InputChunks.cpp - Reading an input file, split or whole ------------===//
#include "tools/common/InputChunks.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

namespace nnc {

namespace {
/// Model and IR files are text of kilobytes. Reading stops past this, so
/// that an input without an end (/dev/zero) or a data file named by
/// mistake is an error rather than a hang or an exhausted memory.
constexpr size_t kMaxInputBytes = size_t(64) << 20;

/// The whole of `path`, or of standard input for "-".
llvm::Expected<std::string> readInput(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot read '" + path + "': " + why);
  };
  llvm::sys::fs::file_t file = llvm::sys::fs::getStdinHandle();
  if (path != "-") {
    auto opened = llvm::sys::fs::openNativeFileForRead(path);
    if (!opened)
      return fail(llvm::toString(opened.takeError()));
    file = *opened;
  }
  auto finish = [&](llvm::Expected<std::string> result) {
    if (path != "-")
      llvm::sys::fs::closeFile(file);
    return result;
  };
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    auto n = llvm::sys::fs::readNativeFile(file, chunk);
    if (!n)
      return finish(fail(llvm::toString(n.takeError())));
    if (*n == 0)
      return finish(std::move(text));
    if (text.size() + *n > kMaxInputBytes)
      return finish(fail(llvm::Twine("more than ") +
                         llvm::Twine(kMaxInputBytes >> 20) +
                         " MiB, which no model or IR file is"));
    text.append(chunk, *n);
  }
}
} // namespace

llvm::Expected<std::vector<unsigned>> readInputChunks(llvm::StringRef path,
                                                      bool split,
                                                      llvm::StringRef separator,
                                                      DiagnosticEngine &diag) {
  auto contents = readInput(path);
  if (!contents)
    return contents.takeError();
  std::string name = path == "-" ? "<stdin>" : path.str();
  llvm::StringRef text = *contents;
  if (!split)
    return std::vector<unsigned>{
        diag.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name))};

  std::vector<unsigned> ids;
  std::string chunk;
  unsigned linesBefore = 0, chunkStartLine = 0;
  auto flush = [&]() {
    std::string padded(chunkStartLine, '\n');
    padded += chunk;
    ids.push_back(
        diag.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(padded, name)));
    chunk.clear();
  };
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    bool hadNewline = text.size() > line.size();
    text = rest;
    ++linesBefore;
    if (line.rtrim() == separator) {
      flush();
      chunkStartLine = linesBefore;
      continue;
    }
    chunk += line;
    if (hadNewline)
      chunk += '\n';
  }
  flush();
  return ids;
}

} // namespace nnc
