//===- ConvolutionToGemm.cpp - Convolutions as matrix products ------------===//
//
// Rewrites each convolution as a product of matrices (im2col, as Caffe and
// Glow do), so that it runs on the tuned contraction kernels with their
// epilogues instead of the generic loop nest. With M = N*OH*OW output
// pixels, K = KH*KW*C taps and F filters:
//
//   conv2d(x, w)                 -> reshape(matmul(P, W) : [M, F])
//   conv2d_backprop_filter(x, dy)-> reshape(matmul(P, DY, transpose_a) : [K,
//   F]) conv2d_backprop_input(dy, w) -> patches_to_image(reshape(
//                                       matmul(DY, W, transpose_b) : [M, K]))
//
// where P = reshape(extract_patches(x)) : [M, K], W = reshape(w) : [K, F]
// and DY = reshape(dy) : [M, F]. A 1x1 window with unit strides and no
// padding needs no patches: P is x itself, viewed as [M, C]. The forward
// product and the filter gradient extract the same patches, which CSE
// merges.
//
// A reshape is a view (the memory plan gives it its operand's buffer), but
// the fusion pass only fuses element-wise ops of the product's own shape
// into its epilogue. So the pass then moves reshapes below element-wise
// ops: an element-wise op on values of shape [..., F] (rank 3 or more)
// that reads a view of an [M, F] value or a variable (whose view is free),
// and otherwise only values of its shape, scalars and rows [F] broadcast
// along the last axis, becomes the op on [M, F] followed by one reshape.
// Repeated, the bias and relu after a convolution, the relu mask of the
// backward pass and a filter's whole Adam update move onto the products'
// [M, F] and [K, F], where fusion gives them to the products' epilogues;
// the filter and its moments are read, and written in place, through
// views. A sum over all axes but the last of such a view (a bias
// gradient) becomes a sum over the rows of the [M, F] value, and of any
// other computed image a sum over the rows of a new [M, F] view of it.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/Builder.h"
#include "ir/StructureMatch.h"

namespace nnc {

namespace {

int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// The [M, F] form of a shape [..., F] of rank 3 or more, which merges
/// every axis but the last.
std::optional<Shape> matrixForm(llvm::ArrayRef<int64_t> shape) {
  if (shape.size() < 3)
    return std::nullopt;
  return Shape{product(shape.drop_back()), shape.back()};
}

bool isView(const Op &op) { return op.is(OpKind::Reshape); }

class ConvolutionToGemm : public GraphPass {
public:
  llvm::StringRef name() const override { return "conv-to-gemm"; }
  llvm::StringRef description() const override {
    return "convolutions and their gradients as matrix products over image "
           "patches, with reshapes moved below element-wise ops";
  }
  llvm::Error setOption(llvm::StringRef key, llvm::StringRef value) override {
    if (key == "sink-reshapes" && (value == "true" || value == "false")) {
      sinkReshapes = value == "true";
      return llvm::Error::success();
    }
    return Pass::setOption(key, value);
  }
  std::vector<std::string> optionHelp() const override {
    return {"sink-reshapes=true  move reshapes of the products below "
            "element-wise ops, so that they fuse"};
  }

  llvm::LogicalResult runOnGraph(Graph &g, DiagnosticEngine &) override {
    std::vector<Op *> convolutions;
    for (Op &op : g.ops())
      if (op.is(OpKind::Conv2D) || op.is(OpKind::Conv2DBackpropInput) ||
          op.is(OpKind::Conv2DBackpropFilter))
        convolutions.push_back(&op);
    for (Op *op : convolutions)
      rewriteConvolution(g, *op);
    if (convolutions.empty() || !sinkReshapes)
      return llvm::success();
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Op *> order;
      for (Op &op : g.ops())
        order.push_back(&op);
      for (Op *op : order)
        changed |= sinkThrough(g, *op);
    }
    eraseDeadOps(g);
    return llvm::success();
  }

private:
  bool sinkReshapes = true;

  //===--------------------------------------------------------------------===//
  // Convolutions
  //===--------------------------------------------------------------------===//

  /// The patches of `x` for `op`'s window, as an [M, K] matrix.
  static Value *patches(Builder &b, const Op &op, Value *x,
                        llvm::ArrayRef<int64_t> filter, int64_t rows) {
    int64_t depth = filter[0] * filter[1] * filter[2];
    if (isPointwise(op, filter))
      return b.reshape(x, {rows, depth});
    Value *p =
        b.createValue(OpKind::ExtractPatches, {x}, patchAttrs(op, filter));
    return b.reshape(p, {rows, depth});
  }

  /// A 1x1 window with unit strides and no padding reads each pixel once:
  /// the image is its own patch matrix (dilations do not matter).
  static bool isPointwise(const Op &op, llvm::ArrayRef<int64_t> filter) {
    const AttrDict &a = op.attrs();
    return filter[0] == 1 && filter[1] == 1 &&
           a.getIntList("strides") == std::vector<int64_t>{1, 1} &&
           a.getIntList("padding") == std::vector<int64_t>{0, 0, 0, 0};
  }

  static AttrDict patchAttrs(const Op &op, llvm::ArrayRef<int64_t> filter) {
    AttrDict attrs = op.attrs();
    attrs.set("window", std::vector<int64_t>{filter[0], filter[1]});
    return attrs;
  }

  void rewriteConvolution(Graph &g, Op &op) {
    Builder b(g);
    b.setInsertionPoint(&op);
    b.setLoc(op.loc());
    Value *result = nullptr;
    switch (op.kind()) {
    case OpKind::Conv2D: {
      Value *x = op.operand(0), *w = op.operand(1);
      llvm::ArrayRef<int64_t> filter = w->type().shape(),
                              y = op.result()->type().shape();
      int64_t rows = y[0] * y[1] * y[2], depth = product(filter.drop_back());
      Value *a = patches(b, op, x, filter, rows);
      Value *m = b.matmul(a, b.reshape(w, {depth, filter[3]}));
      result = b.reshape(m, y);
      break;
    }
    case OpKind::Conv2DBackpropFilter: {
      Value *x = op.operand(0), *dy = op.operand(1);
      llvm::ArrayRef<int64_t> filter = op.result()->type().shape(),
                              y = dy->type().shape();
      int64_t rows = y[0] * y[1] * y[2];
      Value *a = patches(b, op, x, filter, rows);
      Value *m = b.matmul(a, b.reshape(dy, {rows, y[3]}), /*transposeA=*/true);
      result = b.reshape(m, filter);
      break;
    }
    case OpKind::Conv2DBackpropInput: {
      Value *dy = op.operand(0), *w = op.operand(1);
      llvm::ArrayRef<int64_t> filter = w->type().shape(),
                              y = dy->type().shape();
      int64_t rows = y[0] * y[1] * y[2], depth = product(filter.drop_back());
      Value *a = b.reshape(dy, {rows, y[3]});
      Value *m = b.matmul(a, b.reshape(w, {depth, filter[3]}),
                          /*transposeA=*/false, /*transposeB=*/true);
      const TensorType &dx = op.result()->type();
      if (isPointwise(op, filter))
        result = b.reshape(m, dx.shape());
      else
        result = b.createValue(OpKind::PatchesToImage,
                               {b.reshape(m, {y[0], y[1], y[2], depth})},
                               patchAttrs(op, filter), {dx});
      break;
    }
    default:
      return;
    }
    op.result()->replaceAllUsesWith(result);
    op.erase();
    ++numConvolutions;
  }

  //===--------------------------------------------------------------------===//
  // Reshapes below element-wise ops
  //===--------------------------------------------------------------------===//

  /// `v` viewed as `shape` without a copy: the operand of a view of that
  /// shape, or a new view.
  static Value *viewAs(Builder &b, Value *v, llvm::ArrayRef<int64_t> shape) {
    if (v->type().shape() == shape)
      return v;
    if (Op *d = v->definingOp();
        d && isView(*d) && d->operand(0)->type().shape() == shape)
      return d->operand(0);
    return b.reshape(v, shape);
  }

  /// Whether `v`, of the op's full shape, is already a view of its matrix
  /// form or a variable: reading it as [M, F] is free.
  static bool viewsMatrix(const Value *v, llvm::ArrayRef<int64_t> matrix) {
    const Op *d = v->definingOp();
    if (!d)
      return false;
    if (isVariable(*d))
      return true;
    return isView(*d) && d->operand(0)->type().shape() == matrix;
  }

  bool sinkThrough(Graph &g, Op &op) {
    if (isElementwise(op))
      return sinkElementwise(g, op);
    if ((op.is(OpKind::ReduceSum) || op.is(OpKind::ReduceMean) ||
         op.is(OpKind::ReduceMax)) &&
        !op.attrs().getBool("keepdims"))
      return sinkReduction(g, op);
    return false;
  }

  bool sinkElementwise(Graph &g, Op &op) {
    llvm::ArrayRef<int64_t> shape = op.result()->type().shape();
    std::optional<Shape> matrix = matrixForm(shape);
    if (!matrix)
      return false;
    int64_t cols = shape.back();
    enum class Read { Full, Row, Scalar };
    llvm::SmallVector<Read, 3> reads;
    bool anchored = false;
    for (Value *o : op.operands()) {
      llvm::ArrayRef<int64_t> s = o->type().shape();
      if (s == shape) {
        reads.push_back(Read::Full);
        anchored |= viewsMatrix(o, *matrix);
        continue;
      }
      if (s.size() > shape.size())
        return false;
      if (s.empty()) {
        reads.push_back(Read::Scalar);
        continue;
      }
      bool ones = llvm::all_of(s.drop_back(), [](int64_t d) { return d == 1; });
      if (ones && s.back() == 1)
        reads.push_back(Read::Scalar);
      else if (ones && s.back() == cols)
        reads.push_back(Read::Row);
      else
        return false;
    }
    if (!anchored)
      return false;
    Builder b(g);
    b.setInsertionPoint(&op);
    b.setLoc(op.loc());
    llvm::SmallVector<Value *, 3> operands;
    for (unsigned i = 0; i < op.numOperands(); ++i) {
      Value *o = op.operand(i);
      switch (reads[i]) {
      case Read::Full:
        operands.push_back(viewAs(b, o, *matrix));
        break;
      case Read::Row:
        operands.push_back(viewAs(b, o, {cols}));
        break;
      case Read::Scalar:
        operands.push_back(o->type().rank() <= 2 ? o : viewAs(b, o, {1, 1}));
        break;
      }
    }
    llvm::SmallVector<TensorType, 1> declared;
    if (op.def().takesResultType)
      declared.push_back(op.result()->type().withShape(*matrix));
    auto created = b.tryCreate(op.kind(), operands, op.attrs(), declared);
    if (!created) {
      llvm::consumeError(created.takeError());
      return false;
    }
    op.result()->replaceAllUsesWith(b.reshape((*created)->result(), shape));
    op.erase();
    ++numSunk;
    return true;
  }

  /// A reduction over every axis but the last of an image: the same
  /// reduction over the rows of its [M, F] view (the view's operand, when
  /// the image is a view of [M, F]). The row-wise form runs that, with its
  /// neighbours (a bias's update); over the image's axes it would be the
  /// generic loop nest's: a bias gradient read from max_pool2d_grad, with
  /// no element-wise op between to carry the view, ran at 0.6-0.8 GFLOP/s.
  bool sinkReduction(Graph &g, Op &op) {
    Value *x = op.operand(0);
    llvm::ArrayRef<int64_t> shape = x->type().shape();
    std::optional<Shape> matrix = matrixForm(shape);
    Op *producer = x->definingOp();
    if (!matrix || !producer || isVariable(*producer) ||
        (isView(*producer) && !viewsMatrix(x, *matrix)))
      return false;
    std::vector<int64_t> leading;
    for (int64_t a = 0; a + 1 < int64_t(shape.size()); ++a)
      leading.push_back(a);
    std::vector<int64_t> axes = op.attrs().getIntList("axes");
    llvm::sort(axes);
    if (axes != leading)
      return false;
    Builder b(g);
    b.setInsertionPoint(&op);
    b.setLoc(op.loc());
    Value *r = b.reduce(op.kind(), viewAs(b, x, *matrix), {0});
    op.result()->replaceAllUsesWith(r);
    op.erase();
    ++numSunk;
    return true;
  }

  Statistic numConvolutions{this, "convolutions",
                            "convolutions rewritten as matrix products"};
  Statistic numSunk{this, "reshapes-sunk",
                    "element-wise ops and reductions moved onto matrices"};
};

} // namespace

std::unique_ptr<Pass> createConvolutionToGemmPass() {
  return std::make_unique<ConvolutionToGemm>();
}

} // namespace nnc
