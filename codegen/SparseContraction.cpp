//===- SparseContraction.cpp - Products over a mostly-zero A --------------===//
//
// Tiles that visit only the depths where a row of A is not zero: a list of
// them per tile, compressed out of the rows in registers, for A stored by
// rows (the batch, a relu's output, a gradient through a relu); bit masks
// per row for A stored transposed (the weight gradient X^T dY, whose
// depth is the batch).
//
//===----------------------------------------------------------------------===//
#include "codegen/ContractionEmitter.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace nnc::codegen {

using llvm::Value;

bool usesDepthMasks(const ContractionShape &s, unsigned vw, bool skipZeros) {
  int64_t vectors = (s.n + vw - 1) / vw;
  return skipZeros && s.ta && !s.tb && s.depth <= kMaxMaskedDepth &&
         vectors >= 4 && s.m >= kMinRowsToSplit;
}

void ContractionEmitter::emitWithDepthMasks() {
  unsigned maskBits = depthMaskBits();
  int64_t words = (depth + maskBits - 1) / maskBits;
  llvm::IntegerType *maskType = b.getIntNTy(maskBits);
  // As many rows' masks as fill a vector register.
  unsigned groupRows = vw * 32 / maskBits;
  auto *maskVector = llvm::FixedVectorType::get(maskType, groupRows);
  auto *bitsVector = llvm::FixedVectorType::get(b.getInt32Ty(), groupRows);
  vectorsPerTile =
      std::min<int64_t>((n + vw - 1) / vw, kMaxVectorsPerSparseRow);
  int64_t tileCols = vw * vectorsPerTile;
  int64_t colTiles = (n + tileCols - 1) / tileCols;
  // A one-row tile loads a vector of B per FMA, which L1 sustains: the
  // seed model's X^T dY (B 32 x 128) took 19.4-19.6 us with one row and
  // 20.5-20.7 us with two. From L2 it does not: on the wide model (B
  // 128 x 512) X^T dH1 took 246-252 us with one row, 208-215 us with
  // two, and H1^T dH2 305-310 us against 277-294 us (best calls of an
  // epoch, two threads, with the Adam update).
  bool bInL1 = depth * tileCols * int64_t(sizeof(float)) <= kBlockBytes;
  rowTile = bInL1 ? 1 : kSparseRows;
  int64_t vectors = (n + vw - 1) / vw;
  if (!bInL1 && !aMostlyZero && compressInRegisters &&
      vectors >= kMinPatternColumnTiles * kMaxVectorsPerTile) {
    // Tiles by pattern (kPatternRows), the lists built from the masks once
    // for all the column tiles of the rows. Over a relu's output: the wide
    // model's H1^T dH2 with plain SGD took 455-463 us against 519-551 with
    // pairs (best calls, three interleaved runs, one thread). Not over the
    // batch, where a pair of rows is a pair of pixels, often non-zero
    // together: pairs visit 0.22 of the depths where 0.19 are needed, and
    // X^T dH1 took 288-310 us by pattern against 280-293.
    byPattern = true;
    rowTile = kPatternRows;
    vectorsPerTile = kMaxVectorsPerTile;
    tileCols = vw * vectorsPerTile;
    colTiles = (n + tileCols - 1) / tileCols;
    // One group's lists at a time, for the whole depth.
    allocatePatternLists(depth + vw, 1, (depth + vw - 1) / vw);
  }

  // masks[w][r]: word w of row group + r.
  llvm::AllocaInst *masks = kb.entryAlloca(maskType, words * groupRows);
  llvm::SmallVector<llvm::AllocaInst *, 16> acc;
  for (int64_t i = 0; i < rowTile * vectorsPerTile; ++i)
    acc.push_back(kb.entryAlloca(vt));
  llvm::AllocaInst *tile = tileBuffer();

  auto [rowBegin, rowEnd] = kb.ownedRows(m, threads.index, threads.count);
  if (aBlocked)
    useOwnBlockOfA(depth, rowBegin, rowEnd);
  // Whether a thread's share of the state is large enough to prefetch
  // depends on the thread count, which is known only when the step runs.
  llvm::SmallVector<Value *, 4> state = epilogueStateInputs();
  int64_t stateBytes = int64_t(state.size()) * m * n * int64_t(sizeof(float));
  Value *prefetchState = nullptr;
  if (stateBytes >= kMinPrefetchedStateBytes)
    prefetchState = b.CreateICmpSGE(
        kb.index(stateBytes),
        b.CreateMul(kb.index(kMinPrefetchedStateBytes),
                    b.CreateZExt(threads.count, b.getInt64Ty())));
  Value *magnitude = b.CreateVectorSplat(groupRows, b.getInt32(0x7fffffff));
  llvm::AllocaInst *wordBits = kb.entryAlloca(maskVector);
  kb.forRange(
      rowBegin, rowEnd,
      [&](Value *group) {
        Value *inside =
            b.CreateICmpSLT(b.CreateAdd(b.CreateVectorSplat(groupRows, group),
                                        groupLaneIndex(groupRows)),
                            b.CreateVectorSplat(groupRows, rowEnd));
        // A loop over the depths of each word, not unrolled: unrolled, the
        // compares were half the code of the wide model's weight gradients.
        for (int64_t w = 0; w < words; ++w) {
          b.CreateStore(llvm::Constant::getNullValue(maskVector), wordBits);
          kb.forRangeRolled(
              w * maskBits, std::min<int64_t>(depth, (w + 1) * maskBits),
              [&](Value *k) {
                Value *at = b.CreateInBoundsGEP(
                    b.getFloatTy(), aBase(),
                    b.CreateAdd(b.CreateMul(k, aRowStride()), group));
                Value *x = b.CreateMaskedLoad(
                    bitsVector, at, llvm::Align(4), inside,
                    llvm::Constant::getNullValue(bitsVector));
                Value *nonzero =
                    b.CreateICmpNE(b.CreateAnd(x, magnitude),
                                   llvm::Constant::getNullValue(bitsVector));
                Value *bit = b.CreateShl(
                    llvm::ConstantInt::get(maskType, 1),
                    b.CreateTrunc(b.CreateSub(k, kb.index(w * maskBits)),
                                  maskType));
                Value *bits = b.CreateLoad(maskVector, wordBits);
                b.CreateStore(
                    b.CreateOr(bits,
                               b.CreateSelect(
                                   nonzero, b.CreateVectorSplat(groupRows, bit),
                                   llvm::Constant::getNullValue(maskVector))),
                    wordBits);
              },
              "maskbits");
          b.CreateAlignedStore(
              b.CreateLoad(maskVector, wordBits),
              b.CreateConstInBoundsGEP1_64(maskType, masks, w * groupRows),
              llvm::Align(64));
        }
        Value *groupEnd =
            b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, rowEnd,
                                    b.CreateAdd(group, kb.index(groupRows)));
        // Rows in tiles of rowTile: groupRows is a multiple of it, and a
        // row past rowEnd has a mask of zeros.
        kb.forRange(
            group, groupEnd,
            [&](Value *row) {
              Value *rowMasks =
                  b.CreateInBoundsGEP(maskType, masks, b.CreateSub(row, group));
              if (byPattern)
                listMaskedPatterns(rowMasks, words, groupRows);
              kb.forRange(
                  0, colTiles,
                  [&](Value *ct) {
                    Value *col0 = b.CreateMul(ct, kb.index(tileCols));
                    emitMaskedRows(row, rowEnd, col0, rowMasks, words,
                                   groupRows, acc, tile, state, prefetchState);
                  },
                  "ct");
            },
            "r", rowTile);
      },
      "group", groupRows);
}

void ContractionEmitter::listMaskedPatterns(Value *rowMasks, int64_t words,
                                            int64_t stride) {
  unsigned maskBits = depthMaskBits();
  llvm::IntegerType *maskType = b.getIntNTy(maskBits);
  llvm::IntegerType *wordType = b.getIntNTy(vw);
  // The masks' bits, vw at a time: a row past the thread's rows has a mask
  // of zeros, so it is in no pattern.
  for (int64_t r = 0; r < rowTile; ++r)
    for (int64_t w = 0; w < words; ++w) {
      Value *mask = b.CreateLoad(
          maskType,
          b.CreateConstInBoundsGEP1_64(maskType, rowMasks, w * stride + r));
      for (unsigned j = 0; j < maskBits / vw; ++j) {
        int64_t word = (w * maskBits + j * vw) / vw;
        if (word >= rowBitWords)
          break;
        b.CreateStore(b.CreateTrunc(b.CreateLShr(mask, j * vw), wordType),
                      rowBitsAt(r, kb.index(word)));
      }
    }
  listPatterns(kb.index(0), kb.index(rowBitWords), patternList, patternEnds);
}

Value *ContractionEmitter::groupLaneIndex(unsigned lanes) {
  llvm::SmallVector<llvm::Constant *, 16> steps;
  for (unsigned i = 0; i < lanes; ++i)
    steps.push_back(b.getInt64(i));
  return llvm::ConstantVector::get(steps);
}

void ContractionEmitter::emitMaskedRows(Value *row0, Value *rowEnd, Value *col0,
                                        Value *rowMasks, int64_t words,
                                        int64_t stride,
                                        llvm::ArrayRef<llvm::AllocaInst *> acc,
                                        llvm::AllocaInst *tile,
                                        llvm::ArrayRef<Value *> state,
                                        Value *prefetchState) {
  llvm::SmallVector<TileColumn, 8> cols;
  for (int64_t v = 0; v < vectorsPerTile; ++v)
    cols.push_back(tileColumn(col0, kb.index(v)));
  // Rows past m read row m - 1, and past this thread's rows its last when
  // A is blocked by owner (only its own rows are in its block); they are
  // not stored.
  llvm::SmallVector<Value *, 2> rows;
  Value *lastRow =
      aBlocked ? b.CreateSub(rowEnd, kb.index(1)) : kb.index(m - 1);
  for (int64_t r = 0; r < rowTile; ++r)
    rows.push_back(b.CreateBinaryIntrinsic(
        llvm::Intrinsic::smin, b.CreateAdd(row0, kb.index(r)), lastRow));
  for (llvm::AllocaInst *slot : acc)
    b.CreateStore(llvm::Constant::getNullValue(vt), slot);
  if (prefetchState) {
    // The tile after next (kPrefetchTilesAhead): further columns, or the
    // first ones of the next rows, if this thread owns them.
    int64_t tileCols = vw * vectorsPerTile;
    int64_t rowSpan = (n + tileCols - 1) / tileCols * tileCols;
    Value *ahead = b.CreateAdd(col0, kb.index(kPrefetchTilesAhead * tileCols));
    Value *nextRow =
        b.CreateAdd(row0, b.CreateMul(b.CreateUDiv(ahead, kb.index(rowSpan)),
                                      kb.index(rowTile)));
    Value *nextCol = b.CreateURem(ahead, kb.index(rowSpan));
    kb.ifThen(
        b.CreateAnd(prefetchState, b.CreateICmpSLT(nextRow, rowEnd)),
        [&] { prefetchTile(state, nextRow, nextCol); }, "prefetch");
  }
  if (byPattern) {
    accumulatePatterns(patternList, patternEnds, col0, cols, rows, acc);
    forEachTileVector(row0, col0, rowEnd, acc, tile,
                      [&](Value *sum, Value *row, const TileColumn &c) {
                        emitEpilogue(sum, row, c.col, c.mask);
                      });
    return;
  }
  unsigned maskBits = depthMaskBits();
  llvm::Type *maskType = b.getIntNTy(maskBits);
  Value *zero = llvm::ConstantInt::get(maskType, 0);
  llvm::Function *f = b.GetInsertBlock()->getParent();
  // The words are unrolled: there are at most a few, and each is a loop
  // over its set bits.
  for (int64_t w = 0; w < words; ++w) {
    Value *mask = zero;
    for (int64_t r = 0; r < rowTile; ++r)
      mask = b.CreateOr(
          mask,
          b.CreateLoad(maskType, b.CreateConstInBoundsGEP1_64(
                                     maskType, rowMasks, w * stride + r)));
    llvm::BasicBlock *entry = b.GetInsertBlock();
    auto *loop = llvm::BasicBlock::Create(b.getContext(), "depth", f);
    auto *done = llvm::BasicBlock::Create(b.getContext(), "depth.done", f);
    b.CreateCondBr(b.CreateICmpNE(mask, zero), loop, done);
    b.SetInsertPoint(loop);
    llvm::PHINode *bits = b.CreatePHI(maskType, 2, "bits");
    bits->addIncoming(mask, entry);
    Value *k =
        b.CreateAdd(b.CreateZExt(b.CreateBinaryIntrinsic(llvm::Intrinsic::cttz,
                                                         bits, b.getTrue()),
                                 b.getInt64Ty()),
                    kb.index(w * maskBits));
    Value *remaining = b.CreateAnd(
        bits, b.CreateSub(bits, llvm::ConstantInt::get(maskType, 1)));
    accumulateDepth(k, col0, cols, rows, acc);
    bits->addIncoming(remaining, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpNE(remaining, zero), loop, done);
    b.SetInsertPoint(done);
  }

  forEachTileVector(row0, col0, rowEnd, acc, tile,
                    [&](Value *sum, Value *row, const TileColumn &c) {
                      emitEpilogue(sum, row, c.col, c.mask);
                    });
}

Value *ContractionEmitter::collectNonzeroDepths(llvm::ArrayRef<Value *> rows,
                                                Value *k0, Value *k1) {
  llvm::Type *i32 = b.getInt32Ty();
  if (!depthList) {
    int64_t longest = scratch ? depthBlock : depth;
    depthList = kb.entryAlloca(i32, longest + vw);
    depthCount = kb.entryAlloca(b.getInt64Ty());
  }
  b.CreateStore(kb.index(0), depthCount);
  llvm::Value *magnitude = b.getInt32(0x7fffffff);
  auto keep = [&](Value *k, Value *nonzero) {
    Value *n = b.CreateLoad(b.getInt64Ty(), depthCount);
    b.CreateStore(b.CreateTrunc(k, i32),
                  b.CreateInBoundsGEP(i32, depthList, n));
    b.CreateStore(b.CreateAdd(n, b.CreateZExt(nonzero, b.getInt64Ty())),
                  depthCount);
  };
  if (ta) {
    // A is stored [depth, m]: the tile's rows at depth k are adjacent.
    kb.forRange(
        k0, k1,
        [&](Value *k) {
          Value *any = b.getInt32(0);
          for (Value *row : rows)
            any = b.CreateOr(
                any,
                b.CreateAnd(b.CreateBitCast(aElement(row, k), i32), magnitude));
          keep(k, b.CreateICmpNE(any, b.getInt32(0)));
        },
        "scan");
  } else {
    // A is stored [m, depth]: a vector of depths per row, and the
    // nonzero ones compressed into the list.
    auto *lanes = llvm::FixedVectorType::get(i32, vw);
    Value *magnitudes = b.CreateVectorSplat(vw, magnitude);
    Value *laneIndex = b.CreateTrunc(stepVector(), lanes);
    Value *aCols = aRowStride();
    kb.forRange(
        k0, k1,
        [&](Value *k) {
          Value *inside = b.CreateICmpSLT(
              b.CreateAdd(b.CreateVectorSplat(vw, k), stepVector()),
              b.CreateVectorSplat(vw, k1));
          Value *any = llvm::Constant::getNullValue(lanes);
          for (Value *row : rows) {
            Value *at = b.CreateAdd(b.CreateMul(row, aCols), k);
            Value *x = b.CreateMaskedLoad(
                lanes, b.CreateInBoundsGEP(b.getFloatTy(), aBase(), at),
                llvm::Align(4), inside, llvm::Constant::getNullValue(lanes));
            any = b.CreateOr(any, b.CreateAnd(x, magnitudes));
          }
          Value *nonzero = b.CreateAnd(
              inside, b.CreateICmpNE(any, llvm::Constant::getNullValue(lanes)));
          Value *n = b.CreateLoad(b.getInt64Ty(), depthCount);
          Value *depths = b.CreateAdd(
              b.CreateVectorSplat(vw, b.CreateTrunc(k, i32)), laneIndex);
          Value *at = b.CreateInBoundsGEP(i32, depthList, n);
          if (compressInRegisters) {
            // The memory form of vpcompressd is microcoded on Zen 4 (tens
            // of cycles); compressing in a register and storing the whole
            // vector is not, and the list has a vector of slack.
            Value *packed = b.CreateIntrinsic(
                llvm::Intrinsic::x86_avx512_mask_compress, {lanes},
                {depths, llvm::PoisonValue::get(lanes), nonzero});
            b.CreateAlignedStore(packed, at, llvm::Align(4));
          } else {
            b.CreateIntrinsic(llvm::Intrinsic::masked_compressstore, {lanes},
                              {depths, at, nonzero});
          }
          Value *bits = b.CreateBitCast(nonzero, b.getIntNTy(vw));
          Value *found = b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, bits);
          b.CreateStore(b.CreateAdd(n, b.CreateZExt(found, b.getInt64Ty())),
                        depthCount);
        },
        "scan", vw);
  }
  return b.CreateLoad(b.getInt64Ty(), depthCount);
}

void ContractionEmitter::accumulateByPattern(
    Value *row0, llvm::ArrayRef<Value *> rows, Value *col0,
    llvm::ArrayRef<TileColumn> cols, Value *k0, Value *k1, Value *block,
    Value *freshLists, llvm::ArrayRef<llvm::AllocaInst *> acc) {
  llvm::Type *i32 = b.getInt32Ty();
  int64_t patterns = int64_t(1) << rowTile;
  if (!patternList) {
    int64_t groups = (m + rowTile - 1) / rowTile;
    int64_t longest = std::min(depth, depthBlock);
    // A compress stores a whole vector: a list may run vw - 1 entries past
    // its block, into the next block's, which is built after it.
    patternSegment = depth + vw;
    patternBlocks = std::max<int64_t>(1, (depth + depthBlock - 1) / depthBlock);
    allocatePatternLists(groups * patternSegment, groups * patternBlocks,
                         (longest + vw - 1) / vw);
  }
  Value *group = b.CreateUDiv(row0, kb.index(rowTile));
  Value *list = b.CreateInBoundsGEP(
      i32, patternList,
      b.CreateAdd(b.CreateMul(group, kb.index(patternSegment)), k0));
  Value *ends = b.CreateInBoundsGEP(
      i32, patternEnds,
      b.CreateMul(
          b.CreateAdd(b.CreateMul(group, kb.index(patternBlocks)), block),
          kb.index(patterns)));
  kb.ifThen(
      freshLists, [&] { buildPatternLists(rows, k0, k1, list, ends); },
      "lists");
  accumulatePatterns(list, ends, col0, cols, rows, acc);
}

void ContractionEmitter::allocatePatternLists(int64_t listEntries,
                                              int64_t endSets,
                                              int64_t bitWords) {
  rowBitWords = bitWords;
  patternList = kb.entryAlloca(b.getInt32Ty(), listEntries);
  patternEnds =
      kb.entryAlloca(b.getInt32Ty(), endSets * (int64_t(1) << rowTile));
  rowBits = kb.entryAlloca(b.getIntNTy(vw), rowTile * rowBitWords);
  patternCount = kb.entryAlloca(b.getInt64Ty());
}

void ContractionEmitter::accumulatePatterns(
    Value *list, Value *ends, Value *col0, llvm::ArrayRef<TileColumn> cols,
    llvm::ArrayRef<Value *> rows, llvm::ArrayRef<llvm::AllocaInst *> acc) {
  llvm::Type *i32 = b.getInt32Ty();
  Value *begin = kb.index(0);
  for (int64_t p = 1; p < (int64_t(1) << rowTile); ++p) {
    Value *end = b.CreateSExt(
        b.CreateLoad(i32, b.CreateConstInBoundsGEP1_64(i32, ends, p - 1)),
        b.getInt64Ty());
    // Not unrolled: 15 loops of a few FMAs each, whose trip counts are
    // mostly short.
    kb.forRangeRolled(
        begin, end,
        [&](Value *t) {
          Value *k =
              b.CreateSExt(b.CreateLoad(i32, b.CreateInBoundsGEP(i32, list, t)),
                           b.getInt64Ty());
          accumulateDepth(k, col0, cols, rows, acc, unsigned(p));
        },
        "pattern");
    begin = end;
  }
}

void ContractionEmitter::buildPatternLists(llvm::ArrayRef<Value *> rows,
                                           Value *k0, Value *k1, Value *list,
                                           Value *ends) {
  llvm::Type *i32 = b.getInt32Ty();
  llvm::IntegerType *wordType = b.getIntNTy(vw);
  auto *lanes = llvm::FixedVectorType::get(i32, vw);
  Value *words = b.CreateUDiv(
      b.CreateAdd(b.CreateSub(k1, k0), kb.index(vw - 1)), kb.index(vw));
  // Bit j of word w of row r: A(row r, k0 + w * vw + j) is not zero (either
  // sign; a NaN is kept). Lanes past k1 are zero.
  Value *magnitudes = b.CreateVectorSplat(vw, b.getInt32(0x7fffffff));
  kb.forRange(
      kb.index(0), words,
      [&](Value *w) {
        Value *k = b.CreateAdd(k0, b.CreateMul(w, kb.index(vw)));
        Value *inside = b.CreateICmpSLT(
            b.CreateAdd(b.CreateVectorSplat(vw, k), stepVector()),
            b.CreateVectorSplat(vw, k1));
        for (int64_t r = 0; r < rowTile; ++r) {
          Value *at = b.CreateAdd(b.CreateMul(rows[r], aRowStride()), k);
          Value *x = b.CreateMaskedLoad(
              lanes, b.CreateInBoundsGEP(b.getFloatTy(), aBase(), at),
              llvm::Align(4), inside, llvm::Constant::getNullValue(lanes));
          Value *nonzero = b.CreateICmpNE(b.CreateAnd(x, magnitudes),
                                          llvm::Constant::getNullValue(lanes));
          b.CreateStore(b.CreateBitCast(nonzero, wordType), rowBitsAt(r, w));
        }
      },
      "rowbits");
  listPatterns(k0, words, list, ends);
}

void ContractionEmitter::listPatterns(Value *k0, Value *words, Value *list,
                                      Value *ends) {
  llvm::Type *i32 = b.getInt32Ty();
  llvm::IntegerType *wordType = b.getIntNTy(vw);
  auto *lanes = llvm::FixedVectorType::get(i32, vw);
  auto *laneBits = llvm::FixedVectorType::get(b.getInt1Ty(), vw);
  b.CreateStore(kb.index(0), patternCount);
  Value *laneIndex = b.CreateTrunc(stepVector(), lanes);
  Value *allOnes = llvm::ConstantInt::getAllOnesValue(wordType);
  int64_t patterns = int64_t(1) << rowTile;
  kb.forRangeRolled(
      kb.index(1), kb.index(patterns),
      [&](Value *p) {
        // Row r's bits, or their complement when r is not in p.
        llvm::SmallVector<Value *, 4> flips;
        for (int64_t r = 0; r < rowTile; ++r) {
          Value *in =
              b.CreateTrunc(b.CreateLShr(p, kb.index(r)), b.getInt1Ty());
          flips.push_back(
              b.CreateSelect(in, llvm::ConstantInt::get(wordType, 0), allOnes));
        }
        kb.forRange(
            kb.index(0), words,
            [&](Value *w) {
              // The depths where exactly the rows of p are not zero.
              Value *match = allOnes;
              for (int64_t r = 0; r < rowTile; ++r)
                match = b.CreateAnd(
                    match, b.CreateXor(b.CreateLoad(wordType, rowBitsAt(r, w)),
                                       flips[r]));
              Value *k = b.CreateTrunc(
                  b.CreateAdd(k0, b.CreateMul(w, kb.index(vw))), i32);
              Value *depths =
                  b.CreateAdd(b.CreateVectorSplat(vw, k), laneIndex);
              Value *packed = b.CreateIntrinsic(
                  llvm::Intrinsic::x86_avx512_mask_compress, {lanes},
                  {depths, llvm::PoisonValue::get(lanes),
                   b.CreateBitCast(match, laneBits)});
              Value *n = b.CreateLoad(b.getInt64Ty(), patternCount);
              // Whole vectors, pattern after pattern: what lands past the
              // count is overwritten by the next store.
              b.CreateAlignedStore(packed, b.CreateInBoundsGEP(i32, list, n),
                                   llvm::Align(4));
              Value *found = b.CreateZExt(
                  b.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, match),
                  b.getInt64Ty());
              b.CreateStore(b.CreateAdd(n, found), patternCount);
            },
            "patternlist");
        b.CreateStore(
            b.CreateTrunc(b.CreateLoad(b.getInt64Ty(), patternCount), i32),
            b.CreateInBoundsGEP(i32, ends, b.CreateSub(p, kb.index(1))));
      },
      "patterns");
}

} // namespace nnc::codegen
