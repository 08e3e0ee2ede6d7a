//===- ModelExport.cpp - A trained model as ONNX or a C library ----------===//
#include "tools/nnc/ModelExport.h"

#include "codegen/ObjectEmission.h"
#include "codegen/OnnxExport.h"
#include "passes/MemoryPlanning.h"
#include "runtime/AtomicFile.h"
#include "tools/nnc/Diagnostics.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

namespace nnc {

namespace {
int fail(const llvm::Twine &msg) {
  printError(msg);
  return 1;
}
} // namespace

bool exportModel(const ForwardBuilder &inference, int64_t batch,
                 const std::string &modelName, const ModelState &state,
                 const std::string &path, DiagnosticEngine &diag) {
  std::unique_ptr<Graph> g =
      buildInferenceGraph(inference, batch, /*fusion=*/false, diag);
  if (!g)
    return false;
  OnnxExportOptions options;
  options.modelName = modelName;
  options.producerVersion = "0.1";
  bool symbolic = false;
  std::optional<std::string> bytes =
      exportOnnx(*g, state.layout(), state.data(), options, diag, &symbolic);
  if (!bytes)
    return false;
  if (llvm::Error err = writeFileAtomically(path, *bytes)) {
    fail("cannot write " + path + ": " + llvm::toString(std::move(err)));
    return false;
  }
  llvm::errs() << fmt::format(
      "exported @{} to {} (ONNX opset {}, {} nodes, batch {})\n", modelName,
      path, options.opset,
      std::count_if(g->ops().begin(), g->ops().end(),
                    [](const Op &op) {
                      return !isVariable(op) && !op.is(OpKind::Constant) &&
                             !op.is(OpKind::Return);
                    }),
      symbolic ? std::string("symbolic") : "fixed at " + std::to_string(batch));
  return true;
}

bool emitLibrary(const ForwardBuilder &inference, int64_t batch, bool fusion,
                 const std::string &modelName, const std::string &source,
                 const ModelState &state, const RunOptions &options,
                 DiagnosticEngine &diag) {
  Module m;
  std::unique_ptr<Graph> infer = buildInferenceGraph(
      inference, batch, fusion, diag, options.convolutionsAsProducts);
  if (!infer)
    return false;
  const Graph &g = *m.addGraph(std::move(infer));
  // The library holds the parameters the output reads, nothing else.
  auto layout = StateLayout::fromModule(m);
  if (!layout) {
    fail(llvm::toString(layout.takeError()));
    return false;
  }
  std::vector<char> weights(size_t(layout->byteSize()));
  for (const StateLayout::Entry &e : layout->entries()) {
    const StateLayout::Entry *from = state.layout().lookup(e.name);
    assert(from && "the inference graph's params are the model's");
    std::memcpy(weights.data() + e.offset, state.data(*from),
                size_t(e.type.byteSize()));
  }
  auto plan = planMemory(g, *layout);
  if (!plan) {
    fail(llvm::toString(plan.takeError()));
    return false;
  }
  LibraryOptions lopts;
  lopts.name = modelName;
  lopts.source = source;
  lopts.triple = options.target;
  lopts.cpu = options.cpu;
  lopts.features = options.features;
  lopts.machineOptLevel = options.machineOptLevel;
  auto lib = emitInferenceLibrary(g, *plan, *layout, weights.data(), lopts);
  if (!lib) {
    fail(llvm::toString(lib.takeError()));
    return false;
  }
  const std::string &dir = options.libDir;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    fail("cannot create " + dir + ": " + ec.message());
    return false;
  }
  std::string prefix = cIdentifier(modelName);
  for (auto [ext, bytes] :
       {std::pair{".o", &lib->object}, std::pair{".h", &lib->header}}) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, prefix + ext);
    if (llvm::Error err = writeFileAtomically(path, *bytes)) {
      fail("cannot write " + path + ": " + llvm::toString(std::move(err)));
      return false;
    }
  }
  llvm::errs() << fmt::format(
      "wrote {0}/{1}.o and {0}/{1}.h for {2} ({3}): int {1}_predict(...), "
      "{4} bytes of weights\n",
      dir, prefix, lib->triple, lib->cpu, layout->byteSize());
  return true;
}

} // namespace nnc
