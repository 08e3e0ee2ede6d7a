//===- ReductionOps.cpp - reduce_sum, reduce_mean, reduce_max, argmax -----===//
#include "ir/ops/OpHelpers.h"
#include "ir/ops/OpRegistration.h"

#include <limits>

namespace nnc {
using namespace ops;

static llvm::Expected<ResultTypes> inferReduce(const OpSignature &sig) {
  const TensorType &in = sig.operands[0];
  if (in.element() == ElementType::I1 || in.element() == ElementType::U8)
    return opError("needs a numeric operand, got " + in.str());
  const std::vector<int64_t> &axes = sig.attrs.getIntList("axes");
  if (llvm::Error err = checkAxes(axes, in.rank()))
    return err;
  return result(in.withShape(
      reducedShape(in.shape(), axes, sig.attrs.getBool("keepdims"))));
}

template <typename Combine>
static llvm::Error
evalReduce(const Op &op, llvm::ArrayRef<const HostTensor *> in,
           llvm::MutableArrayRef<HostTensor> out, Combine combine) {
  const std::vector<int64_t> &axes = op.attrs().getIntList("axes");
  for (int64_t r = 0; r < out[0].size(); ++r) {
    llvm::SmallVector<double, 0> values;
    for (int64_t i : reducedIndices(in[0]->type.shape(), axes, r))
      values.push_back((*in[0])[i]);
    out[0][r] = combine(values);
  }
  return llvm::Error::success();
}

static double sum(llvm::ArrayRef<double> v) {
  double s = 0;
  for (double x : v)
    s += x;
  return s;
}

/// The gradient of a reduced value, spread back over the operand's shape.
static Value *spread(GradContext &c, Value *perResult) {
  Op &op = c.op;
  const TensorType &inType = op.operand(0)->type();
  Shape kept = reducedShape(inType.shape(), op.attrs().getIntList("axes"),
                            /*keepdims=*/true);
  return c.b.broadcast(c.b.reshape(perResult, kept), inType.shape());
}

static void gradSum(GradContext &c) { c.setGrad(0, spread(c, c.resultGrad())); }

static void gradMean(GradContext &c) {
  int64_t count = c.operand(0)->type().numElements() /
                  std::max<int64_t>(1, c.result()->type().numElements());
  Value *scaled = c.b.div(
      c.resultGrad(), c.b.scalar(double(count), c.result()->type().element()));
  c.setGrad(0, spread(c, scaled));
}

static void gradMax(GradContext &c) {
  // Every element equal to the maximum receives the gradient.
  Value *x = c.operand(0);
  Value *isMax = c.b.compare("eq", x, spread(c, c.result()));
  Value *zero = c.b.scalar(0.0, x->type().element());
  c.setGrad(0, c.b.select(isMax, spread(c, c.resultGrad()), zero));
}

static Value *foldReduce(Op &op, Builder &b) {
  if (op.is(OpKind::ReduceSum))
    if (Value *v = foldSumOfMaxPoolGrad(op, b))
      return v;
  // Reducing no axes, or only axes of length 1, keeps every element.
  const TensorType &in = op.operand(0)->type();
  for (int64_t a : op.attrs().getIntList("axes"))
    if (in.dim(a) != 1)
      return nullptr;
  if (in == op.result()->type())
    return op.operand(0);
  return b.reshape(op.operand(0), op.result()->type().shape());
}

static llvm::Expected<ResultTypes> inferArgMax(const OpSignature &sig) {
  const TensorType &in = sig.operands[0];
  if (in.rank() == 0)
    return opError("needs an operand of rank 1 or more");
  int64_t axis = sig.attrs.getInt("axis");
  if (axis < 0 || axis >= int64_t(in.rank()))
    return opError("axis " + llvm::Twine(axis) + " is out of range for " +
                   in.str());
  return result(
      TensorType(ElementType::I32, reducedShape(in.shape(), {axis}, false)));
}

static llvm::Error evalArgMax(const Op &op,
                              llvm::ArrayRef<const HostTensor *> in,
                              llvm::MutableArrayRef<HostTensor> out) {
  int64_t axis = op.attrs().getInt("axis");
  for (int64_t r = 0; r < out[0].size(); ++r) {
    auto indices = reducedIndices(in[0]->type.shape(), {axis}, r);
    // The first maximum wins; NaN never does.
    double best = -std::numeric_limits<double>::infinity();
    int64_t bestK = 0;
    for (size_t k = 0; k < indices.size(); ++k)
      if ((*in[0])[indices[k]] > best) {
        best = (*in[0])[indices[k]];
        bestK = int64_t(k);
      }
    out[0][r] = double(bestK);
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Structure: the kept axes are the parallel dimensions, in order, and the
// reduced axes the reduction dimensions, so each result element combines
// its elements in row-major order, as the reference does.
//===----------------------------------------------------------------------===//

static StructuredStage
reductionStage(const Op &op, llvm::ArrayRef<int64_t> axes, Combiner combiner) {
  const TensorType &in = op.operand(0)->type();
  StructuredStage st;
  llvm::SmallVector<unsigned, 4> kept, reduced;
  for (unsigned d = 0; d < in.rank(); ++d)
    (llvm::is_contained(axes, int64_t(d)) ? reduced : kept).push_back(d);
  for (unsigned d : kept)
    st.domain.push_back(in.dim(d));
  for (unsigned d : reduced)
    st.domain.push_back(in.dim(d));
  st.parallel = kept.size();
  unsigned rank = st.domain.size();
  StageOperand x;
  x.operand = 0;
  x.view = Shape(in.shape());
  x.map.resize(in.rank());
  for (unsigned k = 0; k < kept.size(); ++k)
    x.map[kept[k]] = AffineExpr::dim(k, rank);
  for (unsigned k = 0; k < reduced.size(); ++k)
    x.map[reduced[k]] = AffineExpr::dim(st.parallel + k, rank);
  st.operands.push_back(std::move(x));
  st.body.input(0, in.element());
  st.combiner = reduced.empty() ? Combiner::None : combiner;
  st.type = combiner == Combiner::ArgMax ? ElementType::I32 : in.element();
  st.result = 0;
  return st;
}

template <Combiner C>
static std::optional<StructuredOp> describeReduce(const Op &op) {
  StructuredOp s;
  s.stages.push_back(reductionStage(op, op.attrs().getIntList("axes"), C));
  return s;
}

static std::optional<StructuredOp> describeMean(const Op &op) {
  StructuredOp s;
  StructuredStage sum =
      reductionStage(op, op.attrs().getIntList("axes"), Combiner::Sum);
  sum.result = -1;
  Shape kept(sum.parallelShape());
  int64_t count = op.operand(0)->type().numElements() /
                  std::max<int64_t>(1, numElements(kept));
  StructuredStage mean;
  mean.domain = kept;
  mean.parallel = kept.size();
  mean.operands.push_back(
      structured::identity(StageOperand::kNone, 0, kept, kept.size()));
  ElementType e = sum.type;
  mean.body.apply(ScalarOp::Div, {mean.body.input(0, e),
                                  mean.body.constant(double(count), e)});
  mean.type = e;
  mean.result = 0;
  s.stages.push_back(std::move(sum));
  s.stages.push_back(std::move(mean));
  return s;
}

static std::optional<StructuredOp> describeArgMax(const Op &op) {
  StructuredOp s;
  s.stages.push_back(
      reductionStage(op, {op.attrs().getInt("axis")}, Combiner::ArgMax));
  return s;
}

void registerReductionOps(const OpRegistry &add) {
  auto reduction = [&](OpKind kind, const char *name, const char *summary,
                       EvalFn eval, GradFn grad, StructureFn structure) {
    add(OpDef{.kind = kind,
              .name = name,
              .summary = summary,
              .minOperands = 1,
              .maxOperands = 1,
              .attrs = {AttrSpec::required("axes", AttrKind::IntList),
                        AttrSpec::defaulted("keepdims", false)},
              .infer = inferReduce,
              .eval = eval,
              .grad = grad,
              .fold = foldReduce,
              .structure = structure});
  };
  reduction(
      OpKind::ReduceSum, "reduce_sum", "sum over axes",
      +[](const Op &op, llvm::ArrayRef<const HostTensor *> in,
          llvm::MutableArrayRef<HostTensor> out) {
        return evalReduce(op, in, out, sum);
      },
      gradSum, describeReduce<Combiner::Sum>);
  reduction(
      OpKind::ReduceMean, "reduce_mean", "mean over axes",
      +[](const Op &op, llvm::ArrayRef<const HostTensor *> in,
          llvm::MutableArrayRef<HostTensor> out) {
        return evalReduce(op, in, out, [](llvm::ArrayRef<double> v) {
          return sum(v) / double(v.size());
        });
      },
      gradMean, describeMean);
  reduction(
      OpKind::ReduceMax, "reduce_max", "maximum over axes",
      +[](const Op &op, llvm::ArrayRef<const HostTensor *> in,
          llvm::MutableArrayRef<HostTensor> out) {
        return evalReduce(op, in, out, [](llvm::ArrayRef<double> v) {
          double m = -std::numeric_limits<double>::infinity();
          for (double x : v)
            m = std::max(m, x);
          return m;
        });
      },
      gradMax, describeReduce<Combiner::Max>);
  add(OpDef{.kind = OpKind::ArgMax,
            .name = "argmax",
            .summary = "index of the first maximum along an axis, as i32",
            .minOperands = 1,
            .maxOperands = 1,
            .attrs = {AttrSpec::required("axis", AttrKind::Int)},
            .infer = inferArgMax,
            .eval = evalArgMax,
            .structure = describeArgMax});
}

} // namespace nnc
