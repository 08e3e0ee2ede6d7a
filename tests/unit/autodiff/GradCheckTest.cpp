// Every differentiable op, under each attribute combination that changes its
// gradient, against central finite differences of the interpreter in double
// precision (after Glow's GradCheckTest).
//
// Each case computes out = f(params...), and the loss sum(out * w) with fixed
// random weights w, so that every output element's gradient differs.
#include "ir/Builder.h"
#include "passes/Passes.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

using namespace nnc;

namespace {

struct ParamSpec {
  Shape shape;
  double lo = -2, hi = 2; ///< the values are drawn from [lo, hi)
  ElementType elt = ElementType::F32;
};

struct GradCase {
  std::string name;
  std::vector<ParamSpec> params;
  std::function<Value *(Builder &, llvm::ArrayRef<Value *>, Value *labels)>
      build;
  Shape labels = {}; ///< i32 labels in [0, classes) when non-empty
  int64_t classes = 0;
};

HostTensor randomTensor(const TensorType &type, double lo, double hi,
                        std::mt19937_64 &rng) {
  HostTensor t(type);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &d : t.data)
    d = dist(rng);
  return t;
}

double evalLoss(const Graph &g, llvm::ArrayRef<HostTensor> args,
                VariableValues vars) {
  auto results = interpret(g, args, vars, Precision::F64);
  EXPECT_TRUE(bool(results)) << llvm::toString(results.takeError());
  return (*results)[0][0];
}

void checkGradients(const GradCase &c) {
  SCOPED_TRACE(c.name);
  std::mt19937_64 rng(std::hash<std::string>()(c.name));
  Module m;
  Graph *g = m.addGraph(std::make_unique<Graph>("case"));
  Builder b(*g);
  std::vector<HostTensor> args;
  Value *labels = nullptr;
  if (!c.labels.empty()) {
    TensorType type(ElementType::I32, c.labels);
    labels = g->addArgument(type, "labels");
    HostTensor t(type);
    for (double &d : t.data)
      d = double(rng() % c.classes);
    args.push_back(t);
  }
  VariableValues vars;
  std::vector<Value *> params;
  for (size_t i = 0; i < c.params.size(); ++i) {
    TensorType type(c.params[i].elt, c.params[i].shape);
    std::string name = "p" + std::to_string(i);
    params.push_back(b.param(name, type, "zeros"));
    vars[name] = randomTensor(type, c.params[i].lo, c.params[i].hi, rng);
  }
  Value *out = c.build(b, params, labels);
  Value *weights = b.state("weights", out->type());
  vars["weights"] = randomTensor(out->type(), -1, 1, rng);
  std::vector<int64_t> all;
  for (unsigned d = 0; d < out->type().rank(); ++d)
    all.push_back(d);
  Value *loss = b.reduceSum(b.mul(out, weights), all);
  b.ret({loss}, {"loss"});

  DiagnosticEngine diag;
  ASSERT_TRUE(llvm::succeeded(createAutodiffPass()->run(m, diag)));
  auto results = interpret(*g, args, vars, Precision::F64);
  ASSERT_TRUE(bool(results)) << llvm::toString(results.takeError());

  const double eps = 1e-6;
  for (size_t i = 0; i < params.size(); ++i) {
    std::string name = "p" + std::to_string(i);
    Value *gradValue = g->lookupResult("grad." + name);
    ASSERT_TRUE(gradValue);
    const HostTensor &analytic = (*results)[1 + i];
    ASSERT_EQ(analytic.type, vars[name].type);
    for (int64_t k = 0; k < analytic.size(); ++k) {
      VariableValues plus = vars, minus = vars;
      plus[name][k] += eps;
      minus[name][k] -= eps;
      double numeric =
          (evalLoss(*g, args, plus) - evalLoss(*g, args, minus)) / (2 * eps);
      EXPECT_NEAR(analytic[k], numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << name << "[" << k << "]";
    }
  }
}

Value *reduceAttrs(Builder &b, OpKind kind, Value *x, std::vector<int64_t> axes,
                   bool keepdims) {
  return b.reduce(kind, x, axes, keepdims);
}

std::vector<GradCase> allCases() {
  using V = llvm::ArrayRef<Value *>;
  std::vector<GradCase> cases;
  auto unary = [&](const char *name, OpKind kind, double lo, double hi) {
    cases.push_back(
        {name, {{{3, 4}, lo, hi}}, [kind](Builder &b, V p, Value *) {
           return b.unary(kind, p[0]);
         }});
  };
  unary("neg", OpKind::Neg, -2, 2);
  unary("abs", OpKind::Abs, -2, 2);
  unary("exp", OpKind::Exp, -2, 2);
  unary("expm1", OpKind::Expm1, -2, 2);
  unary("log", OpKind::Log, 0.5, 3);
  unary("sqrt", OpKind::Sqrt, 0.5, 3);
  unary("rsqrt", OpKind::Rsqrt, 0.5, 3);
  unary("relu", OpKind::Relu, -2, 2);
  unary("sigmoid", OpKind::Sigmoid, -3, 3);
  unary("tanh", OpKind::Tanh, -2, 2);
  unary("softmax", OpKind::Softmax, -3, 3);
  unary("log_softmax", OpKind::LogSoftmax, -3, 3);

  // Binary ops under each way of broadcasting.
  struct Shapes {
    const char *tag;
    Shape a, b;
  };
  const Shapes shapes[] = {{"same", {3, 4}, {3, 4}},
                           {"row", {3, 4}, {4}},
                           {"outer", {3, 1}, {1, 4}},
                           {"scalar", {}, {3, 4}}};
  auto binary = [&](const char *name, OpKind kind, double lo, double hi) {
    for (const Shapes &s : shapes)
      cases.push_back({std::string(name) + "_" + s.tag,
                       {{s.a, lo, hi}, {s.b, lo, hi}},
                       [kind](Builder &b, V p, Value *) {
                         return b.binary(kind, p[0], p[1]);
                       }});
  };
  binary("add", OpKind::Add, -2, 2);
  binary("sub", OpKind::Sub, -2, 2);
  binary("mul", OpKind::Mul, -2, 2);
  binary("div", OpKind::Div, 0.5, 2);
  binary("max", OpKind::Max, -2, 2);
  binary("min", OpKind::Min, -2, 2);
  binary("pow", OpKind::Pow, 0.5, 2);
  // A value used twice sums both gradients.
  cases.push_back({"mul_self", {{{3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.mul(p[0], p[0]);
                   }});
  cases.push_back(
      {"select", {{{3, 4}}, {{3, 4}}, {{4}}}, [](Builder &b, V p, Value *) {
         Value *cond = b.compare("gt", p[2], b.scalar(0.0));
         return b.select(cond, p[0], p[1]);
       }});
  cases.push_back({"cast_f64", {{{3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.cast(p[0], ElementType::F64);
                   }});

  cases.push_back({"reshape", {{{3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.reshape(p[0], {2, 6});
                   }});
  cases.push_back({"transpose_2d", {{{3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.transpose(p[0], {1, 0});
                   }});
  cases.push_back({"transpose_3d", {{{2, 3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.transpose(p[0], {2, 0, 1});
                   }});
  cases.push_back({"pad_3d", {{{2, 3, 4}}}, [](Builder &b, V p, Value *) {
                     return b.pad(p[0], {0, 1, 2}, {1, 0, 3}, 0.5);
                   }});
  cases.push_back({"slice_3d", {{{3, 4, 5}}}, [](Builder &b, V p, Value *) {
                     return b.slice(p[0], {1, 0, 2}, {2, 3, 2});
                   }});
  cases.push_back({"broadcast_row", {{{4}}}, [](Builder &b, V p, Value *) {
                     return b.broadcast(p[0], {3, 4});
                   }});
  cases.push_back(
      {"broadcast_column", {{{3, 1}}}, [](Builder &b, V p, Value *) {
         return b.broadcast(p[0], {2, 3, 4});
       }});

  for (OpKind kind :
       {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax}) {
    for (std::vector<int64_t> axes :
         {std::vector<int64_t>{0}, {1}, {0, 2}, {0, 1, 2}})
      for (bool keepdims : {false, true}) {
        std::string name = std::string(getOpDef(kind).name) + "_axes";
        for (int64_t a : axes)
          name += std::to_string(a);
        name += keepdims ? "_keep" : "";
        cases.push_back({name, {{{2, 3, 4}}}, [=](Builder &b, V p, Value *) {
                           return reduceAttrs(b, kind, p[0], axes, keepdims);
                         }});
      }
  }

  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Shape a = ta ? Shape{5, 3} : Shape{3, 5};
      Shape bs = tb ? Shape{4, 5} : Shape{5, 4};
      cases.push_back(
          {std::string("matmul") + (ta ? "_ta" : "") + (tb ? "_tb" : ""),
           {{a}, {bs}},
           [=](Builder &b, V p, Value *) {
             return b.matmul(p[0], p[1], ta, tb);
           }});
    }

  // Convolutions under each geometry that changes which input elements a
  // tap reads: strides that do not divide the padded input (so some rows
  // are never read), uneven padding, dilation, rectangular windows.
  struct ConvGeometry {
    const char *tag;
    Shape input, filter;
    std::vector<int64_t> strides, dilations, padding;
  };
  const ConvGeometry convs[] = {
      {"valid", {2, 5, 5, 3}, {3, 3, 3, 4}, {1, 1}, {1, 1}, {0, 0, 0, 0}},
      {"strided_padded",
       {1, 6, 7, 2},
       {3, 2, 2, 3},
       {2, 3},
       {1, 1},
       {1, 1, 0, 2}},
      {"dilated", {1, 7, 6, 2}, {2, 3, 2, 2}, {2, 1}, {3, 2}, {0, 1, 2, 0}},
      {"pointwise", {2, 3, 4, 3}, {1, 1, 3, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}},
  };
  for (const ConvGeometry &g : convs) {
    AttrDict attrs;
    attrs.set("strides", g.strides);
    attrs.set("dilations", g.dilations);
    attrs.set("padding", g.padding);
    cases.push_back(
        {std::string("conv2d_") + g.tag,
         {{g.input}, {g.filter}},
         [=](Builder &b, V p, Value *) {
           return b.createValue(OpKind::Conv2D, {p[0], p[1]}, attrs);
         }});
    // The gradient ops take the output gradient's shape from conv2d.
    Module probe;
    Graph *pg = probe.addGraph(std::make_unique<Graph>("probe"));
    Builder pb(*pg);
    Shape output(
        pb.createValue(
              OpKind::Conv2D,
              {pb.param("x", TensorType(ElementType::F32, g.input), "zeros"),
               pb.param("w", TensorType(ElementType::F32, g.filter), "zeros")},
              attrs)
            ->type()
            .shape());
    TensorType inputType(ElementType::F32, g.input),
        filterType(ElementType::F32, g.filter);
    cases.push_back({std::string("conv2d_backprop_input_") + g.tag,
                     {{output}, {g.filter}},
                     [=](Builder &b, V p, Value *) {
                       return b.createValue(OpKind::Conv2DBackpropInput,
                                            {p[0], p[1]}, attrs, {inputType});
                     }});
    cases.push_back({std::string("conv2d_backprop_filter_") + g.tag,
                     {{g.input}, {output}},
                     [=](Builder &b, V p, Value *) {
                       return b.createValue(OpKind::Conv2DBackpropFilter,
                                            {p[0], p[1]}, attrs, {filterType});
                     }});
    // The patches of the same windows (conv-to-gemm's im2col) and back.
    AttrDict patchAttrs = attrs;
    patchAttrs.set("window", std::vector<int64_t>{g.filter[0], g.filter[1]});
    Shape patches(pb.createValue(OpKind::ExtractPatches,
                                 {pb.param("i", inputType, "zeros")},
                                 patchAttrs)
                      ->type()
                      .shape());
    cases.push_back({std::string("extract_patches_") + g.tag,
                     {{g.input}},
                     [=](Builder &b, V p, Value *) {
                       return b.createValue(OpKind::ExtractPatches, {p[0]},
                                            patchAttrs);
                     }});
    cases.push_back({std::string("patches_to_image_") + g.tag,
                     {{patches}},
                     [=](Builder &b, V p, Value *) {
                       return b.createValue(OpKind::PatchesToImage, {p[0]},
                                            patchAttrs, {inputType});
                     }});
  }

  // Pooling: disjoint windows, overlapping ones, and padding="same" (whose
  // edge windows average fewer elements).
  struct PoolGeometry {
    const char *tag;
    Shape input;
    std::vector<int64_t> window, strides, padding;
  };
  const PoolGeometry pools[] = {
      {"disjoint", {2, 4, 6, 3}, {2, 2}, {2, 2}, {0, 0, 0, 0}},
      {"overlapping", {1, 5, 5, 2}, {3, 3}, {1, 1}, {0, 0, 0, 0}},
      {"same", {1, 5, 4, 2}, {3, 2}, {2, 2}, {1, 1, 0, 1}},
  };
  for (const PoolGeometry &g : pools) {
    AttrDict attrs;
    attrs.set("window", g.window);
    attrs.set("strides", g.strides);
    attrs.set("padding", g.padding);
    for (OpKind kind : {OpKind::MaxPool2D, OpKind::AvgPool2D})
      cases.push_back({std::string(getOpDef(kind).name) + "_" + g.tag,
                       {{g.input}},
                       [=](Builder &b, V p, Value *) {
                         return b.createValue(kind, {p[0]}, attrs);
                       }});
    Module probe;
    Graph *pg = probe.addGraph(std::make_unique<Graph>("probe"));
    Builder pb(*pg);
    Shape output(
        pb.createValue(
              OpKind::AvgPool2D,
              {pb.param("x", TensorType(ElementType::F32, g.input), "zeros")},
              attrs)
            ->type()
            .shape());
    TensorType inputType(ElementType::F32, g.input);
    cases.push_back({std::string("avg_pool2d_grad_") + g.tag,
                     {{output}},
                     [=](Builder &b, V p, Value *) {
                       return b.createValue(OpKind::AvgPool2DGrad, {p[0]},
                                            attrs, {inputType});
                     }});
  }

  cases.push_back({"softmax_cross_entropy",
                   {{{4, 5}, -3, 3}},
                   [](Builder &b, V p, Value *labels) {
                     return b.softmaxCrossEntropy(p[0], labels);
                   },
                   {4},
                   5});
  // The seed model's shape: dense + relu + dense + cross-entropy.
  cases.push_back({"dense_relu_dense_cross_entropy",
                   {{{6, 5}}, {{5}}, {{5, 3}}, {{3}}, {{4, 6}}},
                   [](Builder &b, V p, Value *labels) {
                     Value *h = b.relu(b.add(b.matmul(p[4], p[0]), p[1]));
                     Value *logits = b.add(b.matmul(h, p[2]), p[3]);
                     return b.reduce(OpKind::ReduceMean,
                                     b.softmaxCrossEntropy(logits, labels),
                                     {0});
                   },
                   {4},
                   3});
  return cases;
}

class GradCheck : public ::testing::TestWithParam<GradCase> {};

void PrintTo(const GradCase &c, std::ostream *os) { *os << c.name; }

} // namespace

TEST_P(GradCheck, MatchesCentralDifferences) { checkGradients(GetParam()); }

INSTANTIATE_TEST_SUITE_P(AllOps, GradCheck, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<GradCase> &info) {
                           return info.param.name;
                         });

TEST(GradCheckCoverage, EveryDifferentiableOpHasACase) {
  std::set<std::string> covered;
  for (const GradCase &c : allCases()) {
    Module m;
    Graph *g = m.addGraph(std::make_unique<Graph>("probe"));
    Builder b(*g);
    std::vector<Value *> params;
    for (size_t i = 0; i < c.params.size(); ++i)
      params.push_back(b.param("p" + std::to_string(i),
                               TensorType(c.params[i].elt, c.params[i].shape),
                               "zeros"));
    Value *labels =
        c.labels.empty()
            ? nullptr
            : g->addArgument(TensorType(ElementType::I32, c.labels));
    c.build(b, params, labels);
    for (const Op &op : g->ops())
      covered.insert(op.name().str());
  }
  for (const OpDef &def : allOpDefs()) {
    if (def.grad) {
      EXPECT_TRUE(covered.count(def.name.str()))
          << "no gradient check exercises '" << def.name.str() << "'";
    }
  }
}
