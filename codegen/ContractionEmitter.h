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

// The constants below were chosen by measurement: the figures, and the
// models, shapes and thread counts they were taken on, are in
// docs/benchmarks.md, "Tuning the contraction tiles".

/// 16 accumulators, half of AVX-512's 32 vector registers, leave room for
/// B's vectors and A's broadcasts: up to 4 vectors wide, the rest rows.
constexpr int64_t kAccumulators = 16;
constexpr int64_t kMaxVectorsPerTile = 4;
/// A k block of B for one column tile: at most 16 KiB (half of L1) and 64
/// rows, so that it stays in L1 while every row tile reads it.
constexpr int64_t kBlockBytes = 16 << 10;
constexpr int64_t kMaxDepthBlock = 64;
/// Blocking the depth costs a write and a read of the partial sums per
/// block. When C is larger than L2 (a convolution's rows are the batch's
/// output pixels) that traffic goes to memory; if B's whole panel fits in
/// L2, the depth then runs unblocked, streaming B from L2.
constexpr int64_t kL2Bytes = 1 << 20;
constexpr int64_t kMaxUnblockedPanelBytes = 256 << 10;
/// Rows below which threads split columns (or the depth) instead.
constexpr int64_t kMinRowsToSplit = 64;
/// From this many column tiles of a transposed B, threads split the
/// columns, so that each packs only its own panels; unless the rows are
/// at least kMinRowsOverPacking. Then each thread packing all of B costs
/// little against its rows, and rows split evenly, where a few column tiles
/// do not: a convnet's input gradient (15,488 rows, 288 columns in tiles
/// of 4, 4, 4, 4 and 2 vectors) split them 8 to 10 vectors.
constexpr int64_t kMinPackedTiles = 4;
constexpr int64_t kMinRowsOverPacking = 2048;
/// Tiles over a mostly-zero A, 2 rows by up to 8 vectors (16 accumulators):
/// two rows share each load of B, which a one-row tile pays per FMA.
constexpr int64_t kMaxVectorsPerSparseRow = 8;
constexpr int64_t kSparseRows = 2;
/// Their k block: a row reads only B's rows at its non-zero depths, so a
/// block past L1 still hits; 1024 leaves the measured depths (784 and 512)
/// unblocked, which was fastest.
constexpr int64_t kSparseDepthBlock = 1024;
/// Their k block over a packed B: 128 (32 KiB of a 64-column panel) was
/// faster than 64 or 256.
constexpr int64_t kSparsePackedDepthBlock = 128;
/// A product with few rows splits its depth between threads instead when
/// the depth is at least this, and B at least kMinSplitDepthBytes.
constexpr int64_t kMinSplitDepth = 256;
constexpr int64_t kMinSplitDepthBytes = 64 << 10;
/// Tiles up to this many vectors run their epilogue unrolled in registers:
/// it pays on short depth loops; unrolling larger ones only slowed compiling.
constexpr int64_t kMaxUnrolledEpilogueVectors = 8;
/// Weight gradients prefetch a later tile's optimizer state when a thread's
/// share is at least twice the 1 MiB L2 (so from L3); below, it did not pay.
constexpr int64_t kMinPrefetchedStateBytes = 2 << 20;
/// The prefetch asks two tiles ahead: as fast as one on a quiet machine,
/// faster on a busy one.
constexpr int64_t kPrefetchTilesAhead = 2;
/// Tiles of 4 rows by 4 vectors over a mostly-zero A visit the depths by
/// which rows are non-zero there (one of 15 patterns), doing only the FMAs
/// needed where pairs of rows do both. The lists cost a pass over the depth
/// per pattern, so enough column tiles must share them: with two, pairs won.
constexpr int64_t kPatternRows = 4;
constexpr int64_t kMinPatternColumnTiles = 4;
/// The stack the lists of a product's row groups may take; a product that
/// needs more keeps its pairs.
constexpr int64_t kMaxPatternListBytes = 512 << 10;
/// The longest depth (batch) whose weight-gradient rows get bit masks of
/// their non-zero depths: a few 64-bit words per row.
constexpr int64_t kMaxMaskedDepth = 256;

/// Dense tiles over an A stored transposed ([depth, m], a convolution's
/// patches in its filter gradient) read, at each depth, a few floats of one
/// line of A, a line that only the tiles of the same 16 rows share: the
/// first of them waits for it, from memory when A is larger than L2. Each
/// tile asks at every depth for the line of the rows this far ahead, which
/// the hardware prefetchers do not fetch for a stride of a whole row of A.
/// Measured on mnist_cnn's second filter gradient (one thread, interleaved
/// runs): 111-113 GFLOP/s without, 157-160 with 16 rows (one line) ahead,
/// 152-156 with 32.
constexpr int64_t kPrefetchRowsAhead = 16;

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
  /// visited every depth where any of the four rows was non-zero.
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
  void listMaskedPatterns(llvm::Value *rowMasks, int64_t words, int64_t stride);

  /// The lanes 0, 1, ... of a vector of `lanes` i64.
  llvm::Value *groupLaneIndex(unsigned lanes);

  /// Rows [row0, row0 + rowTile) of C over the tile columns from col0: the
  /// sums over the depths set in any of the rows' mask words (word w of
  /// row row0 + r at rowMasks[w * stride + r]), then the epilogue on the
  /// rows before rowEnd. A row visits the depths where only the other row
  /// is non-zero too, adding exact zeros.
  /// When `prefetchState` (an i1, null when the state is too small to
  /// prefetch on any thread count) is true, the tile first asks for the
  /// lines of `state` kPrefetchTilesAhead tiles on.
  void emitMaskedRows(llvm::Value *row0, llvm::Value *rowEnd, llvm::Value *col0,
                      llvm::Value *rowMasks, int64_t words, int64_t stride,
                      llvm::ArrayRef<llvm::AllocaInst *> acc,
                      llvm::AllocaInst *tile,
                      llvm::ArrayRef<llvm::Value *> state,
                      llvm::Value *prefetchState);

  /// Copies the tile columns [col0, col0 + tileCols) of op(B), where B is
  /// stored [n, depth], to a [depth, tileCols] panel on the stack, so that
  /// its rows load as vectors. Every row tile then reads the panel. Whole
  /// squares of vw x vw go through registers (vw row loads, a transpose,
  /// vw row stores); the depths past the last whole square go one by one.
  /// Columns past n are not copied: the tiles mask them out.
  void packPanel(llvm::Value *col0);

  /// Transposes a square of vw vectors of vw lanes in place: for each bit
  /// of the lane index, the elements whose row and column differ in that
  /// bit trade places with the element both bits flipped, one two-source
  /// shuffle per vector.
  void transposeSquare(llvm::MutableArrayRef<llvm::Value *> square);

  void pickScratch();

  /// Where row k, column `col` of op(B) is: in B itself, or in the panel
  /// packed for the tile starting at `col0`.
  /// The pointer is to column col0 of row k, so that the tile's vectors
  /// are constant offsets from it: one address computation per row of B,
  /// the loads folded into the FMAs.
  std::pair<llvm::Value *, llvm::Value *>
  bAddress(llvm::Value *k, llvm::Value *col, llvm::Value *col0) {
    llvm::Value *rowStart =
        tb ? b.CreateInBoundsGEP(ft, panel,
                                 b.CreateMul(k, kb.index(vw * vectorsPerTile)))
           : b.CreateInBoundsGEP(
                 ft, bIn.ptr, b.CreateAdd(b.CreateMul(k, kb.index(n)), col0));
    return {rowStart, b.CreateSub(col, col0)};
  }

  /// Lanes of the vector at column `col` that are inside the matrix.
  llvm::Value *laneMask(llvm::Value *col) {
    llvm::Value *lanes =
        b.CreateAdd(b.CreateVectorSplat(vw, col), stepVector());
    return b.CreateICmpSLT(lanes, b.CreateVectorSplat(vw, kb.index(n)));
  }

  llvm::Value *stepVector() {
    llvm::SmallVector<llvm::Constant *, 16> steps;
    for (unsigned i = 0; i < vw; ++i)
      steps.push_back(b.getInt64(i));
    return llvm::ConstantVector::get(steps);
  }

  bool columnsDivide() const { return n % vw == 0; }

  llvm::Value *loadVector(llvm::Value *ptr, ElementType e, llvm::Value *index,
                          llvm::Value *mask) {
    llvm::Type *st = storageType(b.getContext(), e);
    auto *vecType = llvm::FixedVectorType::get(st, vw);
    llvm::Value *addr = b.CreateInBoundsGEP(st, ptr, index);
    llvm::Value *v;
    if (mask)
      v = b.CreateMaskedLoad(vecType, addr, llvm::Align(elementByteSize(e)),
                             mask, llvm::Constant::getNullValue(vecType));
    else
      v = b.CreateAlignedLoad(vecType, addr, llvm::Align(elementByteSize(e)));
    if (e == ElementType::I1)
      v = b.CreateICmpNE(v, llvm::Constant::getNullValue(vecType));
    return v;
  }

  void storeVector(llvm::Value *ptr, ElementType e, llvm::Value *index,
                   llvm::Value *value, llvm::Value *mask) {
    llvm::Type *st = storageType(b.getContext(), e);
    auto *vecType = llvm::FixedVectorType::get(st, vw);
    if (e == ElementType::I1)
      value = b.CreateZExt(value, vecType);
    llvm::Value *addr = b.CreateInBoundsGEP(st, ptr, index);
    if (mask)
      b.CreateMaskedStore(value, addr, llvm::Align(elementByteSize(e)), mask);
    else
      b.CreateAlignedStore(value, addr, llvm::Align(elementByteSize(e)));
  }

  /// A(i, k) as a scalar.
  llvm::Value *aElement(llvm::Value *i, llvm::Value *k) {
    llvm::Value *index = ta ? b.CreateAdd(b.CreateMul(k, aRowStride()), i)
                            : b.CreateAdd(b.CreateMul(i, aRowStride()), k);
    if (!aOrigin)
      return a.load(kb, index);
    return b.CreateLoad(ft, b.CreateInBoundsGEP(ft, aOrigin, index));
  }

  /// Where A's stored rows start and how far apart they are: A's buffer
  /// and its column count, or for an A blocked by owner (ContractionOptions
  /// ::aBlockedByOwner) this thread's block, shifted so that its own
  /// columns keep their indices, and the block's width.
  llvm::Value *aBase() { return aOrigin ? aOrigin : a.ptr; }
  llvm::Value *aRowStride() {
    return aStride ? aStride : kb.index(a.type.dim(1));
  }
  /// Points A's accesses at this thread's block, for an A blocked by
  /// owner: `rows` stored rows, of which this thread owns the columns
  /// [begin, end).
  void useOwnBlockOfA(int64_t rows, llvm::Value *begin, llvm::Value *end);

  /// The column of vector `v` of a tile, whether it starts inside the
  /// matrix, and the lanes inside it (null when every column is).
  struct TileColumn {
    llvm::Value *col, *valid, *mask;
  };
  TileColumn tileColumn(llvm::Value *col0, llvm::Value *v) {
    llvm::Value *col = b.CreateAdd(col0, b.CreateMul(v, kb.index(vw)));
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
  void emitTile(llvm::Value *row0, llvm::Value *col0, llvm::Value *k0,
                llvm::Value *k1, llvm::Value *first, llvm::Value *last,
                llvm::Value *block, llvm::Value *freshLists);

  /// The sums of a tile by pattern (kPatternRows): for each of the 15
  /// patterns, a loop over its depths that adds only the rows in it.
  void accumulateByPattern(llvm::Value *row0,
                           llvm::ArrayRef<llvm::Value *> rows,
                           llvm::Value *col0, llvm::ArrayRef<TileColumn> cols,
                           llvm::Value *k0, llvm::Value *k1, llvm::Value *block,
                           llvm::Value *freshLists,
                           llvm::ArrayRef<llvm::AllocaInst *> acc);

  /// Writes to `list` the depths in [k0, k1) at which some row of the tile
  /// is not zero, pattern after pattern (pattern p: bit r set when row r
  /// is not zero), each in increasing order, and to ends[p - 1] where
  /// pattern p's depths end. A pattern's depths come from a vector compare
  /// per row and a compress per vector of depths.
  void buildPatternLists(llvm::ArrayRef<llvm::Value *> rows, llvm::Value *k0,
                         llvm::Value *k1, llvm::Value *list, llvm::Value *ends);

  /// The second half of buildPatternLists: the lists from the rows' bits
  /// in rowBits, `words` of them a row, the first for depth k0.
  void listPatterns(llvm::Value *k0, llvm::Value *words, llvm::Value *list,
                    llvm::Value *ends);

  /// Where word w of row r's non-zero bits is in rowBits.
  llvm::Value *rowBitsAt(int64_t r, llvm::Value *w) {
    return b.CreateInBoundsGEP(b.getIntNTy(vw), rowBits,
                               b.CreateAdd(kb.index(r * rowBitWords), w));
  }

  /// The stack space of tiles by pattern: `listEntries` depths of lists,
  /// `endSets` sets of pattern ends, `bitWords` words of bits per row.
  void allocatePatternLists(int64_t listEntries, int64_t endSets,
                            int64_t bitWords);

  /// The 15 loops, pattern p over list[ends[p - 2], ends[p - 1]).
  void accumulatePatterns(llvm::Value *list, llvm::Value *ends,
                          llvm::Value *col0, llvm::ArrayRef<TileColumn> cols,
                          llvm::ArrayRef<llvm::Value *> rows,
                          llvm::ArrayRef<llvm::AllocaInst *> acc);

  /// Runs `finish` on each vector of the tile's sums inside the matrix
  /// (rows before rowEnd, columns before n): unrolled for a small tile;
  /// for a larger one the sums leave the registers through the tile
  /// buffer, so that what `finish` generates (the epilogue) is generated
  /// once and run in a loop.
  void forEachTileVector(
      llvm::Value *row0, llvm::Value *col0, llvm::Value *rowEnd,
      llvm::ArrayRef<llvm::AllocaInst *> acc, llvm::AllocaInst *tile,
      llvm::function_ref<void(llvm::Value *, llvm::Value *, const TileColumn &)>
          finish);

  /// One depth k of a tile: a vector of B's row k per tile column, one
  /// element of A per tile row broadcast, an FMA into each accumulator;
  /// only for the rows whose bit is set in `rowSet`.
  void accumulateDepth(llvm::Value *k, llvm::Value *col0,
                       llvm::ArrayRef<TileColumn> cols,
                       llvm::ArrayRef<llvm::Value *> rows,
                       llvm::ArrayRef<llvm::AllocaInst *> acc,
                       unsigned rowSet = ~0u);

  /// Whether dense tiles ask for A's lines kPrefetchRowsAhead rows on:
  /// for an A stored transposed, with rows beyond the first line, and
  /// larger than L2 (a smaller one, such as a layer's activations of one
  /// batch, waits in L2 if anywhere).
  bool prefetchesRowsAhead() const {
    return ta && !aOrigin && m > kPrefetchRowsAhead &&
           m * depth * int64_t(sizeof(float)) > kL2Bytes;
  }

  /// Asks for A(row + kPrefetchRowsAhead, k) to be brought into L1.
  void prefetchRowsAhead(llvm::Value *row, llvm::Value *k);

  /// Lanes of a tile column to load: none when it starts past n.
  llvm::Value *vectorMask(const TileColumn &c) {
    if (n % (vw * vectorsPerTile) == 0)
      return nullptr; // every tile is whole
    llvm::Value *valid = b.CreateVectorSplat(vw, c.valid);
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
  llvm::Value *collectNonzeroDepths(llvm::ArrayRef<llvm::Value *> rows,
                                    llvm::Value *k0, llvm::Value *k1);

  llvm::Value *cIndex(llvm::Value *row, llvm::Value *col) {
    return b.CreateAdd(b.CreateMul(row, kb.index(n)), col);
  }

  /// The epilogue's inputs of C's full shape, f32: an optimizer's state,
  /// read and written once a step, tile by tile.
  llvm::SmallVector<llvm::Value *, 4> epilogueStateInputs();

  /// Asks for the lines of `state` in the tile at rows [row0, row0 +
  /// rowTile), the columns from col0, to be brought into L1.
  void prefetchTile(llvm::ArrayRef<llvm::Value *> state, llvm::Value *row0,
                    llvm::Value *col0);

  /// The epilogue on one vector of C: every element-wise op of the body,
  /// its side inputs read as vectors, then the yields stored.
  void emitEpilogue(llvm::Value *c, llvm::Value *row, llvm::Value *col,
                    llvm::Value *mask);

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
  llvm::Value *aOrigin = nullptr, *aStride = nullptr;
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
  llvm::Value *scratch = nullptr;
  llvm::AllocaInst *tileSlots = nullptr;
  std::unique_ptr<ScalarValues> scalars;
  llvm::DenseMap<const nnc::Value *, unsigned> argIndex;
};

} // namespace nnc::codegen

#endif
