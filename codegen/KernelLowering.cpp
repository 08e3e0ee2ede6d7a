//===- KernelLowering.cpp - Loop nests for single ops ---------------------===//
#include "codegen/KernelLowering.h"

#include <limits>

namespace nnc::codegen {

using llvm::Value;

namespace {

void forEachOwnedIndex(KernelBuilder &kb, llvm::ArrayRef<int64_t> shape,
                       ThreadInfo threads,
                       llvm::function_ref<void(llvm::ArrayRef<Value *>)> body) {
  kb.forEachOwnedIndex(shape, threads.index, threads.count, body);
}

void lowerElementwise(KernelBuilder &kb, const Op &op,
                      llvm::ArrayRef<TensorRef> in, const TensorRef &out,
                      ThreadInfo threads) {
  llvm::ArrayRef<int64_t> shape = out.type.shape();
  Shape outStrides = rowMajorStrides(shape);
  llvm::SmallVector<Shape, 3> inStrides;
  llvm::SmallVector<ElementType, 3> types;
  for (const TensorRef &t : in) {
    inStrides.push_back(broadcastStrides(t.type.shape(), shape));
    types.push_back(t.type.element());
  }
  forEachOwnedIndex(kb, shape, threads, [&](llvm::ArrayRef<Value *> idx) {
    llvm::SmallVector<Value *, 3> args;
    for (size_t k = 0; k < in.size(); ++k)
      args.push_back(in[k].load(kb, kb.linearIndex(idx, inStrides[k])));
    Value *v =
        op.is(OpKind::Broadcast) ? args[0] : kb.elementwise(op, args, types);
    kb.store(out.ptr, out.type.element(), kb.linearIndex(idx, outStrides), v);
  });
}

void lowerTranspose(KernelBuilder &kb, const Op &op, const TensorRef &in,
                    const TensorRef &out, ThreadInfo threads) {
  const std::vector<int64_t> &perm = op.attrs().getIntList("perm");
  Shape inStrides = rowMajorStrides(in.type.shape());
  Shape readStrides;
  for (int64_t p : perm)
    readStrides.push_back(inStrides[p]);
  Shape outStrides = rowMajorStrides(out.type.shape());
  forEachOwnedIndex(kb, out.type.shape(), threads,
                    [&](llvm::ArrayRef<Value *> idx) {
                      Value *v = in.load(kb, kb.linearIndex(idx, readStrides));
                      kb.store(out.ptr, out.type.element(),
                               kb.linearIndex(idx, outStrides), v);
                    });
}

/// reduce_sum, reduce_mean, reduce_max and argmax: the kept dimensions are
/// split between threads; each result element accumulates its reduced
/// elements in row-major order, as the reference does.
void lowerReduction(KernelBuilder &kb, const Op &op, const TensorRef &in,
                    const TensorRef &out, ThreadInfo threads) {
  llvm::IRBuilder<> &b = kb.builder();
  llvm::ArrayRef<int64_t> shape = in.type.shape();
  std::vector<int64_t> axes =
      op.is(OpKind::ArgMax) ? std::vector<int64_t>{op.attrs().getInt("axis")}
                            : op.attrs().getIntList("axes");
  Shape inStrides = rowMajorStrides(shape);
  Shape keptShape, keptInStrides, reducedShape, reducedInStrides;
  int64_t count = 1;
  for (unsigned d = 0; d < shape.size(); ++d) {
    if (llvm::is_contained(axes, int64_t(d))) {
      reducedShape.push_back(shape[d]);
      reducedInStrides.push_back(inStrides[d]);
      count *= shape[d];
    } else {
      keptShape.push_back(shape[d]);
      keptInStrides.push_back(inStrides[d]);
    }
  }
  Shape outStrides = rowMajorStrides(keptShape);
  ElementType e = in.type.element();
  llvm::Type *accType = computeType(kb.context(), e);
  bool isMax = op.is(OpKind::ReduceMax) || op.is(OpKind::ArgMax);
  double init = isMax
                    ? (isFloat(e) ? -std::numeric_limits<double>::infinity()
                                  : double(std::numeric_limits<int32_t>::min()))
                    : 0.0;

  forEachOwnedIndex(kb, keptShape, threads, [&](llvm::ArrayRef<Value *> kept) {
    Value *base = kb.linearIndex(kept, keptInStrides);
    llvm::AllocaInst *acc = kb.entryAlloca(accType);
    llvm::AllocaInst *best = kb.entryAlloca(b.getInt64Ty());
    b.CreateStore(kb.constant(e, init), acc);
    b.CreateStore(b.getInt64(0), best);
    Value *k = nullptr; // position along the argmax axis
    kb.forEachIndex(reducedShape, [&](llvm::ArrayRef<Value *> red) {
      k = red.empty() ? b.getInt64(0) : red[0];
      Value *x =
          in.load(kb, b.CreateAdd(base, kb.linearIndex(red, reducedInStrides)));
      Value *a = b.CreateLoad(accType, acc);
      if (isMax) {
        // Strictly greater: the first maximum wins and NaN never does.
        Value *greater =
            isFloat(e) ? b.CreateFCmpOGT(x, a) : b.CreateICmpSGT(x, a);
        b.CreateStore(b.CreateSelect(greater, x, a), acc);
        b.CreateStore(
            b.CreateSelect(greater, k, b.CreateLoad(b.getInt64Ty(), best)),
            best);
      } else {
        b.CreateStore(isFloat(e) ? b.CreateFAdd(a, x) : b.CreateAdd(a, x), acc);
      }
    });
    Value *result = b.CreateLoad(accType, acc);
    if (op.is(OpKind::ArgMax))
      result =
          b.CreateTrunc(b.CreateLoad(b.getInt64Ty(), best), b.getInt32Ty());
    else if (op.is(OpKind::ReduceMean))
      result = isFloat(e) ? b.CreateFDiv(result, kb.constant(e, double(count)))
                          : b.CreateSDiv(result, kb.constant(e, double(count)));
    kb.store(out.ptr, out.type.element(), kb.linearIndex(kept, outStrides),
             result);
  });
}

/// C = op(A) op(B), row by row: C[i,:] accumulates A(i,k) * B(k,:) over k in
/// order, so each element sums its products in the reference's order.
void lowerMatMul(KernelBuilder &kb, const Op &op, const TensorRef &a,
                 const TensorRef &bm, const TensorRef &c, ThreadInfo threads) {
  llvm::IRBuilder<> &b = kb.builder();
  bool ta = op.attrs().getBool("transpose_a"),
       tb = op.attrs().getBool("transpose_b");
  int64_t m = c.type.dim(0), n = c.type.dim(1);
  int64_t depth = ta ? a.type.dim(0) : a.type.dim(1);
  int64_t aCols = a.type.dim(1), bCols = bm.type.dim(1);
  ElementType e = c.type.element();
  auto [begin, end] = kb.threadRange(m, threads.index, threads.count);
  kb.forRange(
      begin, end,
      [&](Value *i) {
        Value *row = b.CreateMul(i, kb.index(n));
        kb.forRange(
            0, n,
            [&](Value *j) {
              kb.store(c.ptr, e, b.CreateAdd(row, j), kb.constant(e, 0.0));
            },
            "j");
        kb.forRange(
            0, depth,
            [&](Value *k) {
              Value *aIndex =
                  ta ? b.CreateAdd(b.CreateMul(k, kb.index(aCols)), i)
                     : b.CreateAdd(b.CreateMul(i, kb.index(aCols)), k);
              Value *aik = a.load(kb, aIndex);
              kb.forRange(
                  0, n,
                  [&](Value *j) {
                    Value *bIndex =
                        tb ? b.CreateAdd(b.CreateMul(j, kb.index(bCols)), k)
                           : b.CreateAdd(b.CreateMul(k, kb.index(bCols)), j);
                    Value *cIndex = b.CreateAdd(row, j);
                    Value *sum =
                        b.CreateFAdd(kb.load(c.ptr, e, cIndex),
                                     b.CreateFMul(aik, bm.load(kb, bIndex)));
                    kb.store(c.ptr, e, cIndex, sum);
                  },
                  "j");
            },
            "k");
      },
      "i");
}

/// softmax, log_softmax and softmax_cross_entropy work row by row along the
/// last axis: the maximum, then the sum of exponentials.
void lowerRowwise(KernelBuilder &kb, const Op &op, llvm::ArrayRef<TensorRef> in,
                  const TensorRef &out, ThreadInfo threads) {
  llvm::IRBuilder<> &b = kb.builder();
  const TensorRef &x = in[0];
  int64_t cols = x.type.dim(x.type.rank() - 1);
  int64_t rows = x.type.numElements() / cols;
  ElementType e = x.type.element();
  auto [begin, end] = kb.threadRange(rows, threads.index, threads.count);
  kb.forRange(
      begin, end,
      [&](Value *r) {
        Value *rowStart = b.CreateMul(r, kb.index(cols));
        auto at = [&](Value *j) { return b.CreateAdd(rowStart, j); };
        Value *lse =
            kb.logSumExp(cols, e, [&](Value *j) { return x.load(kb, at(j)); });
        if (op.is(OpKind::SoftmaxCrossEntropy)) {
          // A label outside [0, classes) gives NaN: the step cannot report an
          // error, and must not read outside the row. The runtime checks labels
          // when it loads them.
          Value *label = b.CreateSExt(in[1].load(kb, r), b.getInt64Ty());
          Value *valid = b.CreateAnd(b.CreateICmpSGE(label, kb.index(0)),
                                     b.CreateICmpSLT(label, kb.index(cols)));
          Value *safe = b.CreateSelect(valid, label, kb.index(0));
          Value *loss = b.CreateFSub(lse, x.load(kb, at(safe)));
          loss = b.CreateSelect(
              valid, loss,
              kb.constant(e, std::numeric_limits<double>::quiet_NaN()));
          kb.store(out.ptr, e, r, loss);
          return;
        }
        kb.forRange(
            0, cols,
            [&](Value *j) {
              Value *shifted = b.CreateFSub(x.load(kb, at(j)), lse);
              Value *v = op.is(OpKind::LogSoftmax) ? shifted : kb.exp(shifted);
              kb.store(out.ptr, e, at(j), v);
            },
            "j");
      },
      "row");
}

void lowerOneHot(KernelBuilder &kb, const Op &op, const TensorRef &labels,
                 const TensorRef &out, ThreadInfo threads) {
  llvm::IRBuilder<> &b = kb.builder();
  int64_t depth = op.attrs().getInt("depth");
  int64_t rows = labels.type.numElements();
  ElementType e = out.type.element();
  auto [begin, end] = kb.threadRange(rows, threads.index, threads.count);
  kb.forRange(
      begin, end,
      [&](Value *r) {
        Value *label = b.CreateSExt(labels.load(kb, r), b.getInt64Ty());
        Value *rowStart = b.CreateMul(r, kb.index(depth));
        kb.forRange(
            0, depth,
            [&](Value *j) {
              Value *hot = b.CreateICmpEQ(j, label);
              kb.store(out.ptr, e, b.CreateAdd(rowStart, j),
                       b.CreateSelect(hot, kb.constant(e, 1.0),
                                      kb.constant(e, 0.0)));
            },
            "j");
      },
      "row");
}

void lowerCopy(KernelBuilder &kb, const TensorRef &value, const TensorRef &out,
               ThreadInfo threads) {
  Shape strides = rowMajorStrides(out.type.shape());
  forEachOwnedIndex(
      kb, out.type.shape(), threads, [&](llvm::ArrayRef<Value *> idx) {
        Value *i = kb.linearIndex(idx, strides);
        kb.store(out.ptr, out.type.element(), i, value.load(kb, i));
      });
}

} // namespace

bool lowerOp(KernelBuilder &kb, const Op &op, llvm::ArrayRef<TensorRef> in,
             llvm::ArrayRef<TensorRef> out, ThreadInfo threads) {
  switch (op.kind()) {
  case OpKind::Transpose:
    lowerTranspose(kb, op, in[0], out[0], threads);
    return true;
  case OpKind::Reshape:  // a copy, where it cannot share its operand's buffer
  case OpKind::Constant: // materialised in memory: its value is in[0]
    lowerCopy(kb, in[0], out[0], threads);
    return true;
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax:
  case OpKind::ArgMax:
    lowerReduction(kb, op, in[0], out[0], threads);
    return true;
  case OpKind::MatMul:
    lowerMatMul(kb, op, in[0], in[1], out[0], threads);
    return true;
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::SoftmaxCrossEntropy:
    lowerRowwise(kb, op, in, out[0], threads);
    return true;
  case OpKind::OneHot:
    lowerOneHot(kb, op, in[0], out[0], threads);
    return true;
  default:
    break;
  }
  if (op.def().fusion == FusionClass::Elementwise || op.is(OpKind::Broadcast)) {
    lowerElementwise(kb, op, in, out[0], threads);
    return true;
  }
  return false;
}

} // namespace nnc::codegen
