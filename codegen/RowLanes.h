//===- RowLanes.h - A short row as one vector of lanes ----------*- C++ -*-===//
//
// A row of up to 16 columns held as one vector, lane j for column j: the
// masks of its lanes, loads and stores of only its columns, its maximum
// and its log-sum-exp. The row-wise kernel form computes such rows an op
// at a time, each op doing to each lane what the loop over the columns
// does to each element.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_CODEGEN_ROWLANES_H
#define NNC_CODEGEN_ROWLANES_H

#include "codegen/GenericKernel.h"

namespace nnc::codegen {

class RowLanes {
public:
  /// Rows up to this long are one vector.
  static constexpr unsigned kLanes = 16;

  RowLanes(KernelBuilder &kb, int64_t cols)
      : kb(kb), b(kb.builder()), cols(cols) {}

  /// Whether rows of `cols` columns fit in one vector.
  static bool fits(int64_t cols) { return cols <= kLanes; }

  /// The lanes 0, 1, ... as i64.
  llvm::Value *steps();
  /// The lanes of the row's columns.
  llvm::Value *mask();
  /// The row's columns from `ptr` + `start`, zero in the other lanes.
  llvm::Value *load(llvm::Value *ptr, ElementType e, llvm::Value *start);
  /// Stores the row's columns at `ptr` + `start`.
  void store(llvm::Value *ptr, ElementType e, llvm::Value *start,
             llvm::Value *lanes);
  /// The largest lane, the lanes compared pairwise in a tree.
  llvm::Value *maximum(llvm::Value *row);
  /// log(sum(exp(x))) of a row whose lanes past its columns are -inf.
  llvm::Value *logSumExp(llvm::Value *row);

private:
  KernelBuilder &kb;
  llvm::IRBuilder<> &b;
  int64_t cols;
};

} // namespace nnc::codegen

#endif
