//===- IRHelpers.h - Building loops and element code in LLVM IR -*- C++ -*-===//
//
// The small vocabulary kernels are written in: counted loops with static
// trip counts, element loads and stores by element type, and the scalar
// semantics of each element-wise op (matching the reference semantics in
// ir/ops/, including NaN and saturation behaviour).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_IRHELPERS_H
#define NNC_CODEGEN_IRHELPERS_H

#include "codegen/StepABI.h"
#include "ir/Graph.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/IR/IRBuilder.h"

#include <algorithm>

namespace nnc::codegen {

/// The LLVM type of an element in memory (i1 is stored as a byte).
llvm::Type *storageType(llvm::LLVMContext &ctx, ElementType e);
/// The LLVM type an element is computed in.
llvm::Type *computeType(llvm::LLVMContext &ctx, ElementType e);

/// Strides that read a tensor of `shape` broadcast (NumPy rules) to
/// `space`: 0 along stretched or missing dimensions.
Shape broadcastStrides(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<int64_t> space);

class KernelBuilder {
public:
  explicit KernelBuilder(llvm::IRBuilder<> &b) : b(b) {}

  /// Lets square roots and divisions of 16-float vectors use AVX-512's
  /// estimates refined by a Newton step (within an ulp or two of the exact
  /// result); see CodegenOptions::fastUpdates.
  void setApproximateReciprocals(bool on) { approximate = on; }

  llvm::IRBuilder<> &builder() { return b; }
  llvm::LLVMContext &context() { return b.getContext(); }

  llvm::Value *index(int64_t i) { return b.getInt64(i); }

  /// for (iv = begin; iv < end; iv += step) body(iv); the builder ends up
  /// after the loop.
  void forRange(llvm::Value *begin, llvm::Value *end,
                llvm::function_ref<void(llvm::Value *)> body,
                llvm::StringRef name = "i", int64_t step = 1);

  /// forRange for a loop whose body is large and runs few times (a tile's
  /// epilogue): LLVM is asked not to unroll it, which would multiply the
  /// code to compile for no gain.
  void forRangeRolled(int64_t begin, int64_t end,
                      llvm::function_ref<void(llvm::Value *)> body,
                      llvm::StringRef name) {
    forRangeRolled(index(begin), index(end), body, name);
  }
  void forRangeRolled(llvm::Value *begin, llvm::Value *end,
                      llvm::function_ref<void(llvm::Value *)> body,
                      llvm::StringRef name);
  void forRange(int64_t begin, int64_t end,
                llvm::function_ref<void(llvm::Value *)> body,
                llvm::StringRef name = "i") {
    forRange(index(begin), index(end), body, name);
  }

  /// Emits `then()` where `condition` holds.
  void ifThen(llvm::Value *condition, llvm::function_ref<void()> then,
              llvm::StringRef name = "then");

  /// An alloca of `count` elements of `t` in the function's entry block, so
  /// that LLVM can keep it in registers.
  llvm::AllocaInst *entryAlloca(llvm::Type *t, int64_t count = 1);

  /// Loops over `shape` in row-major order with the outermost dimension
  /// split between threads; a scalar is computed by thread 0 alone.
  void forEachOwnedIndex(
      llvm::ArrayRef<int64_t> shape, llvm::Value *threadIndex,
      llvm::Value *numThreads,
      llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> body);

  /// Loops over every index of `shape` in row-major order.
  void
  forEachIndex(llvm::ArrayRef<int64_t> shape,
               llvm::function_ref<void(llvm::ArrayRef<llvm::Value *>)> body);

  /// sum_d index[d] * strides[d]
  llvm::Value *linearIndex(llvm::ArrayRef<llvm::Value *> index,
                           llvm::ArrayRef<int64_t> strides);

  llvm::Value *load(llvm::Value *base, ElementType e, llvm::Value *index);
  void store(llvm::Value *base, ElementType e, llvm::Value *index,
             llvm::Value *value);

  /// A constant of element type `e` in its compute type.
  llvm::Value *constant(ElementType e, double value);

  /// A `constant` op's elements as a global array.
  llvm::Value *constantArray(const Op &constant);

  /// The value of element-wise op `op` on scalar (or vector) operands of
  /// the given element types: the op's scalar body from its structured
  /// description, emitted by emitScalarBody (codegen/ScalarCodegen.h).
  llvm::Value *elementwise(const Op &op, llvm::ArrayRef<llvm::Value *> args,
                           llvm::ArrayRef<ElementType> argTypes);

  /// [begin, end) of `n` work items for this thread: contiguous, balanced.
  std::pair<llvm::Value *, llvm::Value *>
  threadRange(int64_t n, llvm::Value *threadIndex, llvm::Value *numThreads);

  /// [begin, end) of `n` rows for this thread, in blocks of kRowGranule
  /// (nnc::ownedRows in StepABI.h, computed in the kernel):
  /// the rows of a variable a thread owns. Every kernel that splits a
  /// variable's rows between threads uses this partition, so that each
  /// thread keeps reading and writing the same rows from kernel to kernel
  /// and step to step: moving a cache line between cores costs more than
  /// the arithmetic done on it.
  std::pair<llvm::Value *, llvm::Value *>
  ownedRows(int64_t n, llvm::Value *threadIndex, llvm::Value *numThreads) {
    return blockRange(n, kRowGranule, threadIndex, numThreads);
  }

  /// [begin, end) of `n` items for this thread, in whole blocks of
  /// `granule` (the last block may be short).
  std::pair<llvm::Value *, llvm::Value *> blockRange(int64_t n, int64_t granule,
                                                     llvm::Value *threadIndex,
                                                     llvm::Value *numThreads);

  /// Whether the kernel split work between threads. A kernel that did not
  /// does all its writing on thread 0 (the others skip it), which lets the
  /// step leave out barriers between such kernels.
  bool splitsWork() const { return partitioned; }

  /// Asks for `bytes` of the step's thread scratch memory per thread: the
  /// kernel may use [t * bytes, (t + 1) * bytes) for thread t, and read
  /// every thread's part after a barrier.
  void requireThreadScratch(int64_t bytes) {
    scratchBytes = std::max(scratchBytes, bytes);
  }
  int64_t threadScratchBytes() const { return scratchBytes; }

  /// e^x for float scalars and vectors, inline: Cody-Waite reduction to
  /// r in [-ln2/2, ln2/2], a degree-7 Taylor polynomial (truncation under
  /// 0.05 ulp) by FMAs, and the power of two added to the exponent. Within
  /// an ulp of the exact result, like libm's expf, but vectorisable: a
  /// softmax over a batch calls it hundreds of times per step. Doubles use
  /// llvm.exp.
  llvm::Value *exp(llvm::Value *x);

  /// e^x - 1 and tanh x for float scalars and vectors, inline, within two
  /// ulps: libm's expm1f and tanhf have no vector forms, and a tanh layer
  /// called one per lane ran at 2 GFLOP/s. expm1 reduces as exp does and
  /// keeps the polynomial's relative accuracy near 0; tanh|x| is -t / (t +
  /// 2) with t = expm1(-2|x|), which cancels nowhere. Doubles call libm.
  llvm::Value *expm1(llvm::Value *x);
  llvm::Value *tanh(llvm::Value *x);

  /// log(sum exp(element(j) - m)) + m for j in [0, n), m the largest
  /// element: a row's log-sum-exp computed without overflow, as scalar
  /// loops (the sum in the order of j).
  llvm::Value *
  logSumExp(int64_t n, ElementType e,
            llvm::function_ref<llvm::Value *(llvm::Value *)> element);

  /// Calls a unary libm function (expf, tanhf, ...) or its double version.
  llvm::Value *callMath(llvm::StringRef floatName, llvm::Value *x);

  /// sqrt(x) and a / d from AVX-512's 14-bit estimates and one Newton step,
  /// for <16 x float>; null when not allowed or not that type.
  llvm::Value *approximateSqrt(llvm::Value *x);
  llvm::Value *approximateDiv(llvm::Value *a, llvm::Value *d);

  /// Converts between element types with the reference semantics of cast
  /// (saturating float-to-integer, NaN to 0); scalars or vectors.
  llvm::Value *cast(llvm::Value *v, ElementType from, ElementType to);

private:
  void emitLoop(llvm::Value *begin, llvm::Value *end,
                llvm::function_ref<void(llvm::Value *)> body,
                llvm::StringRef name, int64_t step, llvm::BranchInst **latch);

  llvm::IRBuilder<> &b;
  bool approximate = false;
  bool partitioned = false;
  int64_t scratchBytes = 0;
};

} // namespace nnc::codegen

#endif // NNC_CODEGEN_IRHELPERS_H
