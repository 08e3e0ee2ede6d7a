//===- ContractionKernel.cpp - Register-tiled products with epilogues -----===//
//
// C = op(A) op(B) with the epilogue applied while C is still in registers.
// The output is cut into tiles of a few rows by up to four vectors of
// columns (16 accumulators in all); each tile keeps its sums in registers while
// k runs, each step loading a few vectors of B's row k and broadcasting one
// element of A per tile row, so that every loaded value feeds several FMAs. The
// columns are split between threads in whole tiles when there are enough of
// them, the rows otherwise, so that a thread keeps its slice of a weight (and
// the optimizer state beside it) in its own cache from step to step.
//
// For a long k, the k loop is blocked so that a block of B stays in L1 while
// every row tile uses it; partial sums then go through the first output
// buffer the kernel writes but does not read. A transposed B is packed one
// column tile at a time (PanelPacking.cpp); over a mostly-zero A the tiles
// visit only its non-zero depths (SparseContraction.cpp).
//
//===----------------------------------------------------------------------===//
#include "codegen/ContractionEmitter.h"

#include "llvm/IR/Intrinsics.h"

namespace nnc::codegen {

using llvm::Value;

ContractionShape ContractionShape::of(const KernelFormInfo &info) {
  ContractionShape s;
  s.ta = info.shape.transposeA;
  s.tb = info.shape.transposeB;
  s.m = info.shape.m;
  s.n = info.shape.n;
  s.depth = info.shape.depth;
  return s;
}

bool contractionReadsAByOwner(const KernelFormInfo &info,
                              const ContractionOptions &options) {
  ContractionShape s = ContractionShape::of(info);
  return (splitsDepth(s, /*threaded=*/true) && !s.ta) ||
         usesDepthMasks(s, options.vectorWidth, options.skipZeroRows);
}

ContractionEmitter::ContractionEmitter(KernelBuilder &kb, const Graph &body,
                                       const KernelFormInfo &info,
                                       llvm::ArrayRef<TensorRef> inputs,
                                       llvm::ArrayRef<TensorRef> outputs,
                                       ThreadInfo threads,
                                       const ContractionOptions &options)
    : KernelSite{kb, kb.builder(), body, info, inputs, outputs, threads},
      vw(options.vectorWidth), skipZeros(options.skipZeroRows),
      compressInRegisters(options.avx512Compress),
      aMostlyZero(options.aMostlyZero), aBlocked(options.aBlockedByOwner) {
  const Op &product = *info.product;
  ContractionShape shape = ContractionShape::of(info);
  ta = shape.ta;
  tb = shape.tb;
  m = shape.m;
  n = shape.n;
  depth = shape.depth;
  for (unsigned i = 0; i < body.numArguments(); ++i)
    argIndex[body.argument(i)] = i;
  a = inputs[argIndex.lookup(product.operand(info.shape.lhs))];
  bIn = inputs[argIndex.lookup(product.operand(info.shape.rhs))];
  ft = llvm::Type::getFloatTy(b.getContext());
  vt = llvm::FixedVectorType::get(ft, vw);
  int64_t vectors = (n + vw - 1) / vw;
  vectorsPerTile = std::min(vectors, kMaxVectorsPerTile);
  rowTile = std::clamp<int64_t>(kAccumulators / vectorsPerTile, 4, 8);
  depthBlock = std::clamp<int64_t>(
      kBlockBytes / (vw * vectorsPerTile * int64_t(sizeof(float))), 16,
      kMaxDepthBlock);
  if (skipZeros && !options.aMostlyZero &&
      ((ta && vectors < 4) || (!ta && !tb && vectors == 1))) {
    // Narrow products over a relu's output (the head's H W and H^T dY) do
    // better dense: their tiles share one list of depths among 8 rows (A
    // transposed), of which nearly every depth is non-zero in some row, or
    // feed only two FMAs a visited depth (one vector of columns). Measured
    // against the sparse tiles (best calls, four interleaved one-thread
    // runs): the wide model's H2^T dlogits with its Adam update 23.8-24.4
    // us against 38.8-39.3, H2 W3 20.3-20.5 against 27.4-27.6; the seed
    // model's H1^T dlogits 2.5 against 3.5, H1 W2 1.2 against 1.5-1.6.
    skipZeros = false;
  }
  if (skipZeros && !ta && tb) {
    // The same over a packed panel of B, which keeps its width (so the
    // panel stays small) and a k block that fits L1.
    rowTile = kSparseRows;
    depthBlock = kSparsePackedDepthBlock;
  }
  if (skipZeros && !ta && !tb) {
    // Over a mostly-zero A stored by rows, tiles of few rows: the depths
    // skipped are those where every row of the tile is zero. On MNIST
    // batches a pixel is non-zero in 19% of images but in 39% of groups
    // of four, so one-row tiles of 8 vectors did half the FMAs of 4 x 4
    // tiles: the seed model's X W measured 16.1 us against 27.5 us (best
    // of 3000 calls, one thread). But a one-row tile loads a vector of B
    // per FMA, and a block of B larger than L1 streams from L2 at about
    // that rate; two rows share each load, and on the wide model's
    // hidden activations (41% non-zero, 61% for pairs of rows) that
    // wins: see kSparseRows.
    vectorsPerTile = std::min(vectors, kMaxVectorsPerSparseRow);
    rowTile = kSparseRows;
    depthBlock = kSparseDepthBlock;
  }
  // The lists of every group of rows live on the stack (see
  // accumulateByPattern): a product too large for that keeps its pairs.
  int64_t listBytes = (m + kPatternRows - 1) / kPatternRows * (depth + vw) *
                      int64_t(sizeof(int32_t));
  if (skipZeros && !ta && compressInRegisters &&
      vectors >= kMinPatternColumnTiles * kMaxVectorsPerTile &&
      listBytes <= kMaxPatternListBytes) {
    byPattern = true;
    rowTile = kPatternRows;
    vectorsPerTile = kMaxVectorsPerTile;
  }
}

void ContractionEmitter::emit() {
  scalars = std::make_unique<ScalarValues>(kb, body, info, inputs);
  int64_t tileCols = vw * vectorsPerTile;
  int64_t colTiles = (n + tileCols - 1) / tileCols;
  int64_t rowTiles = (m + rowTile - 1) / rowTile;
  if (splitsDepth()) {
    emitSplitDepth(colTiles, rowTiles);
    return;
  }
  if (usesDepthMasks()) {
    emitWithDepthMasks();
    return;
  }
  assert(!aBlocked && "A blocked by owner, read by a kernel that does not "
                      "read it by owner");
  pickScratch();

  // Rows to threads when there are enough to balance: each thread then
  // owns a contiguous block of the output (and of the variables an update
  // epilogue writes), so no cache line, nor the line a prefetcher fetches
  // next to it, goes back and forth between cores. Columns when rows are
  // few and each thread can have a column tile of its own.
  // A transposed B is packed per column tile: splitting the columns has
  // each thread pack only its own (of a weight stored [n, depth], the
  // rows it owns) instead of all of them.
  bool splitColumns =
      colTiles >= 2 &&
      (m < kMinRowsToSplit ||
       (tb && colTiles >= kMinPackedTiles && m < kMinRowsOverPacking));
  Value *begin, *end;
  if (splitColumns) {
    std::tie(begin, end) =
        kb.threadRange(colTiles, threads.index, threads.count);
  } else if (kRowGranule % rowTile == 0) {
    // The rows this thread owns (of a weight, when this is its update),
    // as whole tiles.
    auto [rowBegin, rowEnd] = kb.ownedRows(m, threads.index, threads.count);
    begin = b.CreateUDiv(rowBegin, kb.index(rowTile));
    end = b.CreateUDiv(b.CreateAdd(rowEnd, kb.index(rowTile - 1)),
                       kb.index(rowTile));
  } else {
    std::tie(begin, end) =
        kb.threadRange(rowTiles, threads.index, threads.count);
  }
  int64_t blocks = scratch ? (depth + depthBlock - 1) / depthBlock : 1;
  int64_t blockDepth = scratch ? depthBlock : depth;

  auto forTiles = [&](Value *rowBegin, Value *rowEnd, Value *colBegin,
                      Value *colEnd) {
    kb.forRange(
        colBegin, colEnd,
        [&](Value *ct) {
          Value *col0 = b.CreateMul(ct, kb.index(tileCols));
          if (tb)
            packPanel(col0);
          kb.forRange(
              0, blocks,
              [&](Value *kblk) {
                Value *k0 = b.CreateMul(kblk, kb.index(blockDepth));
                Value *k1 = b.CreateBinaryIntrinsic(
                    llvm::Intrinsic::smin, kb.index(depth),
                    b.CreateAdd(k0, kb.index(blockDepth)));
                Value *first = b.CreateICmpEQ(kblk, kb.index(0));
                Value *last = b.CreateICmpEQ(kblk, kb.index(blocks - 1));
                Value *fresh = b.CreateICmpEQ(ct, colBegin);
                kb.forRange(
                    rowBegin, rowEnd,
                    [&](Value *rt) {
                      Value *row0 = b.CreateMul(rt, kb.index(rowTile));
                      emitTile(row0, col0, k0, k1, first, last, kblk, fresh);
                    },
                    "rt");
              },
              "kb");
        },
        "ct");
  };
  if (splitColumns)
    forTiles(kb.index(0), kb.index(rowTiles), begin, end);
  else
    forTiles(begin, end, kb.index(0), kb.index(colTiles));
}

void ContractionEmitter::emitSplitDepth(int64_t colTiles, int64_t rowTiles) {
  int64_t tileCols = vw * vectorsPerTile;
  // Each partial starts on a cache line.
  int64_t partialFloats = (m * n + 15) / 16 * 16;
  kb.requireThreadScratch(partialFloats * int64_t(sizeof(float)));
  llvm::Type *i64 = b.getInt64Ty();
  Value *tid = b.CreateSExt(threads.index, i64);
  Value *count = b.CreateSExt(threads.count, i64);
  auto partialOf = [&](Value *t) {
    return b.CreateInBoundsGEP(ft, threads.scratch,
                               b.CreateMul(t, kb.index(partialFloats)));
  };
  scratch = partialOf(tid);

  auto [kBegin, kEnd] = kb.ownedRows(depth, threads.index, threads.count);
  if (aBlocked) {
    assert(!ta && "A blocked by owner, split by the rows it is stored in");
    useOwnBlockOfA(m, kBegin, kEnd);
  }
  // At least one block, so that a thread without depth stores zeros.
  Value *blocks = b.CreateBinaryIntrinsic(
      llvm::Intrinsic::smax, kb.index(1),
      b.CreateUDiv(
          b.CreateAdd(b.CreateSub(kEnd, kBegin), kb.index(depthBlock - 1)),
          kb.index(depthBlock)));
  kb.forRange(
      0, colTiles,
      [&](Value *ct) {
        Value *col0 = b.CreateMul(ct, kb.index(tileCols));
        kb.forRange(
            kb.index(0), blocks,
            [&](Value *kblk) {
              Value *k0 =
                  b.CreateAdd(kBegin, b.CreateMul(kblk, kb.index(depthBlock)));
              Value *k1 = b.CreateBinaryIntrinsic(
                  llvm::Intrinsic::smin, kEnd,
                  b.CreateAdd(k0, kb.index(depthBlock)));
              Value *first = b.CreateICmpEQ(kblk, kb.index(0));
              Value *fresh = b.CreateICmpEQ(ct, kb.index(0));
              kb.forRange(
                  0, rowTiles,
                  [&](Value *rt) {
                    Value *row0 = b.CreateMul(rt, kb.index(rowTile));
                    emitTile(row0, col0, k0, k1, first, b.getFalse(), kblk,
                             fresh);
                  },
                  "rt");
            },
            "kb");
      },
      "ct");

  auto *barrierType = llvm::FunctionType::get(
      b.getVoidTy(), {llvm::PointerType::getUnqual(b.getContext())}, false);
  b.CreateCall(barrierType, threads.barrier, {threads.barrierState});

  auto [rowBegin, rowEnd] = kb.threadRange(m, threads.index, threads.count);
  int64_t vectors = (n + vw - 1) / vw;
  llvm::AllocaInst *sum = kb.entryAlloca(vt);
  kb.forRange(
      rowBegin, rowEnd,
      [&](Value *row) {
        kb.forRangeRolled(
            0, vectors,
            [&](Value *v) {
              Value *col = b.CreateMul(v, kb.index(vw));
              Value *mask = columnsDivide() ? nullptr : laneMask(col);
              Value *at = cIndex(row, col);
              b.CreateStore(loadVector(partialOf(kb.index(0)), ElementType::F32,
                                       at, mask),
                            sum);
              kb.forRange(
                  kb.index(1), count,
                  [&](Value *t) {
                    b.CreateStore(
                        b.CreateFAdd(b.CreateLoad(vt, sum),
                                     loadVector(partialOf(t), ElementType::F32,
                                                at, mask)),
                        sum);
                  },
                  "t");
              emitEpilogue(b.CreateLoad(vt, sum), row, col, mask);
            },
            "v");
      },
      "row");
}

void ContractionEmitter::emitTile(Value *row0, Value *col0, Value *k0,
                                  Value *k1, Value *first, Value *last,
                                  Value *block, Value *freshLists) {
  llvm::SmallVector<TileColumn, 4> cols;
  for (int64_t v = 0; v < vectorsPerTile; ++v)
    cols.push_back(tileColumn(col0, kb.index(v)));
  // Rows past m read row m-1 and are not stored.
  llvm::SmallVector<Value *, 4> rows;
  for (int64_t r = 0; r < rowTile; ++r) {
    Value *row = b.CreateAdd(row0, kb.index(r));
    rows.push_back(b.CreateSelect(b.CreateICmpSLT(row, kb.index(m)), row,
                                  kb.index(m - 1)));
  }

  llvm::SmallVector<llvm::AllocaInst *, 16> acc;
  for (int64_t i = 0; i < rowTile * vectorsPerTile; ++i) {
    acc.push_back(kb.entryAlloca(vt));
    b.CreateStore(llvm::Constant::getNullValue(vt), acc.back());
  }
  if (scratch)
    kb.ifThen(
        b.CreateNot(first),
        [&] {
          for (int64_t r = 0; r < rowTile; ++r)
            for (int64_t v = 0; v < vectorsPerTile; ++v)
              b.CreateStore(loadVector(scratch, ElementType::F32,
                                       cIndex(rows[r], cols[v].col),
                                       vectorMask(cols[v])),
                            acc[r * vectorsPerTile + v]);
        },
        "resume");

  auto step = [&](Value *k) { accumulateDepth(k, col0, cols, rows, acc); };
  if (byPattern) {
    accumulateByPattern(row0, rows, col0, cols, k0, k1, block, freshLists, acc);
  } else if (skipZeros) {
    // Only the depths where some row of the tile is not zero.
    Value *count = collectNonzeroDepths(rows, k0, k1);
    kb.forRange(
        kb.index(0), count,
        [&](Value *t) {
          step(b.CreateSExt(
              b.CreateLoad(b.getInt32Ty(),
                           b.CreateInBoundsGEP(b.getInt32Ty(), depthList, t)),
              b.getInt64Ty()));
        },
        "nz");
  } else if (prefetchesRowsAhead()) {
    kb.forRange(
        k0, k1,
        [&](Value *k) {
          prefetchRowsAhead(row0, k);
          step(k);
        },
        "k");
  } else {
    kb.forRange(k0, k1, step, "k");
  }

  // The last k block applies the epilogue, the others store the
  // partial sums.
  forEachTileVector(
      row0, col0, kb.index(m), acc, tileBuffer(),
      [&](Value *sum, Value *row, const TileColumn &c) {
        if (!scratch) {
          emitEpilogue(sum, row, c.col, c.mask);
          return;
        }
        llvm::Function *f = b.GetInsertBlock()->getParent();
        auto *finish = llvm::BasicBlock::Create(b.getContext(), "finish", f);
        auto *partial = llvm::BasicBlock::Create(b.getContext(), "partial", f);
        auto *join = llvm::BasicBlock::Create(b.getContext(), "join", f);
        b.CreateCondBr(last, finish, partial);
        b.SetInsertPoint(finish);
        emitEpilogue(sum, row, c.col, c.mask);
        b.CreateBr(join);
        b.SetInsertPoint(partial);
        storeVector(scratch, ElementType::F32, cIndex(row, c.col), sum, c.mask);
        b.CreateBr(join);
        b.SetInsertPoint(join);
      });
}

void ContractionEmitter::forEachTileVector(
    Value *row0, Value *col0, Value *rowEnd,
    llvm::ArrayRef<llvm::AllocaInst *> acc, llvm::AllocaInst *tile,
    llvm::function_ref<void(Value *, Value *, const TileColumn &)> finish) {
  if (rowTile * vectorsPerTile <= kMaxUnrolledEpilogueVectors) {
    for (int64_t r = 0; r < rowTile; ++r) {
      Value *row = b.CreateAdd(row0, kb.index(r));
      for (int64_t v = 0; v < vectorsPerTile; ++v) {
        TileColumn c = tileColumn(col0, kb.index(v));
        Value *sum = b.CreateLoad(vt, acc[r * vectorsPerTile + v]);
        kb.ifThen(
            b.CreateAnd(b.CreateICmpSLT(row, rowEnd), c.valid),
            [&] { finish(sum, row, c); }, "tile.store");
      }
    }
    return;
  }
  for (int64_t i = 0; i < rowTile * vectorsPerTile; ++i)
    b.CreateStore(b.CreateLoad(vt, acc[i]),
                  b.CreateConstInBoundsGEP1_64(vt, tile, i));
  kb.forRangeRolled(
      0, rowTile,
      [&](Value *r) {
        Value *row = b.CreateAdd(row0, r);
        kb.forRangeRolled(
            0, vectorsPerTile,
            [&](Value *v) {
              TileColumn c = tileColumn(col0, v);
              kb.ifThen(
                  b.CreateAnd(b.CreateICmpSLT(row, rowEnd), c.valid),
                  [&] {
                    Value *slot = b.CreateInBoundsGEP(
                        vt, tile,
                        b.CreateAdd(b.CreateMul(r, kb.index(vectorsPerTile)),
                                    v));
                    finish(b.CreateLoad(vt, slot), row, c);
                  },
                  "tile.store");
            },
            "v");
      },
      "r");
}

void ContractionEmitter::accumulateDepth(Value *k, Value *col0,
                                         llvm::ArrayRef<TileColumn> cols,
                                         llvm::ArrayRef<Value *> rows,
                                         llvm::ArrayRef<llvm::AllocaInst *> acc,
                                         unsigned rowSet) {
  llvm::SmallVector<Value *, 8> bv;
  for (int64_t v = 0; v < vectorsPerTile; ++v) {
    auto [ptr, index] = bAddress(k, cols[v].col, col0);
    bv.push_back(loadVector(ptr, ElementType::F32, index, vectorMask(cols[v])));
  }
  for (int64_t r = 0; r < rowTile; ++r) {
    if (!(rowSet >> r & 1))
      continue;
    Value *x = b.CreateVectorSplat(vw, aElement(rows[r], k));
    for (int64_t v = 0; v < vectorsPerTile; ++v) {
      llvm::AllocaInst *slot = acc[r * vectorsPerTile + v];
      b.CreateStore(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vt},
                                      {x, bv[v], b.CreateLoad(vt, slot)}),
                    slot);
    }
  }
}

void ContractionEmitter::emitEpilogue(Value *c, Value *row, Value *col,
                                      Value *mask) {
  llvm::DenseMap<const nnc::Value *, Value *> env;
  env[info.product->result()] = c;
  auto vectorOf = [&](const nnc::Value *v) -> Value * {
    if (Value *e = env.lookup(v))
      return e;
    if (Value *s = scalars->lookup(v))
      return b.CreateVectorSplat(vw, s);
    // A side input, broadcast to [m, n] by the element-wise kernels' rule
    // (a bias of [1] on a product of one column is one value, not one per
    // row): one value, one per row, a row vector, or C's shape.
    const TensorRef &in = inputs[argIndex.lookup(v)];
    Shape strides = broadcastStrides(v->type().shape(), {m, n});
    ElementType e = v->type().element();
    Value *x;
    if (strides[1] == 0)
      x = b.CreateVectorSplat(vw,
                              in.load(kb, kb.linearIndex({row, col}, strides)));
    else if (strides[0] == 0)
      x = loadVector(in.ptr, e, col, mask);
    else
      x = loadVector(in.ptr, e, cIndex(row, col), mask);
    env[v] = x;
    return x;
  };
  for (const Op &op : body.ops()) {
    if (&op == info.product || op.is(OpKind::Yield) ||
        info.phase.lookup(&op) == ValuePhase::Scalar)
      continue;
    if (op.is(OpKind::Constant)) {
      env[op.result()] =
          b.CreateVectorSplat(vw, kb.constant(op.result()->type().element(),
                                              op.attrs().getFloat("value")));
      continue;
    }
    llvm::SmallVector<Value *, 3> args;
    llvm::SmallVector<ElementType, 3> types;
    for (const nnc::Value *o : op.operands()) {
      args.push_back(vectorOf(o));
      types.push_back(o->type().element());
    }
    env[op.result()] = kb.elementwise(op, args, types);
  }
  const Op *yield = body.terminator();
  for (unsigned o = 0; o < yield->numOperands(); ++o) {
    const nnc::Value *v = yield->operand(o);
    storeVector(outputs[o].ptr, v->type().element(), cIndex(row, col),
                vectorOf(v), mask);
  }
}

llvm::SmallVector<Value *, 4> ContractionEmitter::epilogueStateInputs() {
  llvm::SmallVector<Value *, 4> state;
  for (const Op &op : body.ops()) {
    if (&op == info.product)
      continue;
    for (const nnc::Value *o : op.operands()) {
      auto it = argIndex.find(o);
      llvm::ArrayRef<int64_t> s = o->type().shape();
      if (it == argIndex.end() || o->type().element() != ElementType::F32 ||
          s.size() != 2 || s[0] != m || s[1] != n || m == 1)
        continue;
      if (!llvm::is_contained(state, inputs[it->second].ptr))
        state.push_back(inputs[it->second].ptr);
    }
  }
  return state;
}

void ContractionEmitter::prefetchTile(llvm::ArrayRef<Value *> state,
                                      Value *row0, Value *col0) {
  for (Value *p : state)
    for (int64_t r = 0; r < rowTile; ++r)
      for (int64_t v = 0; v < vectorsPerTile; ++v) {
        Value *at = cIndex(b.CreateAdd(row0, kb.index(r)),
                           b.CreateAdd(col0, kb.index(v * vw)));
        // Past the last tile the address is outside C; a prefetch of it
        // does not fault, and the GEP is not inbounds.
        b.CreateIntrinsic(llvm::Intrinsic::prefetch, {b.getPtrTy()},
                          {b.CreateGEP(ft, p, at), /*read*/ b.getInt32(0),
                           /*locality: L1*/ b.getInt32(3),
                           /*data*/ b.getInt32(1)});
      }
}

void ContractionEmitter::prefetchRowsAhead(Value *row, Value *k) {
  Value *index = b.CreateAdd(b.CreateMul(k, aRowStride()),
                             b.CreateAdd(row, kb.index(kPrefetchRowsAhead)));
  // Past the last row the address is outside A (the GEP is not inbounds);
  // a prefetch of it does not fault.
  llvm::Type *st = storageType(b.getContext(), a.type.element());
  b.CreateIntrinsic(llvm::Intrinsic::prefetch, {b.getPtrTy()},
                    {b.CreateGEP(st, a.ptr, index), /*read*/ b.getInt32(0),
                     /*locality: L1*/ b.getInt32(3), /*data*/ b.getInt32(1)});
}

void ContractionEmitter::pickScratch() {
  if (depth <= depthBlock)
    return;
  bool panelFitsL2 = depth * vw * vectorsPerTile * int64_t(sizeof(float)) <=
                     kMaxUnblockedPanelBytes;
  if (panelFitsL2 && m * n * int64_t(sizeof(float)) > kL2Bytes)
    return;
  const Op *yield = body.terminator();
  for (unsigned o = 0; o < yield->numOperands(); ++o) {
    if (yield->operand(o)->type().element() != ElementType::F32)
      continue;
    Value *p = outputs[o].ptr;
    bool aliased =
        llvm::any_of(inputs, [&](const TensorRef &t) { return t.ptr == p; });
    if (!aliased) {
      scratch = p;
      return;
    }
  }
  // Every output is updated in place (an optimizer's epilogue writes the
  // variable and its moments). A panel of B that fits in L2 then streams
  // from there; a larger one (a convolution's filter gradient, whose depth
  // is the batch's 15,488 output pixels) would come from memory for every
  // row tile, so the partial sums go to this thread's scratch instead.
  if (panelFitsL2)
    return;
  int64_t floats = (m * n + 15) / 16 * 16;
  kb.requireThreadScratch(floats * int64_t(sizeof(float)));
  scratch = b.CreateInBoundsGEP(
      ft, threads.scratch,
      b.CreateMul(b.CreateSExt(threads.index, b.getInt64Ty()),
                  kb.index(floats)));
}

bool splitsDepth(const ContractionShape &s, bool threaded) {
  return threaded && !s.tb && s.m < kMinRowsToSplit &&
         s.depth >= kMinSplitDepth &&
         s.depth * s.n * int64_t(sizeof(float)) >= kMinSplitDepthBytes;
}

void ContractionEmitter::useOwnBlockOfA(int64_t rows, Value *begin,
                                        Value *end) {
  aOrigin =
      b.CreateInBoundsGEP(ft, a.ptr, b.CreateMul(kb.index(rows - 1), begin));
  aStride = b.CreateSub(end, begin);
}

void emitContractionKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads,
                           const ContractionOptions &options) {
  ContractionEmitter(kb, body, info, inputs, outputs, threads, options).emit();
}

} // namespace nnc::codegen
