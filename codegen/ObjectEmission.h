//===- ObjectEmission.h - Inference graphs as C libraries -------*- C++ -*-===//
//
// `nnc model.nn --load ckpt --emit-lib DIR` compiles the inference graph
// ahead of time into an object file with the trained weights inside, and
// writes the C header that declares it:
//
//   int mnist_mlp_predict(const float *x, float *logits, int batch);
//
// The object needs nothing beyond libc (aligned_alloc, free, memcpy,
// memset) and libm (expf, logf, ...): the step runs on the calling thread
// alone, so no thread pool, barrier or other part of nnc's runtime comes
// along. It is the step the JIT compiles, with the kernels, step function
// and a predict function that feeds it linked into one module, for the
// host or any target triple LLVM has.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_OBJECTEMISSION_H
#define NNC_CODEGEN_OBJECTEMISSION_H

#include "codegen/Compiler.h"
#include "ir/MemoryPlan.h"

#include "llvm/Support/Error.h"

#include <string>

namespace nnc {

struct LibraryOptions {
  /// Prefix of every name the header declares: the model's name.
  std::string name;
  /// The target triple; empty for the host.
  std::string triple;
  /// The CPU to tune and select instructions for: empty for the host's CPU
  /// (with every feature it has) on the host, `generic` elsewhere.
  std::string cpu;
  /// Target features (`+avx2,+fma`), added to the CPU's.
  std::string features;
  /// Where the model came from, for the header's comment.
  std::string source;
  unsigned machineOptLevel = 3;
};

struct InferenceLibrary {
  std::string object; ///< an ELF (or the target's) relocatable object
  std::string header; ///< the C header
  std::string triple, cpu;
};

/// Compiles inference graph `g` with its memory plan, taking each param's
/// value from `state` at its `layout` offset.
llvm::Expected<InferenceLibrary>
emitInferenceLibrary(const Graph &g, const MemoryPlan &plan,
                     const StateLayout &layout, const char *state,
                     const LibraryOptions &options);

/// `name` as a C identifier: other characters become `_`, and a leading
/// digit gets one in front.
std::string cIdentifier(llvm::StringRef name);

} // namespace nnc

#endif
