//===- Frontend.cpp - The .nn model language: entry points ----------------===//
#include "frontend/Frontend.h"
#include "frontend/Lowering.h"
#include "frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"

namespace nnc {

std::unique_ptr<ast::ModelFile> parseModelFile(unsigned bufferId,
                                               DiagnosticEngine &diag) {
  const llvm::MemoryBuffer *buffer = diag.sourceMgr().getMemoryBuffer(bufferId);
  nn::Parser parser(buffer->getBuffer(), buffer->getBufferIdentifier().str(),
                    diag);
  return parser.parseModelFile();
}

std::unique_ptr<ast::ModelFile> parseModelFile(llvm::StringRef text,
                                               llvm::StringRef fileName,
                                               DiagnosticEngine &diag) {
  unsigned id =
      diag.addBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, fileName));
  return parseModelFile(id, diag);
}

std::unique_ptr<Graph> lowerModel(const ast::ModelFile &file, int64_t batchSize,
                                  DiagnosticEngine &diag) {
  ModelOptions options;
  options.batchSize = batchSize;
  return lowerModel(file, options, diag);
}

std::unique_ptr<Graph> lowerModel(const ast::ModelFile &file,
                                  const ModelOptions &options,
                                  DiagnosticEngine &diag) {
  assert(file.model && "a parsed file has a model block");
  if (llvm::Error err = checkBatchSize(options.batchSize)) {
    diag.error(file.model->loc, llvm::toString(std::move(err)));
    return nullptr;
  }
  nn::ModelLowering lowering(*file.model, options.batchSize, diag);
  lowering.setStandardizeInputs(options.standardizeInputs);
  lowering.setTraining(options.training);
  lowering.setSeed(options.seed);
  return lowering.lower();
}

std::string standardizationPrefix(llvm::StringRef input) {
  return ("standardize." + input + ".").str();
}

std::unique_ptr<Graph> lowerInferenceModel(const ast::ModelFile &file,
                                           int64_t batchSize,
                                           DiagnosticEngine &diag,
                                           OutputKind *kind) {
  ModelOptions options;
  options.batchSize = batchSize;
  return lowerInferenceModel(file, options, diag, kind);
}

std::unique_ptr<Graph> lowerInferenceModel(const ast::ModelFile &file,
                                           const ModelOptions &options,
                                           DiagnosticEngine &diag,
                                           OutputKind *kind) {
  assert(file.model && "a parsed file has a model block");
  if (llvm::Error err = checkBatchSize(options.batchSize)) {
    diag.error(file.model->loc, llvm::toString(std::move(err)));
    return nullptr;
  }
  nn::ModelLowering lowering(*file.model, options.batchSize, diag);
  lowering.setStandardizeInputs(options.standardizeInputs);
  lowering.setTraining(false);
  return lowering.lowerInference(kind);
}

} // namespace nnc
