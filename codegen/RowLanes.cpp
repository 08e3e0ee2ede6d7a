//===- RowLanes.cpp - A short row as one vector of lanes ------------------===//
#include "codegen/RowLanes.h"

#include "llvm/IR/Intrinsics.h"

namespace nnc::codegen {

using llvm::Value;

Value *RowLanes::steps() {
  llvm::SmallVector<llvm::Constant *, kLanes> lanes;
  for (unsigned i = 0; i < kLanes; ++i)
    lanes.push_back(b.getInt64(i));
  return llvm::ConstantVector::get(lanes);
}

Value *RowLanes::mask() {
  return b.CreateICmpSLT(steps(), b.CreateVectorSplat(kLanes, kb.index(cols)));
}

Value *RowLanes::load(Value *ptr, ElementType e, Value *start) {
  llvm::Type *st = storageType(b.getContext(), e);
  auto *vt = llvm::FixedVectorType::get(st, kLanes);
  Value *x = b.CreateMaskedLoad(vt, b.CreateInBoundsGEP(st, ptr, start),
                                llvm::Align(elementByteSize(e)), mask(),
                                llvm::Constant::getNullValue(vt));
  if (e == ElementType::I1)
    x = b.CreateICmpNE(x, llvm::Constant::getNullValue(vt));
  return x;
}

void RowLanes::store(Value *ptr, ElementType e, Value *start, Value *lanes) {
  llvm::Type *st = storageType(b.getContext(), e);
  if (e == ElementType::I1)
    lanes = b.CreateZExt(lanes, llvm::FixedVectorType::get(st, kLanes));
  b.CreateMaskedStore(lanes, b.CreateInBoundsGEP(st, ptr, start),
                      llvm::Align(elementByteSize(e)), mask());
}

// The tree finds the scalar loop's maximum in another order. Where they
// could differ, the outputs cannot: a NaN lane makes the row's sum NaN
// whatever the maximum, and the sign of a zero maximum shows neither in
// exp(x - m) nor in m + log(sum), sum >= 1. (LLVM's lowering of the vector
// reduction was a serial chain of sixteen.)
Value *RowLanes::maximum(Value *row) {
  Value *v = row;
  for (unsigned half = kLanes / 2; half >= 1; half /= 2) {
    llvm::SmallVector<int, kLanes> upper;
    for (unsigned i = 0; i < kLanes; ++i)
      upper.push_back(int((i + half) % kLanes));
    Value *other = b.CreateShuffleVector(v, upper);
    v = b.CreateSelect(b.CreateFCmpOGT(other, v), other, v);
  }
  return b.CreateExtractElement(v, uint64_t(0));
}

// The exponentials at once, summed in the order of the scalar loop so that
// the sums are the same (0 + ex[0] is ex[0]); the lanes past the row hold
// exp(-inf - m) = 0.
Value *RowLanes::logSumExp(Value *row) {
  Value *m = maximum(row);
  Value *ex = kb.exp(b.CreateFSub(row, b.CreateVectorSplat(kLanes, m)));
  Value *sum = b.CreateExtractElement(ex, uint64_t(0));
  for (int64_t j = 1; j < cols; ++j)
    sum = b.CreateFAdd(sum, b.CreateExtractElement(ex, j));
  return b.CreateFAdd(m, b.CreateUnaryIntrinsic(llvm::Intrinsic::log, sum));
}

} // namespace nnc::codegen
