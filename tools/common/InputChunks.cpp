//===- InputChunks.cpp - Reading an input file, split or whole ------------===//
#include "tools/common/InputChunks.h"

#include "llvm/Support/MemoryBuffer.h"

namespace nnc {

llvm::Expected<std::vector<unsigned>> readInputChunks(llvm::StringRef path,
                                                      bool split,
                                                      llvm::StringRef separator,
                                                      DiagnosticEngine &diag) {
  auto file = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (!file)
    return llvm::createStringError(file.getError(),
                                   "cannot read '" + path +
                                       "': " + file.getError().message());
  std::string name = path == "-" ? "<stdin>" : path.str();
  llvm::StringRef text = (*file)->getBuffer();
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
