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
// buffer the kernel writes but does not read. Of a transposed B, each
// thread copies the columns of one tile at a time to a [k, tile] panel on
// the stack (at most kMaxPackedDepth x 64 floats, 1 MiB).
//
//===----------------------------------------------------------------------===//
#include "codegen/FusedKernels.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

/// A tile holds 16 vector accumulators: up to 4 vectors of columns, and as
/// many rows as that leaves (8 when the output is one or two vectors wide).
constexpr int64_t kAccumulators = 16;
constexpr int64_t kMaxVectorsPerTile = 4;
/// A k block of B (its rows for one column tile) is at most 16 KiB, half of
/// L1, and at most 64 rows.
constexpr int64_t kBlockBytes = 16 << 10;
constexpr int64_t kMaxDepthBlock = 64;
/// Rows below which threads split columns (or the depth) instead.
constexpr int64_t kMinRowsToSplit = 64;
/// Column tiles of a transposed B from which threads split the columns,
/// whatever the row count.
constexpr int64_t kMinPackedTiles = 4;
/// Tiles over a mostly-zero A: up to 8 vectors by 2 rows. Measured on
/// 784-512-512-10, batch 128, two threads (best call of an epoch, three
/// runs): H1 W2 took 274-310 us with one row, 217-262 us with two; X W1
/// 223-239 us with one row, 171-209 us with two; the seed model's X W1
/// did not change (11-12 us).
constexpr int64_t kMaxVectorsPerSparseRow = 8;
constexpr int64_t kSparseRows = 2;
/// The k block of tiles over a mostly-zero A: a row of the tile reads
/// only B's rows at its non-zero depths, so a block of B larger than L1
/// still mostly hits, and longer blocks mean fewer scans and fewer round
/// trips of the partial sums. Measured on the seed model's X W with
/// one-row tiles (best of 3000 calls, one thread): 31 us with blocks of
/// 16, 18 us with 64, 16.1 us with 128, 17.2 us with 256, 21 us
/// unblocked. With two-row tiles (best calls of an epoch, three runs
/// each, one thread): the wide model's X W1 297-305 us unblocked, 306-331
/// with 512, 320-340 with 256; its H1 W2 388-410 us with 512 or more
/// against 410-422 with 256; the seed model's X W1 16.3-16.9 us with any.
constexpr int64_t kSparseDepthBlock = 1024;
/// The k block of two-row tiles over a mostly-zero A and a packed B (32
/// KiB of a 64-column panel). Measured on the wide model's dH2 W2^T
/// (dH2 55% non-zero; best call of an epoch, one thread): 448-458 us with
/// 128, 481-488 with 64, 475-517 with 256, against 624-629 us for the
/// dense 4 x 4 tiles.
constexpr int64_t kSparsePackedDepthBlock = 128;
/// A product with few rows splits its depth between threads instead when
/// the depth is at least this, and B at least kMinSplitDepthBytes.
constexpr int64_t kMinSplitDepth = 256;
constexpr int64_t kMinSplitDepthBytes = 64 << 10;
/// The longest depth (batch) for which rows of a weight gradient get bit
/// masks of their non-zero depths: a few 64-bit words per row.
constexpr int64_t kMaxMaskedDepth = 256;

class ContractionEmitter {
public:
  ContractionEmitter(KernelBuilder &kb, const Graph &body,
                     const KernelFormInfo &info,
                     llvm::ArrayRef<TensorRef> inputs,
                     llvm::ArrayRef<TensorRef> outputs, ThreadInfo threads,
                     const ContractionOptions &options)
      : kb(kb), b(kb.builder()), body(body), info(info), inputs(inputs),
        outputs(outputs), threads(threads), vw(options.vectorWidth),
        skipZeros(options.skipZeroRows),
        compressInRegisters(options.avx512Compress) {
    const Op &mm = *info.matmul;
    ta = mm.attrs().getBool("transpose_a");
    tb = mm.attrs().getBool("transpose_b");
    m = info.space[0];
    n = info.space[1];
    depth = ta ? mm.operand(0)->type().dim(0) : mm.operand(0)->type().dim(1);
    for (unsigned i = 0; i < body.numArguments(); ++i)
      argIndex[body.argument(i)] = i;
    a = inputs[argIndex.lookup(mm.operand(0))];
    bIn = inputs[argIndex.lookup(mm.operand(1))];
    ft = llvm::Type::getFloatTy(b.getContext());
    vt = llvm::FixedVectorType::get(ft, vw);
    int64_t vectors = (n + vw - 1) / vw;
    vectorsPerTile = std::min(vectors, kMaxVectorsPerTile);
    rowTile = std::clamp<int64_t>(kAccumulators / vectorsPerTile, 4, 8);
    depthBlock = std::clamp<int64_t>(
        kBlockBytes / (vw * vectorsPerTile * int64_t(sizeof(float))), 16,
        kMaxDepthBlock);
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
  }

  void emit() {
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
    pickScratch();

    // Rows to threads when there are enough to balance: each thread then
    // owns a contiguous block of the output (and of the variables an update
    // epilogue writes), so no cache line, nor the line a prefetcher fetches
    // next to it, goes back and forth between cores. Columns when rows are
    // few and each thread can have a column tile of its own.
    // A transposed B is packed per column tile: splitting the columns has
    // each thread pack only its own (of a weight stored [n, depth], the
    // rows it owns) instead of all of them.
    bool splitColumns = colTiles >= 2 && (m < kMinRowsToSplit ||
                                          (tb && colTiles >= kMinPackedTiles));
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
                  kb.forRange(
                      rowBegin, rowEnd,
                      [&](Value *rt) {
                        Value *row0 = b.CreateMul(rt, kb.index(rowTile));
                        emitTile(row0, col0, k0, k1, first, last);
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

private:
  /// Whether threads split the depth rather than the output: for a product
  /// with few rows (a batch) and a large B that is a weight, such as the
  /// first layer's X W. Splitting B's rows gives each thread the rows of
  /// the weight that it also updates (see KernelBuilder::ownedRows), where
  /// splitting the output's columns would have every step move a quarter
  /// of the weight between cores, twice.
  bool splitsDepth() const {
    return threads.barrier && !tb && m < kMinRowsToSplit &&
           depth >= kMinSplitDepth &&
           depth * n * int64_t(sizeof(float)) >= kMinSplitDepthBytes;
  }

  /// Each thread sums its own rows of the depth into a partial C in the
  /// thread scratch memory; after a barrier, each adds up every thread's
  /// partial for its rows of C, in thread order, and applies the epilogue.
  void emitSplitDepth(int64_t colTiles, int64_t rowTiles) {
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
                Value *k0 = b.CreateAdd(
                    kBegin, b.CreateMul(kblk, kb.index(depthBlock)));
                Value *k1 = b.CreateBinaryIntrinsic(
                    llvm::Intrinsic::smin, kEnd,
                    b.CreateAdd(k0, kb.index(depthBlock)));
                Value *first = b.CreateICmpEQ(kblk, kb.index(0));
                kb.forRange(
                    0, rowTiles,
                    [&](Value *rt) {
                      Value *row0 = b.CreateMul(rt, kb.index(rowTile));
                      emitTile(row0, col0, k0, k1, first, b.getFalse());
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
                b.CreateStore(loadVector(partialOf(kb.index(0)),
                                         ElementType::F32, at, mask),
                              sum);
                kb.forRange(
                    kb.index(1), count,
                    [&](Value *t) {
                      b.CreateStore(
                          b.CreateFAdd(b.CreateLoad(vt, sum),
                                       loadVector(partialOf(t),
                                                  ElementType::F32, at, mask)),
                          sum);
                    },
                    "t");
                emitEpilogue(b.CreateLoad(vt, sum), row, col, mask);
              },
              "v");
        },
        "row");
  }

  /// Whether rows get a bit mask of their non-zero depths instead of a
  /// scanned list: for a mostly-zero A stored [depth, m] (A transposed, the
  /// weight gradient X^T dY) with a short depth (the batch). The masks of
  /// a group of rows come from one vector compare per depth, and each row
  /// then visits only its own non-zero depths with a one-row tile; a list
  /// per tile of four rows took a scalar pass over the depth per tile and
  /// visited every depth where any of the four rows was non-zero (28% of
  /// them on MNIST, against 19% for one row).
  bool usesDepthMasks() const {
    int64_t vectors = (n + vw - 1) / vw;
    return skipZeros && ta && !tb && depth <= kMaxMaskedDepth && vectors >= 4 &&
           m >= kMinRowsToSplit;
  }

  unsigned depthMaskBits() const { return depth <= 32 ? 32 : 64; }

  /// A row's mask is `words` integers of maskBits bits, bit k of word w set
  /// when A(row, w * maskBits + k) is not zero (either sign).
  void emitWithDepthMasks() {
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

    // masks[w][r]: word w of row group + r.
    llvm::AllocaInst *masks = kb.entryAlloca(maskType, words * groupRows);
    llvm::SmallVector<llvm::AllocaInst *, 16> acc;
    for (int64_t i = 0; i < rowTile * vectorsPerTile; ++i)
      acc.push_back(kb.entryAlloca(vt));
    llvm::AllocaInst *tile = tileBuffer();

    auto [rowBegin, rowEnd] = kb.ownedRows(m, threads.index, threads.count);
    Value *magnitude = b.CreateVectorSplat(groupRows, b.getInt32(0x7fffffff));
    kb.forRange(
        rowBegin, rowEnd,
        [&](Value *group) {
          Value *inside =
              b.CreateICmpSLT(b.CreateAdd(b.CreateVectorSplat(groupRows, group),
                                          groupLaneIndex(groupRows)),
                              b.CreateVectorSplat(groupRows, rowEnd));
          for (int64_t w = 0; w < words; ++w) {
            Value *bits = llvm::Constant::getNullValue(maskVector);
            for (int64_t k = w * maskBits;
                 k < std::min<int64_t>(depth, (w + 1) * maskBits); ++k) {
              Value *at = b.CreateInBoundsGEP(
                  b.getFloatTy(), a.ptr, b.CreateAdd(kb.index(k * m), group));
              Value *x =
                  b.CreateMaskedLoad(bitsVector, at, llvm::Align(4), inside,
                                     llvm::Constant::getNullValue(bitsVector));
              Value *nonzero =
                  b.CreateICmpNE(b.CreateAnd(x, magnitude),
                                 llvm::Constant::getNullValue(bitsVector));
              Value *bit = llvm::ConstantInt::get(
                  maskType, uint64_t(1) << (k - w * maskBits));
              bits = b.CreateOr(
                  bits,
                  b.CreateSelect(nonzero, b.CreateVectorSplat(groupRows, bit),
                                 llvm::Constant::getNullValue(maskVector)));
            }
            b.CreateAlignedStore(
                bits,
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
                Value *rowMasks = b.CreateInBoundsGEP(maskType, masks,
                                                      b.CreateSub(row, group));
                kb.forRange(
                    0, colTiles,
                    [&](Value *ct) {
                      Value *col0 = b.CreateMul(ct, kb.index(tileCols));
                      emitMaskedRows(row, rowEnd, col0, rowMasks, words,
                                     groupRows, acc, tile);
                    },
                    "ct");
              },
              "r", rowTile);
        },
        "group", groupRows);
  }

  /// The lanes 0, 1, ... of a vector of `lanes` i64.
  Value *groupLaneIndex(unsigned lanes) {
    llvm::SmallVector<llvm::Constant *, 16> steps;
    for (unsigned i = 0; i < lanes; ++i)
      steps.push_back(b.getInt64(i));
    return llvm::ConstantVector::get(steps);
  }

  /// Rows [row0, row0 + rowTile) of C over the tile columns from col0: the
  /// sums over the depths set in any of the rows' mask words (word w of
  /// row row0 + r at rowMasks[w * stride + r]), then the epilogue on the
  /// rows before rowEnd. A row visits the depths where only the other row
  /// is non-zero too, adding exact zeros.
  void emitMaskedRows(Value *row0, Value *rowEnd, Value *col0, Value *rowMasks,
                      int64_t words, int64_t stride,
                      llvm::ArrayRef<llvm::AllocaInst *> acc,
                      llvm::AllocaInst *tile) {
    llvm::SmallVector<TileColumn, 8> cols;
    for (int64_t v = 0; v < vectorsPerTile; ++v)
      cols.push_back(tileColumn(col0, kb.index(v)));
    // Rows past m read row m - 1; they are not stored.
    llvm::SmallVector<Value *, 2> rows;
    for (int64_t r = 0; r < rowTile; ++r)
      rows.push_back(b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                             b.CreateAdd(row0, kb.index(r)),
                                             kb.index(m - 1)));
    for (llvm::AllocaInst *slot : acc)
      b.CreateStore(llvm::Constant::getNullValue(vt), slot);
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
      Value *k = b.CreateAdd(
          b.CreateZExt(
              b.CreateBinaryIntrinsic(llvm::Intrinsic::cttz, bits, b.getTrue()),
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

  /// Copies the tile columns [col0, col0 + tileCols) of op(B), where B is
  /// stored [n, depth], to a [depth, tileCols] panel on the stack, so that
  /// its rows load as vectors. Every row tile then reads the panel. Whole
  /// squares of vw x vw go through registers (vw row loads, a transpose,
  /// vw row stores); the depths past the last whole square go one by one.
  /// Columns past n are not copied: the tiles mask them out.
  void packPanel(Value *col0) {
    int64_t tileCols = vw * vectorsPerTile;
    if (!panel)
      panel = kb.entryAlloca(ft, depth * tileCols);
    int64_t squareDepth =
        bIn.type.element() == ElementType::F32 ? depth / vw * vw : 0;
    if (squareDepth > 0) {
      kb.forRange(
          0, vectorsPerTile,
          [&](Value *v) {
            Value *j0 = b.CreateMul(v, kb.index(vw));
            // Rows of B past n read row n - 1; their columns are not used.
            llvm::SmallVector<Value *, 16> rowStarts;
            for (unsigned r = 0; r < vw; ++r) {
              Value *col = b.CreateAdd(b.CreateAdd(col0, j0), kb.index(r));
              col = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, col,
                                            kb.index(n - 1));
              rowStarts.push_back(b.CreateMul(col, kb.index(depth)));
            }
            kb.forRange(
                kb.index(0), kb.index(squareDepth),
                [&](Value *k0) {
                  llvm::SmallVector<Value *, 16> square;
                  for (unsigned r = 0; r < vw; ++r)
                    square.push_back(b.CreateAlignedLoad(
                        vt,
                        b.CreateInBoundsGEP(ft, bIn.ptr,
                                            b.CreateAdd(rowStarts[r], k0)),
                        llvm::Align(4)));
                  transposeSquare(square);
                  for (unsigned c = 0; c < vw; ++c) {
                    Value *k = b.CreateAdd(k0, kb.index(c));
                    b.CreateAlignedStore(
                        square[c],
                        b.CreateInBoundsGEP(
                            ft, panel,
                            b.CreateAdd(b.CreateMul(k, kb.index(tileCols)),
                                        j0)),
                        llvm::Align(4));
                  }
                },
                "k0", vw);
          },
          "v");
    }
    if (squareDepth == depth)
      return;
    kb.forRange(
        0, tileCols,
        [&](Value *j) {
          Value *col = b.CreateAdd(col0, j);
          kb.ifThen(b.CreateICmpSLT(col, kb.index(n)), [&] {
            Value *rowStart = b.CreateMul(col, kb.index(depth));
            kb.forRange(
                kb.index(squareDepth), kb.index(depth),
                [&](Value *k) {
                  Value *v = bIn.load(kb, b.CreateAdd(rowStart, k));
                  kb.store(panel, ElementType::F32,
                           b.CreateAdd(b.CreateMul(k, kb.index(tileCols)), j),
                           v);
                },
                "k");
          });
        },
        "j");
  }

  /// Transposes a square of vw vectors of vw lanes in place: for each bit
  /// of the lane index, the elements whose row and column differ in that
  /// bit trade places with the element both bits flipped, one two-source
  /// shuffle per vector.
  void transposeSquare(llvm::MutableArrayRef<Value *> square) {
    for (unsigned d = vw / 2; d >= 1; d /= 2) {
      llvm::SmallVector<int, 16> low, high;
      for (unsigned c = 0; c < vw; ++c) {
        bool set = c & d;
        low.push_back(set ? int(vw + c - d) : int(c));
        high.push_back(set ? int(vw + c) : int(c + d));
      }
      for (unsigned i = 0; i < vw; ++i) {
        if (i & d)
          continue;
        Value *upper = square[i], *lower = square[i + d];
        square[i] = b.CreateShuffleVector(upper, lower, low);
        square[i + d] = b.CreateShuffleVector(upper, lower, high);
      }
    }
  }

  void pickScratch() {
    if (depth <= depthBlock)
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
  }

  /// Where row k, column `col` of op(B) is: in B itself, or in the panel
  /// packed for the tile starting at `col0`.
  /// The pointer is to column col0 of row k, so that the tile's vectors
  /// are constant offsets from it: one address computation per row of B,
  /// the loads folded into the FMAs.
  std::pair<Value *, Value *> bAddress(Value *k, Value *col, Value *col0) {
    Value *rowStart =
        tb ? b.CreateInBoundsGEP(ft, panel,
                                 b.CreateMul(k, kb.index(vw * vectorsPerTile)))
           : b.CreateInBoundsGEP(
                 ft, bIn.ptr, b.CreateAdd(b.CreateMul(k, kb.index(n)), col0));
    return {rowStart, b.CreateSub(col, col0)};
  }

  /// Lanes of the vector at column `col` that are inside the matrix.
  Value *laneMask(Value *col) {
    Value *lanes = b.CreateAdd(b.CreateVectorSplat(vw, col), stepVector());
    return b.CreateICmpSLT(lanes, b.CreateVectorSplat(vw, kb.index(n)));
  }

  Value *stepVector() {
    llvm::SmallVector<llvm::Constant *, 16> steps;
    for (unsigned i = 0; i < vw; ++i)
      steps.push_back(b.getInt64(i));
    return llvm::ConstantVector::get(steps);
  }

  bool columnsDivide() const { return n % vw == 0; }

  Value *loadVector(Value *ptr, ElementType e, Value *index, Value *mask) {
    llvm::Type *st = storageType(b.getContext(), e);
    auto *vecType = llvm::FixedVectorType::get(st, vw);
    Value *addr = b.CreateInBoundsGEP(st, ptr, index);
    Value *v;
    if (mask)
      v = b.CreateMaskedLoad(vecType, addr, llvm::Align(elementByteSize(e)),
                             mask, llvm::Constant::getNullValue(vecType));
    else
      v = b.CreateAlignedLoad(vecType, addr, llvm::Align(elementByteSize(e)));
    if (e == ElementType::I1)
      v = b.CreateICmpNE(v, llvm::Constant::getNullValue(vecType));
    return v;
  }

  void storeVector(Value *ptr, ElementType e, Value *index, Value *value,
                   Value *mask) {
    llvm::Type *st = storageType(b.getContext(), e);
    auto *vecType = llvm::FixedVectorType::get(st, vw);
    if (e == ElementType::I1)
      value = b.CreateZExt(value, vecType);
    Value *addr = b.CreateInBoundsGEP(st, ptr, index);
    if (mask)
      b.CreateMaskedStore(value, addr, llvm::Align(elementByteSize(e)), mask);
    else
      b.CreateAlignedStore(value, addr, llvm::Align(elementByteSize(e)));
  }

  /// A(i, k) as a scalar.
  Value *aElement(Value *i, Value *k) {
    int64_t aCols = a.type.dim(1);
    Value *index = ta ? b.CreateAdd(b.CreateMul(k, kb.index(aCols)), i)
                      : b.CreateAdd(b.CreateMul(i, kb.index(aCols)), k);
    return a.load(kb, index);
  }

  /// The column of vector `v` of a tile, whether it starts inside the
  /// matrix, and the lanes inside it (null when every column is).
  struct TileColumn {
    Value *col, *valid, *mask;
  };
  TileColumn tileColumn(Value *col0, Value *v) {
    Value *col = b.CreateAdd(col0, b.CreateMul(v, kb.index(vw)));
    return {col, b.CreateICmpSLT(col, kb.index(n)),
            columnsDivide() ? nullptr : laneMask(col)};
  }

  /// One tile: rows [row0, row0 + rowTile), the tile's columns from col0,
  /// depths [k0, k1). The sums start at zero in the first k block and from
  /// the scratch buffer after it; the last block applies the epilogue, the
  /// others store the partial sums. Rows past m and columns past n are
  /// masked out.
  void emitTile(Value *row0, Value *col0, Value *k0, Value *k1, Value *first,
                Value *last) {
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
    if (skipZeros) {
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
          auto *partial =
              llvm::BasicBlock::Create(b.getContext(), "partial", f);
          auto *join = llvm::BasicBlock::Create(b.getContext(), "join", f);
          b.CreateCondBr(last, finish, partial);
          b.SetInsertPoint(finish);
          emitEpilogue(sum, row, c.col, c.mask);
          b.CreateBr(join);
          b.SetInsertPoint(partial);
          storeVector(scratch, ElementType::F32, cIndex(row, c.col), sum,
                      c.mask);
          b.CreateBr(join);
          b.SetInsertPoint(join);
        });
  }

  /// Runs `finish` on each vector of the tile's sums inside the matrix
  /// (rows before rowEnd, columns before n). The sums leave the registers
  /// through the tile buffer, so that what `finish` generates (the
  /// epilogue) is generated once and run in a loop.
  void forEachTileVector(
      Value *row0, Value *col0, Value *rowEnd,
      llvm::ArrayRef<llvm::AllocaInst *> acc, llvm::AllocaInst *tile,
      llvm::function_ref<void(Value *, Value *, const TileColumn &)> finish) {
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

  /// One depth k of a tile: a vector of B's row k per tile column, one
  /// element of A per tile row broadcast, an FMA into each accumulator.
  void accumulateDepth(Value *k, Value *col0, llvm::ArrayRef<TileColumn> cols,
                       llvm::ArrayRef<Value *> rows,
                       llvm::ArrayRef<llvm::AllocaInst *> acc) {
    llvm::SmallVector<Value *, 8> bv;
    for (int64_t v = 0; v < vectorsPerTile; ++v) {
      auto [ptr, index] = bAddress(k, cols[v].col, col0);
      bv.push_back(
          loadVector(ptr, ElementType::F32, index, vectorMask(cols[v])));
    }
    for (int64_t r = 0; r < rowTile; ++r) {
      Value *x = b.CreateVectorSplat(vw, aElement(rows[r], k));
      for (int64_t v = 0; v < vectorsPerTile; ++v) {
        llvm::AllocaInst *slot = acc[r * vectorsPerTile + v];
        b.CreateStore(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vt},
                                        {x, bv[v], b.CreateLoad(vt, slot)}),
                      slot);
      }
    }
  }

  /// Lanes of a tile column to load: none when it starts past n.
  Value *vectorMask(const TileColumn &c) {
    if (n % (vw * vectorsPerTile) == 0)
      return nullptr; // every tile is whole
    Value *valid = b.CreateVectorSplat(vw, c.valid);
    return c.mask ? b.CreateAnd(c.mask, valid) : valid;
  }

  llvm::AllocaInst *tileBuffer() {
    if (!tileSlots) {
      llvm::Function *f = b.GetInsertBlock()->getParent();
      llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
      tileSlots =
          entry.CreateAlloca(vt, entry.getInt64(rowTile * vectorsPerTile));
      tileSlots->setAlignment(llvm::Align(64));
    }
    return tileSlots;
  }

  /// Writes to depthList the depths k in [k0, k1) at which A(row, k) is not
  /// zero for some row of the tile, in order, and returns how many. Zero
  /// means either sign of it; a NaN is kept.
  Value *collectNonzeroDepths(llvm::ArrayRef<Value *> rows, Value *k0,
                              Value *k1) {
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
                  any, b.CreateAnd(b.CreateBitCast(aElement(row, k), i32),
                                   magnitude));
            keep(k, b.CreateICmpNE(any, b.getInt32(0)));
          },
          "scan");
    } else {
      // A is stored [m, depth]: a vector of depths per row, and the
      // nonzero ones compressed into the list.
      auto *lanes = llvm::FixedVectorType::get(i32, vw);
      Value *magnitudes = b.CreateVectorSplat(vw, magnitude);
      Value *laneIndex = b.CreateTrunc(stepVector(), lanes);
      int64_t aCols = a.type.dim(1);
      kb.forRange(
          k0, k1,
          [&](Value *k) {
            Value *inside = b.CreateICmpSLT(
                b.CreateAdd(b.CreateVectorSplat(vw, k), stepVector()),
                b.CreateVectorSplat(vw, k1));
            Value *any = llvm::Constant::getNullValue(lanes);
            for (Value *row : rows) {
              Value *at = b.CreateAdd(b.CreateMul(row, kb.index(aCols)), k);
              Value *x = b.CreateMaskedLoad(
                  lanes, b.CreateInBoundsGEP(b.getFloatTy(), a.ptr, at),
                  llvm::Align(4), inside, llvm::Constant::getNullValue(lanes));
              any = b.CreateOr(any, b.CreateAnd(x, magnitudes));
            }
            Value *nonzero = b.CreateAnd(
                inside,
                b.CreateICmpNE(any, llvm::Constant::getNullValue(lanes)));
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

  Value *cIndex(Value *row, Value *col) {
    return b.CreateAdd(b.CreateMul(row, kb.index(n)), col);
  }

  /// The epilogue on one vector of C: every element-wise op of the body,
  /// its side inputs read as vectors, then the yields stored.
  void emitEpilogue(Value *c, Value *row, Value *col, Value *mask) {
    llvm::DenseMap<const nnc::Value *, Value *> env;
    env[info.matmul->result()] = c;
    auto vectorOf = [&](const nnc::Value *v) -> Value * {
      if (Value *e = env.lookup(v))
        return e;
      if (Value *s = scalars->lookup(v))
        return b.CreateVectorSplat(vw, s);
      // A side input, broadcast to [m, n].
      const TensorRef &in = inputs[argIndex.lookup(v)];
      llvm::ArrayRef<int64_t> s = v->type().shape();
      ElementType e = v->type().element();
      Value *x;
      if (s.empty() || (s.size() == 2 && s[0] == 1 && s[1] == 1))
        x = b.CreateVectorSplat(vw, in.load(kb, kb.index(0)));
      else if (s.back() == 1) // [m, 1]: one value per row
        x = b.CreateVectorSplat(vw, in.load(kb, row));
      else if (s.size() == 1 || s[0] == 1) // [n] or [1, n]
        x = loadVector(in.ptr, e, col, mask);
      else
        x = loadVector(in.ptr, e, cIndex(row, col), mask);
      env[v] = x;
      return x;
    };
    for (const Op &op : body.ops()) {
      if (&op == info.matmul || op.is(OpKind::Yield) ||
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

  KernelBuilder &kb;
  llvm::IRBuilder<> &b;
  const Graph &body;
  const KernelFormInfo &info;
  llvm::ArrayRef<TensorRef> inputs, outputs;
  ThreadInfo threads;
  unsigned vw;
  int64_t rowTile = 4, vectorsPerTile = 4, depthBlock = kMaxDepthBlock;
  bool skipZeros;
  bool compressInRegisters;
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, depth = 0;
  TensorRef a, bIn;
  llvm::AllocaInst *panel = nullptr;
  llvm::AllocaInst *depthList = nullptr, *depthCount = nullptr;
  llvm::Type *ft = nullptr;
  llvm::FixedVectorType *vt = nullptr;
  Value *scratch = nullptr;
  llvm::AllocaInst *tileSlots = nullptr;
  std::unique_ptr<ScalarValues> scalars;
  llvm::DenseMap<const nnc::Value *, unsigned> argIndex;
};

} // namespace

void emitContractionKernel(KernelBuilder &kb, const Graph &body,
                           const KernelFormInfo &info,
                           llvm::ArrayRef<TensorRef> inputs,
                           llvm::ArrayRef<TensorRef> outputs,
                           ThreadInfo threads,
                           const ContractionOptions &options) {
  ContractionEmitter(kb, body, info, inputs, outputs, threads, options).emit();
}

} // namespace nnc::codegen
