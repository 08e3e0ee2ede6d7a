//===- Structured.cpp - Structured descriptions: checks and evaluation ----===//
#include "ir/Structured.h"

#include "ir/Graph.h"
#include "ir/OpDef.h"

#include "llvm/ADT/Twine.h"

#include <cmath>
#include <limits>

namespace nnc {

AffineExpr AffineExpr::dim(unsigned d, unsigned rank, int64_t scale,
                           int64_t offset) {
  AffineExpr e;
  e.coeffs.assign(rank, 0);
  e.coeffs[d] = scale;
  e.offset = offset;
  return e;
}

AffineExpr AffineExpr::constant(int64_t c, unsigned rank) {
  AffineExpr e;
  e.coeffs.assign(rank, 0);
  e.offset = c;
  return e;
}

int64_t AffineExpr::evaluate(llvm::ArrayRef<int64_t> point) const {
  int64_t v = offset;
  for (size_t d = 0; d < coeffs.size(); ++d)
    v += coeffs[d] * point[d];
  return v;
}

std::optional<unsigned> AffineExpr::asDim() const {
  std::optional<unsigned> found;
  for (unsigned d = 0; d < coeffs.size(); ++d) {
    if (coeffs[d] == 0)
      continue;
    if (coeffs[d] != 1 || found)
      return std::nullopt;
    found = d;
  }
  if (offset != 0 || divisor != 1)
    return std::nullopt;
  return found;
}

bool AffineExpr::isConstant() const {
  return llvm::all_of(coeffs, [](int64_t c) { return c == 0; });
}

llvm::StringRef combinerName(Combiner c) {
  switch (c) {
  case Combiner::None:
    return "none";
  case Combiner::Sum:
    return "sum";
  case Combiner::Max:
    return "max";
  case Combiner::Min:
    return "min";
  case Combiner::ArgMax:
    return "argmax";
  case Combiner::MaxNaN:
    return "max.nan";
  case Combiner::ArgMaxNaN:
    return "argmax.nan";
  }
  return "?";
}

int64_t StructuredStage::points() const {
  int64_t n = 1;
  for (int64_t d : domain)
    n *= d;
  return n;
}

static std::string exprStr(const AffineExpr &e) {
  std::string s;
  for (unsigned d = 0; d < e.coeffs.size(); ++d) {
    if (e.coeffs[d] == 0)
      continue;
    if (!s.empty())
      s += " + ";
    if (e.coeffs[d] != 1)
      s += std::to_string(e.coeffs[d]) + "*";
    s += "d" + std::to_string(d);
  }
  if (e.offset != 0 || s.empty())
    s += (s.empty() ? "" : (e.offset < 0 ? " - " : " + ")) +
         std::to_string(s.empty() ? e.offset : std::abs(e.offset));
  if (e.divisor != 1)
    s = "(" + s + ") / " + std::to_string(e.divisor);
  return s;
}

static std::string domainStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string StructuredOp::str() const {
  std::string s;
  for (size_t k = 0; k < stages.size(); ++k) {
    const StructuredStage &st = stages[k];
    s += "stage " + std::to_string(k) + ": domain " + domainStr(st.domain);
    if (st.parallel != st.domain.size())
      s += " parallel " + std::to_string(st.parallel) + " " +
           combinerName(st.combiner).str();
    s += " -> ";
    s += st.result >= 0 ? "result " + std::to_string(st.result)
                        : std::string("intermediate");
    s += "\n";
    for (size_t i = 0; i < st.operands.size(); ++i) {
      const StageOperand &o = st.operands[i];
      s += "  in" + std::to_string(i) + " = " +
           (o.operand >= 0 ? "operand " + std::to_string(o.operand)
                           : "stage " + std::to_string(o.stage)) +
           domainStr(o.view) + "(";
      for (size_t d = 0; d < o.map.size(); ++d)
        s += (d ? ", " : "") + exprStr(o.map[d]);
      s += ")";
      if (o.padding) {
        char buf[32];
        snprintf(buf, sizeof buf, "%g", *o.padding);
        s += std::string(" padded with ") + buf;
      }
      s += "\n";
    }
    s += "  body " + st.body.str() + "\n";
  }
  return s;
}

std::optional<StructuredOp> describe(const Op &op) {
  if (!op.def().structure)
    return std::nullopt;
  return op.def().structure(op);
}

static llvm::Error structureError(const Op &op, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "the description of '" + op.name() + "' " +
                                     message);
}

/// The smallest and largest value an affine expression takes on a box.
static std::pair<int64_t, int64_t> exprRange(const AffineExpr &e,
                                             llvm::ArrayRef<int64_t> domain) {
  int64_t lo = e.offset, hi = e.offset;
  for (size_t d = 0; d < e.coeffs.size(); ++d) {
    int64_t span = e.coeffs[d] * (domain[d] - 1);
    (span < 0 ? lo : hi) += span;
  }
  auto floorDiv = [&](int64_t x) {
    return x >= 0 ? x / e.divisor : -((-x + e.divisor - 1) / e.divisor);
  };
  return {floorDiv(lo), floorDiv(hi)};
}

llvm::Error verifyStructured(const Op &op, const StructuredOp &s) {
  llvm::SmallVector<bool, 2> written(op.numResults(), false);
  for (size_t k = 0; k < s.stages.size(); ++k) {
    const StructuredStage &st = s.stages[k];
    std::string where = "stage " + std::to_string(k);
    if (st.parallel > st.domain.size())
      return structureError(op, where + " has more parallel dimensions than "
                                        "its domain");
    if ((st.combiner == Combiner::None) != (st.parallel == st.domain.size()))
      return structureError(op, where + " has reduction dimensions without a "
                                        "combiner, or the reverse");
    if (st.body.empty())
      return structureError(op, where + " has no body");
    for (const ScalarNode &n : st.body.nodes()) {
      if (n.op == ScalarOp::Input && n.slot >= int64_t(st.operands.size()))
        return structureError(op, where + " reads operand " +
                                      llvm::Twine(n.slot) + " it lacks");
      if (n.op == ScalarOp::Index && n.slot >= int64_t(st.domain.size()))
        return structureError(op, where + " reads a loop index it lacks");
    }
    for (const StageOperand &o : st.operands) {
      Shape shape;
      if (o.operand >= 0) {
        if (o.operand >= int(op.numOperands()))
          return structureError(op, where + " reads a missing operand");
        shape = Shape(op.operand(o.operand)->type().shape());
      } else {
        if (o.stage < 0 || o.stage >= int(k))
          return structureError(op, where + " reads a later stage");
        shape = Shape(s.stages[o.stage].parallelShape());
      }
      if (numElements(o.view) != numElements(shape))
        return structureError(op, where + " views " + domainStr(shape) +
                                      " as " + domainStr(o.view));
      if (o.map.size() != o.view.size())
        return structureError(op, where + " maps " + llvm::Twine(o.map.size()) +
                                      " indices into " + domainStr(o.view));
      for (size_t d = 0; d < o.map.size(); ++d) {
        if (o.map[d].coeffs.size() != st.domain.size())
          return structureError(op, where + " has a map of the wrong rank");
        if (o.map[d].divisor < 1 || (o.map[d].divisor != 1 && !o.padding))
          return structureError(op, where + " divides an index without "
                                            "padding for inexact quotients");
        auto [lo, hi] = exprRange(o.map[d], st.domain);
        if (!o.padding && st.points() > 0 && (lo < 0 || hi >= o.view[d]))
          return structureError(op, where + " reads outside " +
                                        domainStr(o.view) + " unpadded");
      }
    }
    if (st.result >= 0) {
      if (st.result >= int(op.numResults()) || written[st.result])
        return structureError(op, where + " writes a result twice");
      written[st.result] = true;
      const TensorType &t = op.result(st.result)->type();
      if (t.numElements() != numElements(st.parallelShape()) ||
          t.element() != st.type)
        return structureError(
            op, where + " writes " + domainStr(st.parallelShape()) + " " +
                    elementTypeName(st.type) + " to " + t.str());
    }
  }
  for (size_t r = 0; r < written.size(); ++r)
    if (!written[r])
      return structureError(op, "never writes result " + llvm::Twine(r));
  return llvm::Error::success();
}

/// Calls f(point) for each point of `shape` in row-major order.
template <typename F>
static void forEachPoint(llvm::ArrayRef<int64_t> shape, F f) {
  if (numElements(shape) == 0)
    return;
  llvm::SmallVector<int64_t, 8> point(shape.size(), 0);
  while (true) {
    f(llvm::ArrayRef<int64_t>(point));
    int d = int(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++point[d] < shape[d])
        break;
      point[d] = 0;
    }
    if (d < 0)
      return;
  }
}

llvm::Error evaluateStructured(const StructuredOp &s,
                               llvm::ArrayRef<const HostTensor *> operands,
                               llvm::MutableArrayRef<HostTensor> results) {
  std::vector<std::vector<double>> intermediate(s.stages.size());
  for (size_t k = 0; k < s.stages.size(); ++k) {
    const StructuredStage &st = s.stages[k];
    std::vector<double> &out =
        st.result >= 0 ? results[st.result].data : intermediate[k];
    out.assign(numElements(st.parallelShape()), 0.0);
    llvm::SmallVector<const std::vector<double> *, 3> sources;
    llvm::SmallVector<Shape, 3> strides;
    for (const StageOperand &o : st.operands) {
      sources.push_back(o.operand >= 0 ? &operands[o.operand]->data
                                       : &intermediate[o.stage]);
      strides.push_back(rowMajorStrides(o.view));
    }
    llvm::SmallVector<double, 3> inputs(st.operands.size());
    llvm::SmallVector<int64_t, 8> point(st.domain.size());
    auto read = [&](llvm::ArrayRef<int64_t> at) {
      for (size_t i = 0; i < st.operands.size(); ++i) {
        const StageOperand &o = st.operands[i];
        int64_t linear = 0;
        bool inside = true;
        for (size_t d = 0; d < o.map.size(); ++d) {
          int64_t x = o.map[d].evaluate(at);
          int64_t q = o.map[d].divisor;
          if (q != 1) {
            inside = inside && x % q == 0;
            x /= q;
          }
          inside = inside && x >= 0 && x < o.view[d];
          linear += x * strides[i][d];
        }
        inputs[i] = inside ? (*sources[i])[linear] : o.padding.value_or(0.0);
      }
      return st.body.evaluate(inputs, at);
    };
    int64_t outIndex = 0;
    bool isInt = !isFloat(st.type);
    forEachPoint(st.parallelShape(), [&](llvm::ArrayRef<int64_t> outer) {
      llvm::copy(outer, point.begin());
      double acc = 0;
      switch (st.combiner) {
      case Combiner::Max:
      case Combiner::ArgMax:
      case Combiner::MaxNaN:
      case Combiner::ArgMaxNaN:
        acc = isInt && (st.combiner == Combiner::Max ||
                        st.combiner == Combiner::MaxNaN)
                  ? double(std::numeric_limits<int32_t>::min())
                  : -std::numeric_limits<double>::infinity();
        break;
      case Combiner::Min:
        acc = isInt ? double(std::numeric_limits<int32_t>::max())
                    : std::numeric_limits<double>::infinity();
        break;
      default:
        break;
      }
      if (st.combiner == Combiner::None) {
        out[outIndex++] = read(point);
        return;
      }
      int64_t position = 0, best = 0;
      forEachPoint(st.reductionShape(), [&](llvm::ArrayRef<int64_t> inner) {
        llvm::copy(inner, point.begin() + st.parallel);
        double v = read(point);
        switch (st.combiner) {
        case Combiner::Sum:
          acc += v;
          break;
        case Combiner::Max:
          acc = v > acc ? v : acc;
          break;
        case Combiner::Min:
          acc = v < acc ? v : acc;
          break;
        case Combiner::ArgMax:
          if (v > acc) {
            acc = v;
            best = position;
          }
          break;
        case Combiner::MaxNaN:
        case Combiner::ArgMaxNaN:
          if (!std::isnan(acc) && (v > acc || std::isnan(v))) {
            acc = v;
            best = position;
          }
          break;
        case Combiner::None:
          break;
        }
        ++position;
      });
      bool isArgMax =
          st.combiner == Combiner::ArgMax || st.combiner == Combiner::ArgMaxNaN;
      out[outIndex++] = isArgMax ? double(best) : acc;
    });
  }
  return llvm::Error::success();
}

llvm::Error evaluateDescribed(const Op &op,
                              llvm::ArrayRef<const HostTensor *> operands,
                              llvm::MutableArrayRef<HostTensor> results) {
  std::optional<StructuredOp> s = describe(op);
  if (!s)
    return structureError(op, "is missing");
  return evaluateStructured(*s, operands, results);
}

namespace structured {

StageOperand broadcastOperand(int operand, llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int64_t> space, unsigned rank) {
  StageOperand o;
  o.operand = operand;
  o.view = Shape(shape);
  size_t offset = space.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d)
    o.map.push_back(shape[d] == 1 && space[offset + d] != 1
                        ? AffineExpr::constant(0, rank)
                        : AffineExpr::dim(unsigned(offset + d), rank));
  return o;
}

StageOperand identity(int operand, int stage, llvm::ArrayRef<int64_t> shape,
                      unsigned rank) {
  StageOperand o;
  o.operand = operand;
  o.stage = stage;
  o.view = Shape(shape);
  for (unsigned d = 0; d < shape.size(); ++d)
    o.map.push_back(AffineExpr::dim(d, rank));
  return o;
}

StructuredStage elementwise(const Op &op, ScalarBody body) {
  StructuredStage st;
  const TensorType &t = op.result()->type();
  st.domain = Shape(t.shape());
  st.parallel = t.rank();
  for (unsigned i = 0; i < op.numOperands(); ++i)
    st.operands.push_back(broadcastOperand(
        int(i), op.operand(i)->type().shape(), t.shape(), t.rank()));
  st.type = t.element();
  st.body = std::move(body);
  st.result = 0;
  return st;
}

} // namespace structured

} // namespace nnc
