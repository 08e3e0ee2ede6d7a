//===- PanelPacking.cpp - A transposed B, packed for the tiles ------------===//
#include "codegen/ContractionEmitter.h"

namespace nnc::codegen {

using llvm::Value;

void ContractionEmitter::packPanel(Value *col0) {
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
                          b.CreateAdd(b.CreateMul(k, kb.index(tileCols)), j0)),
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
                         b.CreateAdd(b.CreateMul(k, kb.index(tileCols)), j), v);
              },
              "k");
        });
      },
      "j");
}

void ContractionEmitter::transposeSquare(
    llvm::MutableArrayRef<Value *> square) {
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

} // namespace nnc::codegen
