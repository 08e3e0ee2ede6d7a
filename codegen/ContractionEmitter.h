//===- ContractionEmitter.h - Register-tiled products, in pieces ----------===//
//
// The code generator of contraction kernels, C = op(A) op(B) with the
// epilogue applied while C is still in registers. ContractionKernel.cpp
// has the dense tiles, the split depth and the epilogue;
// SparseContraction.cpp the tiles over a mostly-zero A; PanelPacking.cpp
// the packing of a transposed B. Internal to codegen/.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_CONTRACTIONEMITTER_H
#define NNC_CODEGEN_CONTRACTIONEMITTER_H

#include "codegen/FusedKernels.h"

namespace nnc::codegen {

using llvm::Value;

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
/// dense 4 x 4 tiles. One-row tiles, which visit 55% of the depths instead
/// of a pair's 80%, took 481-503 us with blocks of 128 and 549-555 with 64
/// (two runs each, against 448-450): a row alone loads a vector of the
/// panel per FMA.
constexpr int64_t kSparsePackedDepthBlock = 128;
/// A product with few rows splits its depth between threads instead when
/// the depth is at least this, and B at least kMinSplitDepthBytes.
constexpr int64_t kMinSplitDepth = 256;
constexpr int64_t kMinSplitDepthBytes = 64 << 10;
/// Tiles of at most this many vectors run their epilogue unrolled, the sums
/// staying in registers; larger tiles run it in a loop over a buffer, which
/// generates the epilogue once. Unrolled, the seed model's weight gradient
/// with its Adam update (one row of 8 vectors, depth 32) took 21.7-22.6 us
/// against 23.7-24.8 (best calls of an epoch, two threads, interleaved):
/// its depth loop is short, so the epilogue's loop and the round trip
/// through the buffer were a tenth of the kernel. Unrolling the wide
/// model's two-row tiles made compiling 20 ms slower and no kernel faster.
constexpr int64_t kMaxUnrolledEpilogueVectors = 8;
/// A weight gradient's tiles ask for a later tile's optimizer state (the
/// epilogue's inputs of C's shape) while they sum, when a thread's share
/// of that state is at least this: twice this CPU's 1 MiB L2, so that it
/// comes from L3. Measured against no prefetch, ten interleaved one-epoch
/// runs each (best call, medians): on one thread the wide model's X^T dH1
/// took 486 us against 574 and H1^T dH2 620 against 670, the step 2907
/// against 3049 us (state 4.8 and 3.1 MB); on two threads no kernel moved
/// beyond the noise. The seed model's X^T dH1 on two threads (0.6 MB a
/// thread, in L2) was 1-1.5 us slower in every pair: its tiles are short,
/// and the prefetches are a share of their instructions.
constexpr int64_t kMinPrefetchedStateBytes = 2 << 20;
/// How many tiles ahead that prefetch asks. On a quiet machine one and two
/// did the same (the wide model's X^T dH1 384 against 390 us, H1^T dH2
/// 532 against 527, one thread, best calls, medians of six interleaved
/// runs); in two busier series two tiles took X^T dH1 in 391 and 446 us
/// against 510 and 466 with one, H1^T dH2 in 538 and 565 against 586 and
/// 591.
constexpr int64_t kPrefetchTilesAhead = 2;
/// Tiles of four rows by four vectors over a mostly-zero A stored by rows
/// (and for the weight gradient over a relu's output, A^T dY, see
/// emitWithDepthMasks), whose depths are visited grouped by which of the
/// four rows are non-zero there (a pattern: one of 15), each group by a
/// loop that does the FMAs of exactly those rows. A pair of rows does FMAs
/// for both at every depth where either is non-zero; on the wide model's
/// batches that is 0.29 of the dense FMAs for X W1 against 0.19 needed,
/// 0.60 against 0.41 for H1 W2, 0.71 against 0.55 for dH2 W2^T, 0.65
/// against 0.41 for H1^T dH2. The lists cost a pass over the
/// depth per pattern, so a group of rows builds them once, for its first
/// column tile, and needs this many column tiles to share them: without
/// its FMAs the wide model's X W1 took 39 us on one thread, mostly lists;
/// by pattern, the seed model's X W1 (two column tiles) took 13.0-13.2 us
/// on two threads against 10.1 with pairs, 22.5-23.3 on one against
/// 17.3-17.9.
/// Measured against two-row tiles (best calls of an epoch, interleaved
/// runs): on one thread X W1 280-286 us against 302-326, H1 W2 347-371
/// against 398-423, dH2 W2^T 385-411 against 439-483; on two threads
/// 142-144 against 161-165, 180-184 against 206-209 and 217-221 against
/// 226-232.
constexpr int64_t kPatternRows = 4;
constexpr int64_t kMinPatternColumnTiles = 4;
/// The most stack the lists of a product's row groups may take (the wide
/// model's X W1 takes 100 KiB).
constexpr int64_t kMaxPatternListBytes = 512 << 10;
/// The longest depth (batch) for which rows of a weight gradient get bit
/// masks of their non-zero depths: a few 64-bit words per row.
constexpr int64_t kMaxMaskedDepth = 256;

/// A product's shape: C [m, n] = op(A) [m, depth] op(B) [depth, n], with
/// A stored transposed (ta) or B (tb).
struct ContractionShape {
  int64_t m = 0, n = 0, depth = 0;
  bool ta = false, tb = false;
  static ContractionShape of(const KernelFormInfo &info);
};

/// See ContractionEmitter::splitsDepth; `threaded` when the kernel has a
/// barrier to call.
bool splitsDepth(const ContractionShape &s, bool threaded);
/// See ContractionEmitter::usesDepthMasks.
bool usesDepthMasks(const ContractionShape &s, unsigned vectorWidth,
                    bool skipZeros);

class ContractionEmitter : KernelSite {
public:
  ContractionEmitter(KernelBuilder &kb, const Graph &body,
                     const KernelFormInfo &info,
                     llvm::ArrayRef<TensorRef> inputs,
                     llvm::ArrayRef<TensorRef> outputs, ThreadInfo threads,
                     const ContractionOptions &options);

  void emit();

private:
  /// Whether threads split the depth rather than the output: for a product
  /// with few rows (a batch) and a large B that is a weight, such as the
  /// first layer's X W. Splitting B's rows gives each thread the rows of
  /// the weight that it also updates (see KernelBuilder::ownedRows), where
  /// splitting the output's columns would have every step move a quarter
  /// of the weight between cores, twice.
  bool splitsDepth() const {
    return codegen::splitsDepth({m, n, depth, ta, tb}, threads.barrier);
  }

  /// Each thread sums its own rows of the depth into a partial C in the
  /// thread scratch memory; after a barrier, each adds up every thread's
  /// partial for its rows of C, in thread order, and applies the epilogue.
  void emitSplitDepth(int64_t colTiles, int64_t rowTiles);

  /// Whether rows get a bit mask of their non-zero depths instead of a
  /// scanned list: for a mostly-zero A stored [depth, m] (A transposed, the
  /// weight gradient X^T dY) with a short depth (the batch). The masks of
  /// a group of rows come from one vector compare per depth, and each row
  /// then visits only its own non-zero depths with a one-row tile; a list
  /// per tile of four rows took a scalar pass over the depth per tile and
  /// visited every depth where any of the four rows was non-zero (28% of
  /// them on MNIST, against 19% for one row).
  bool usesDepthMasks() const {
    return codegen::usesDepthMasks({m, n, depth, ta, tb}, vw, skipZeros);
  }

  unsigned depthMaskBits() const { return depth <= 32 ? 32 : 64; }

  /// A row's mask is `words` integers of maskBits bits, bit k of word w set
  /// when A(row, w * maskBits + k) is not zero (either sign).
  void emitWithDepthMasks();

  /// The pattern lists (kPatternRows) of the rows whose masks start at
  /// rowMasks, `words` words of `stride` apart: into patternList and
  /// patternEnds, for every column tile of the rows.
  void listMaskedPatterns(Value *rowMasks, int64_t words, int64_t stride);

  /// The lanes 0, 1, ... of a vector of `lanes` i64.
  Value *groupLaneIndex(unsigned lanes);

  /// Rows [row0, row0 + rowTile) of C over the tile columns from col0: the
  /// sums over the depths set in any of the rows' mask words (word w of
  /// row row0 + r at rowMasks[w * stride + r]), then the epilogue on the
  /// rows before rowEnd. A row visits the depths where only the other row
  /// is non-zero too, adding exact zeros.
  /// When `prefetchState` (an i1, null when the state is too small to
  /// prefetch on any thread count) is true, the tile first asks for the
  /// lines of `state` kPrefetchTilesAhead tiles on.
  void emitMaskedRows(Value *row0, Value *rowEnd, Value *col0, Value *rowMasks,
                      int64_t words, int64_t stride,
                      llvm::ArrayRef<llvm::AllocaInst *> acc,
                      llvm::AllocaInst *tile, llvm::ArrayRef<Value *> state,
                      Value *prefetchState);

  /// Copies the tile columns [col0, col0 + tileCols) of op(B), where B is
  /// stored [n, depth], to a [depth, tileCols] panel on the stack, so that
  /// its rows load as vectors. Every row tile then reads the panel. Whole
  /// squares of vw x vw go through registers (vw row loads, a transpose,
  /// vw row stores); the depths past the last whole square go one by one.
  /// Columns past n are not copied: the tiles mask them out.
  void packPanel(Value *col0);

  /// Transposes a square of vw vectors of vw lanes in place: for each bit
  /// of the lane index, the elements whose row and column differ in that
  /// bit trade places with the element both bits flipped, one two-source
  /// shuffle per vector.
  void transposeSquare(llvm::MutableArrayRef<Value *> square);

  void pickScratch();

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
    Value *index = ta ? b.CreateAdd(b.CreateMul(k, aRowStride()), i)
                      : b.CreateAdd(b.CreateMul(i, aRowStride()), k);
    if (!aOrigin)
      return a.load(kb, index);
    return b.CreateLoad(ft, b.CreateInBoundsGEP(ft, aOrigin, index));
  }

  /// Where A's stored rows start and how far apart they are: A's buffer
  /// and its column count, or for an A blocked by owner (ContractionOptions
  /// ::aBlockedByOwner) this thread's block, shifted so that its own
  /// columns keep their indices, and the block's width.
  Value *aBase() { return aOrigin ? aOrigin : a.ptr; }
  Value *aRowStride() { return aStride ? aStride : kb.index(a.type.dim(1)); }
  /// Points A's accesses at this thread's block, for an A blocked by
  /// owner: `rows` stored rows, of which this thread owns the columns
  /// [begin, end).
  void useOwnBlockOfA(int64_t rows, Value *begin, Value *end);

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
  /// `block` is the index of the k block; `freshLists` is true in the
  /// first column tile this thread visits, where tiles by pattern build
  /// the lists that the next column tiles reuse.
  void emitTile(Value *row0, Value *col0, Value *k0, Value *k1, Value *first,
                Value *last, Value *block, Value *freshLists);

  /// The sums of a tile by pattern (kPatternRows): for each of the 15
  /// patterns, a loop over its depths that adds only the rows in it.
  void accumulateByPattern(Value *row0, llvm::ArrayRef<Value *> rows,
                           Value *col0, llvm::ArrayRef<TileColumn> cols,
                           Value *k0, Value *k1, Value *block,
                           Value *freshLists,
                           llvm::ArrayRef<llvm::AllocaInst *> acc);

  /// Writes to `list` the depths in [k0, k1) at which some row of the tile
  /// is not zero, pattern after pattern (pattern p: bit r set when row r
  /// is not zero), each in increasing order, and to ends[p - 1] where
  /// pattern p's depths end. A pattern's depths come from a vector compare
  /// per row and a compress per vector of depths.
  void buildPatternLists(llvm::ArrayRef<Value *> rows, Value *k0, Value *k1,
                         Value *list, Value *ends);

  /// The second half of buildPatternLists: the lists from the rows' bits
  /// in rowBits, `words` of them a row, the first for depth k0.
  void listPatterns(Value *k0, Value *words, Value *list, Value *ends);

  /// Where word w of row r's non-zero bits is in rowBits.
  Value *rowBitsAt(int64_t r, Value *w) {
    return b.CreateInBoundsGEP(b.getIntNTy(vw), rowBits,
                               b.CreateAdd(kb.index(r * rowBitWords), w));
  }

  /// The stack space of tiles by pattern: `listEntries` depths of lists,
  /// `endSets` sets of pattern ends, `bitWords` words of bits per row.
  void allocatePatternLists(int64_t listEntries, int64_t endSets,
                            int64_t bitWords);

  /// The 15 loops, pattern p over list[ends[p - 2], ends[p - 1]).
  void accumulatePatterns(Value *list, Value *ends, Value *col0,
                          llvm::ArrayRef<TileColumn> cols,
                          llvm::ArrayRef<Value *> rows,
                          llvm::ArrayRef<llvm::AllocaInst *> acc);

  /// Runs `finish` on each vector of the tile's sums inside the matrix
  /// (rows before rowEnd, columns before n): unrolled for a small tile;
  /// for a larger one the sums leave the registers through the tile
  /// buffer, so that what `finish` generates (the epilogue) is generated
  /// once and run in a loop.
  void forEachTileVector(
      Value *row0, Value *col0, Value *rowEnd,
      llvm::ArrayRef<llvm::AllocaInst *> acc, llvm::AllocaInst *tile,
      llvm::function_ref<void(Value *, Value *, const TileColumn &)> finish);

  /// One depth k of a tile: a vector of B's row k per tile column, one
  /// element of A per tile row broadcast, an FMA into each accumulator;
  /// only for the rows whose bit is set in `rowSet`.
  void accumulateDepth(Value *k, Value *col0, llvm::ArrayRef<TileColumn> cols,
                       llvm::ArrayRef<Value *> rows,
                       llvm::ArrayRef<llvm::AllocaInst *> acc,
                       unsigned rowSet = ~0u);

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
                              Value *k1);

  Value *cIndex(Value *row, Value *col) {
    return b.CreateAdd(b.CreateMul(row, kb.index(n)), col);
  }

  /// The epilogue's inputs of C's full shape, f32: an optimizer's state,
  /// read and written once a step, tile by tile.
  llvm::SmallVector<Value *, 4> epilogueStateInputs();

  /// Asks for the lines of `state` in the tile at rows [row0, row0 +
  /// rowTile), the columns from col0, to be brought into L1.
  void prefetchTile(llvm::ArrayRef<Value *> state, Value *row0, Value *col0);

  /// The epilogue on one vector of C: every element-wise op of the body,
  /// its side inputs read as vectors, then the yields stored.
  void emitEpilogue(Value *c, Value *row, Value *col, Value *mask);

  unsigned vw;
  int64_t rowTile = 4, vectorsPerTile = 4, depthBlock = kMaxDepthBlock;
  bool skipZeros;
  bool compressInRegisters;
  /// Tiles over a mostly-zero A visit their depths by pattern.
  bool byPattern = false;
  bool aMostlyZero = false;
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, depth = 0;
  TensorRef a, bIn;
  bool aBlocked = false;
  Value *aOrigin = nullptr, *aStride = nullptr;
  llvm::AllocaInst *panel = nullptr;
  llvm::AllocaInst *depthList = nullptr, *depthCount = nullptr;
  /// The pattern lists of every group of rows and k block: patternSegment
  /// depths a group, patternBlocks x 16 ends a group (for a weight
  /// gradient, the one group being visited); rowBits holds a tile's rows'
  /// non-zero bits, a word per vector of depths.
  llvm::AllocaInst *patternList = nullptr, *patternEnds = nullptr,
                   *rowBits = nullptr, *patternCount = nullptr;
  int64_t patternSegment = 0, patternBlocks = 0, rowBitWords = 0;
  llvm::Type *ft = nullptr;
  llvm::FixedVectorType *vt = nullptr;
  Value *scratch = nullptr;
  llvm::AllocaInst *tileSlots = nullptr;
  std::unique_ptr<ScalarValues> scalars;
  llvm::DenseMap<const nnc::Value *, unsigned> argIndex;
};

} // namespace nnc::codegen

#endif
