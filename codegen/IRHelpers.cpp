//===- IRHelpers.cpp - Building loops and element code in LLVM IR ---------===//
#include "codegen/IRHelpers.h"

#include <limits>

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Module.h"

namespace nnc::codegen {

using llvm::Value;

llvm::Type *storageType(llvm::LLVMContext &ctx, ElementType e) {
  switch (e) {
  case ElementType::F32:
    return llvm::Type::getFloatTy(ctx);
  case ElementType::F64:
    return llvm::Type::getDoubleTy(ctx);
  case ElementType::I32:
    return llvm::Type::getInt32Ty(ctx);
  case ElementType::I1:
  case ElementType::U8:
    return llvm::Type::getInt8Ty(ctx);
  }
  llvm_unreachable("unknown element type");
}

llvm::Type *computeType(llvm::LLVMContext &ctx, ElementType e) {
  if (e == ElementType::I1)
    return llvm::Type::getInt1Ty(ctx);
  return storageType(ctx, e);
}

void KernelBuilder::forRange(Value *begin, Value *end,
                             llvm::function_ref<void(Value *)> body,
                             llvm::StringRef name, int64_t step) {
  emitLoop(begin, end, body, name, step, nullptr);
}

void KernelBuilder::emitLoop(Value *begin, Value *end,
                             llvm::function_ref<void(Value *)> body,
                             llvm::StringRef name, int64_t step,
                             llvm::BranchInst **latch) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = context();
  llvm::BasicBlock *preheader = b.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx, name + ".header", f);
  auto *loopBody = llvm::BasicBlock::Create(ctx, name + ".body", f);
  auto *exit = llvm::BasicBlock::Create(ctx, name + ".exit", f);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, name);
  iv->addIncoming(begin, preheader);
  b.CreateCondBr(b.CreateICmpSLT(iv, end), loopBody, exit);
  b.SetInsertPoint(loopBody);
  body(iv);
  Value *next = b.CreateAdd(iv, index(step), name + ".next", /*HasNUW=*/true,
                            /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst *back = b.CreateBr(header);
  if (latch)
    *latch = back;
  b.SetInsertPoint(exit);
}

void KernelBuilder::forRangeRolled(Value *begin, Value *end,
                                   llvm::function_ref<void(Value *)> body,
                                   llvm::StringRef name) {
  llvm::BranchInst *latch = nullptr;
  emitLoop(begin, end, body, name, 1, &latch);
  llvm::LLVMContext &ctx = context();
  llvm::MDNode *disable = llvm::MDNode::get(
      ctx, llvm::MDString::get(ctx, "llvm.loop.unroll.disable"));
  llvm::MDNode *loopID = llvm::MDNode::getDistinct(ctx, {nullptr, disable});
  loopID->replaceOperandWith(0, loopID);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loopID);
}

Shape broadcastStrides(llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<int64_t> space) {
  Shape strides(space.size(), 0);
  Shape own = rowMajorStrides(shape);
  size_t offset = space.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d)
    strides[offset + d] = shape[d] == 1 ? 0 : own[d];
  return strides;
}

void KernelBuilder::ifThen(Value *condition, llvm::function_ref<void()> then,
                           llvm::StringRef name) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  auto *thenBlock = llvm::BasicBlock::Create(context(), name, f);
  auto *done = llvm::BasicBlock::Create(context(), name + ".done", f);
  b.CreateCondBr(condition, thenBlock, done);
  b.SetInsertPoint(thenBlock);
  then();
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

llvm::AllocaInst *KernelBuilder::entryAlloca(llvm::Type *t, int64_t count) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  llvm::AllocaInst *slot =
      entry.CreateAlloca(t, count > 1 ? entry.getInt64(count) : nullptr);
  slot->setAlignment(llvm::Align(64));
  return slot;
}

void KernelBuilder::forEachOwnedIndex(
    llvm::ArrayRef<int64_t> shape, Value *threadIndex, Value *numThreads,
    llvm::function_ref<void(llvm::ArrayRef<Value *>)> body) {
  if (shape.empty()) {
    ifThen(
        b.CreateICmpEQ(threadIndex, b.getInt32(0)), [&] { body({}); },
        "scalar");
    return;
  }
  auto [begin, end] = threadRange(shape[0], threadIndex, numThreads);
  forRange(
      begin, end,
      [&](Value *i0) {
        forEachIndex(shape.drop_front(), [&](llvm::ArrayRef<Value *> rest) {
          llvm::SmallVector<Value *, 4> idx{i0};
          idx.append(rest.begin(), rest.end());
          body(idx);
        });
      },
      "d0");
}

void KernelBuilder::forEachIndex(
    llvm::ArrayRef<int64_t> shape,
    llvm::function_ref<void(llvm::ArrayRef<Value *>)> body) {
  llvm::SmallVector<Value *, 4> ivs;
  std::function<void(unsigned)> nest = [&](unsigned d) {
    if (d == shape.size()) {
      body(ivs);
      return;
    }
    forRange(
        0, shape[d],
        [&](Value *iv) {
          ivs.push_back(iv);
          nest(d + 1);
          ivs.pop_back();
        },
        "d" + std::to_string(d));
  };
  nest(0);
}

Value *KernelBuilder::linearIndex(llvm::ArrayRef<Value *> idx,
                                  llvm::ArrayRef<int64_t> strides) {
  Value *sum = index(0);
  for (size_t d = 0; d < idx.size(); ++d) {
    if (strides[d] == 0)
      continue;
    Value *term = strides[d] == 1 ? idx[d]
                                  : b.CreateMul(idx[d], index(strides[d]), "",
                                                /*HasNUW=*/true, true);
    sum = b.CreateAdd(sum, term, "", /*HasNUW=*/true, /*HasNSW=*/true);
  }
  return sum;
}

Value *KernelBuilder::load(Value *base, ElementType e, Value *idx) {
  llvm::Type *t = storageType(context(), e);
  Value *v = b.CreateLoad(t, b.CreateInBoundsGEP(t, base, idx));
  if (e == ElementType::I1)
    v = b.CreateICmpNE(v, b.getInt8(0));
  return v;
}

void KernelBuilder::store(Value *base, ElementType e, Value *idx,
                          Value *value) {
  llvm::Type *t = storageType(context(), e);
  if (e == ElementType::I1)
    value = b.CreateZExt(value, t);
  b.CreateStore(value, b.CreateInBoundsGEP(t, base, idx));
}

Value *KernelBuilder::constant(ElementType e, double value) {
  llvm::Type *t = computeType(context(), e);
  if (isFloat(e))
    return llvm::ConstantFP::get(t, value);
  if (e == ElementType::I1)
    return b.getInt1(value != 0);
  return llvm::ConstantInt::get(t, uint64_t(int64_t(value)), /*signed=*/true);
}

Value *KernelBuilder::constantArray(const Op &constantOp) {
  llvm::Module &m = *b.GetInsertBlock()->getModule();
  const TensorType &type = constantOp.result()->type();
  ElementType e = type.element();
  llvm::Type *t = storageType(context(), e);
  std::vector<double> values;
  if (const Attribute *v = constantOp.attrs().get("value"))
    values.assign(type.numElements(), v->getFloat());
  else
    values = constantOp.attrs().get("values")->getFloatList();
  std::vector<llvm::Constant *> elements;
  for (double d : values)
    elements.push_back(
        isFloat(e) ? llvm::ConstantFP::get(t, d)
                   : llvm::ConstantInt::get(t, uint64_t(int64_t(d)), true));
  auto *arrayType = llvm::ArrayType::get(t, elements.size());
  auto *gv = new llvm::GlobalVariable(
      m, arrayType, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(arrayType, elements), "nnc.constant");
  gv->setAlignment(llvm::Align(64));
  return gv;
}

std::pair<Value *, Value *> KernelBuilder::threadRange(int64_t n, Value *tid,
                                                       Value *nthreads) {
  partitioned = true;
  Value *t = b.CreateSExt(tid, b.getInt64Ty());
  Value *nt = b.CreateSExt(nthreads, b.getInt64Ty());
  Value *begin = b.CreateUDiv(b.CreateMul(index(n), t), nt);
  Value *end =
      b.CreateUDiv(b.CreateMul(index(n), b.CreateAdd(t, index(1))), nt);
  return {begin, end};
}

std::pair<Value *, Value *> KernelBuilder::blockRange(int64_t n,
                                                      int64_t granule,
                                                      Value *tid,
                                                      Value *nthreads) {
  int64_t blocks = (n + granule - 1) / granule;
  auto [first, last] = threadRange(blocks, tid, nthreads);
  Value *size = index(n);
  auto clamp = [&](Value *block) {
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                   b.CreateMul(block, index(granule)), size);
  };
  return {clamp(first), clamp(last)};
}

namespace {

/// Constants, FMAs and the range reduction of e^x, shaped like a float
/// scalar or vector type: what exp, expm1 and tanh share.
struct FloatShape {
  llvm::IRBuilder<> &b;
  llvm::Type *t;

  Value *splat(Value *scalar) const {
    if (auto *vec = llvm::dyn_cast<llvm::VectorType>(t))
      return b.CreateVectorSplat(vec->getElementCount(), scalar);
    return scalar;
  }
  Value *f(float v) const {
    return splat(llvm::ConstantFP::get(b.getFloatTy(), v));
  }
  Value *fma(Value *a, Value *m, Value *c) const {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {t}, {a, m, c});
  }
  Value *clamp(Value *x, float lo, float hi) const {
    return b.CreateBinaryIntrinsic(
        llvm::Intrinsic::maxnum,
        b.CreateBinaryIntrinsic(llvm::Intrinsic::minnum, x, f(hi)), f(lo));
  }
  /// x = n ln2 + r, |r| <= ln2/2, n an integer as a float; ln 2 in two
  /// parts, the first with few enough bits that n times it is exact.
  std::pair<Value *, Value *> reduce(Value *x) const {
    Value *n = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven,
                                      b.CreateFMul(x, f(1.44269504088896341f)));
    Value *r = fma(n, f(-0.693359375f), x);
    return {n, fma(n, f(2.12194440e-4f), r)};
  }
  /// n as i32 lanes.
  Value *integer(Value *n) const {
    return b.CreateFPToSI(n, t->getWithNewType(b.getInt32Ty()));
  }
  /// 2^e for i32 lanes e in the normal range.
  Value *pow2(Value *e) const {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(e, splat(b.getInt32(127))),
                                       splat(b.getInt32(23))),
                           t);
  }
};

} // namespace

Value *KernelBuilder::exp(Value *x) {
  llvm::Type *t = x->getType();
  if (!t->getScalarType()->isFloatTy())
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
  FloatShape s{b, t};
  // Beyond these the result is infinite, or below the smallest normal
  // float (and flushed to zero where kernels run).
  constexpr float kOverflow = 88.72283935546875f;   // ln(FLT_MAX)
  constexpr float kUnderflow = -87.33654022216797f; // ln(FLT_MIN)
  auto [n, r] = s.reduce(s.clamp(x, kUnderflow, kOverflow));
  Value *p = s.f(1.0f / 5040);
  for (float c :
       {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = s.fma(p, r, s.f(c));
  // 2^n in two factors, so that each is a normal float for every n the
  // clamp allows (-126 to 128).
  Value *ni = s.integer(n);
  Value *half = b.CreateAShr(ni, s.splat(b.getInt32(1)));
  Value *y = b.CreateFMul(b.CreateFMul(p, s.pow2(half)),
                          s.pow2(b.CreateSub(ni, half)));
  // The clamp kept finite ends; restore them, and NaN.
  y = b.CreateSelect(b.CreateFCmpOGT(x, s.f(kOverflow)),
                     s.f(std::numeric_limits<float>::infinity()), y);
  y = b.CreateSelect(b.CreateFCmpOLT(x, s.f(kUnderflow)), s.f(0.0f), y);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, y);
}

Value *KernelBuilder::expm1(Value *x) {
  llvm::Type *t = x->getType();
  if (!t->getScalarType()->isFloatTy())
    return callMath("expm1f", x);
  FloatShape s{b, t};
  // Past +-40 the result is e^x, or -1, to rounding; within, 2^n for the
  // n of the reduction is a normal float.
  constexpr float kLimit = 40.0f;
  auto [n, r] = s.reduce(s.clamp(x, -kLimit, kLimit));
  // expm1(r) = r + r^2 (1/2! + r/3! + ... + r^7/9!) for |r| <= ln2/2: the
  // first term exact, so small inputs keep their relative accuracy.
  Value *q = s.f(1.0f / 362880);
  for (float c : {1.0f / 40320, 1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24,
                  1.0f / 6, 0.5f})
    q = s.fma(q, r, s.f(c));
  Value *p = s.fma(q, b.CreateFMul(r, r), r);
  // e^x - 1 = 2^n expm1(r) + (2^n - 1), the last exact, in one rounding.
  Value *scale = s.pow2(s.integer(n));
  Value *y = s.fma(scale, p, b.CreateFSub(scale, s.f(1.0f)));
  y = b.CreateSelect(b.CreateFCmpOGT(x, s.f(kLimit)),
                     b.CreateFSub(exp(x), s.f(1.0f)), y);
  y = b.CreateSelect(b.CreateFCmpOLT(x, s.f(-kLimit)), s.f(-1.0f), y);
  // NaN stays NaN, and -0 stays -0.
  return b.CreateSelect(
      b.CreateOr(b.CreateFCmpUNO(x, x), b.CreateFCmpOEQ(x, s.f(0.0f))), x, y);
}

Value *KernelBuilder::tanh(Value *x) {
  llvm::Type *t = x->getType();
  if (!t->getScalarType()->isFloatTy())
    return callMath("tanhf", x);
  FloatShape s{b, t};
  Value *m = expm1(b.CreateFMul(
      s.f(-2.0f), b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x)));
  Value *y = b.CreateFDiv(b.CreateFNeg(m), b.CreateFAdd(m, s.f(2.0f)));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, y, x);
}

Value *KernelBuilder::logSumExp(int64_t n, ElementType e,
                                llvm::function_ref<Value *(Value *)> element) {
  llvm::Type *t = computeType(context(), e);
  llvm::AllocaInst *maxSlot = entryAlloca(t), *sumSlot = entryAlloca(t);
  b.CreateStore(constant(e, -std::numeric_limits<double>::infinity()), maxSlot);
  forRange(
      0, n,
      [&](Value *j) {
        Value *v = element(j), *m = b.CreateLoad(t, maxSlot);
        b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(v, m), v, m), maxSlot);
      },
      "j");
  Value *m = b.CreateLoad(t, maxSlot);
  b.CreateStore(constant(e, 0.0), sumSlot);
  forRange(
      0, n,
      [&](Value *j) {
        Value *ex = exp(b.CreateFSub(element(j), m));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(t, sumSlot), ex), sumSlot);
      },
      "j");
  return b.CreateFAdd(m, b.CreateUnaryIntrinsic(llvm::Intrinsic::log,
                                                b.CreateLoad(t, sumSlot)));
}

Value *KernelBuilder::callMath(llvm::StringRef floatName, Value *x) {
  // libm has no vector forms: a vector is computed lane by lane.
  if (auto *vec = llvm::dyn_cast<llvm::FixedVectorType>(x->getType())) {
    Value *out = llvm::PoisonValue::get(vec);
    for (unsigned i = 0; i < vec->getNumElements(); ++i)
      out = b.CreateInsertElement(
          out, callMath(floatName, b.CreateExtractElement(x, i)), i);
    return out;
  }
  llvm::Module *m = b.GetInsertBlock()->getModule();
  bool isDouble = x->getType()->isDoubleTy();
  std::string name =
      isDouble ? floatName.drop_back().str() : floatName.str(); // expf -> exp
  llvm::FunctionCallee f =
      m->getOrInsertFunction(name, x->getType(), x->getType());
  if (auto *fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
    fn->setDoesNotThrow();
    fn->setDoesNotAccessMemory();
  }
  return b.CreateCall(f, {x});
}

Value *KernelBuilder::cast(Value *v, ElementType from, ElementType to) {
  // Vectors convert lane by lane: the target type keeps v's shape.
  llvm::Type *t = v->getType()->getWithNewType(computeType(context(), to));
  if (from == to)
    return v;
  if (to == ElementType::I1)
    return isFloat(from)
               ? b.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0))
               : b.CreateICmpNE(v, llvm::ConstantInt::get(v->getType(), 0));
  if (isFloat(from) && isFloat(to))
    return b.CreateFPCast(v, t);
  if (isFloat(from)) {
    // Saturating, NaN to 0: the reference semantics of cast.
    auto id = to == ElementType::U8 ? llvm::Intrinsic::fptoui_sat
                                    : llvm::Intrinsic::fptosi_sat;
    return b.CreateIntrinsic(id, {t, v->getType()}, {v});
  }
  bool fromSigned = from == ElementType::I32;
  if (isFloat(to))
    return fromSigned ? b.CreateSIToFP(v, t) : b.CreateUIToFP(v, t);
  return b.CreateIntCast(v, t, fromSigned);
}

static bool isFloat16Vector(llvm::Type *t) {
  auto *v = llvm::dyn_cast<llvm::FixedVectorType>(t);
  return v && v->getNumElements() == 16 && v->getElementType()->isFloatTy();
}

Value *KernelBuilder::approximateSqrt(Value *x) {
  if (!approximate || !isFloat16Vector(x->getType()))
    return nullptr;
  llvm::Type *t = x->getType();
  auto splat = [&](double d) { return llvm::ConstantFP::get(t, d); };
  Value *y = b.CreateIntrinsic(
      llvm::Intrinsic::x86_avx512_rsqrt14_ps_512, {},
      {x, llvm::Constant::getNullValue(t), b.getInt16(0xFFFF)});
  // y = y * (1.5 - 0.5 x y^2): one Newton step for 1/sqrt(x).
  Value *halfXYY =
      b.CreateFMul(b.CreateFMul(splat(0.5), x), b.CreateFMul(y, y));
  y = b.CreateFMul(y, b.CreateFSub(splat(1.5), halfXYY));
  // sqrt(x) = x / sqrt(x); at x = 0 the estimate is infinite.
  Value *root = b.CreateFMul(x, y);
  return b.CreateSelect(b.CreateFCmpOEQ(x, splat(0.0)), splat(0.0), root);
}

Value *KernelBuilder::approximateDiv(Value *a, Value *d) {
  if (!approximate || !isFloat16Vector(d->getType()))
    return nullptr;
  llvm::Type *t = d->getType();
  Value *q = b.CreateIntrinsic(
      llvm::Intrinsic::x86_avx512_rcp14_ps_512, {},
      {d, llvm::Constant::getNullValue(t), b.getInt16(0xFFFF)});
  // q = q + q (1 - d q): one Newton step for 1/d.
  Value *error =
      b.CreateFSub(llvm::ConstantFP::get(t, 1.0), b.CreateFMul(d, q));
  q = b.CreateFAdd(q, b.CreateFMul(q, error));
  return b.CreateFMul(a, q);
}

} // namespace nnc::codegen
