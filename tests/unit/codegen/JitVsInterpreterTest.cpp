// Every op compiled by the JIT against the reference interpreter, on the
// same inputs, on one thread and on two, through both code generators: the
// generic loop nests of the op's structured description (no fusion,
// CodegenOptions::specialize off) and, after the fusion pass, the
// specialised kernel the body's structure selects.
//
// Tolerances, by what the two compute:
// - Exact: IEEE +, -, *, /, sqrt, comparisons, selects, casts and data
//   movement are correctly rounded in both (the interpreter rounds its
//   double result to float, which for one operation gives the same float).
// - Ulps(n): libm's float exp, log, pow and tanh are within an ulp or two of
//   the correctly rounded result; ops built from a few of them (sigmoid,
//   rsqrt, softmax) accumulate a few more.
// - Sum(n): float sums of n terms differ from the double sum rounded once by
//   at most about n * 2^-24 * sum(|terms|), the textbook bound; the test
//   computes sum(|terms|) by running the op on absolute values.
#include "codegen/Compiler.h"
#include "ir/Builder.h"
#include "passes/MemoryPlanning.h"
#include "passes/Passes.h"
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

using namespace nnc;

namespace {

enum class Tolerance { Exact, Ulps, Sum };

struct ArgSpec {
  TensorType type;
  double lo = -2, hi = 2;
};

struct JitCase {
  std::string name;
  std::vector<ArgSpec> args;
  std::function<Value *(Builder &, llvm::ArrayRef<Value *>)> build;
  Tolerance tolerance = Tolerance::Exact;
  double ulps = 0;      ///< for Ulps
  int64_t sumTerms = 0; ///< for Sum
};

void PrintTo(const JitCase &c, std::ostream *os) { *os << c.name; }

TensorType f32(Shape s) { return TensorType(ElementType::F32, s); }
TensorType i32(Shape s) { return TensorType(ElementType::I32, s); }

/// Builds `c` into a module of one graph `@case`; with `absolute`, float
/// arguments pass through abs first (for the Sum bound).
std::unique_ptr<Module> buildCase(const JitCase &c, bool absolute) {
  auto m = std::make_unique<Module>();
  Graph *g = m->addGraph(std::make_unique<Graph>("case"));
  Builder b(*g);
  std::vector<Value *> args;
  for (const ArgSpec &a : c.args) {
    Value *v = g->addArgument(a.type);
    if (absolute && isFloat(a.type.element()))
      v = b.unary(OpKind::Abs, v);
    args.push_back(v);
  }
  b.ret({c.build(b, args)}, {"out"});
  return m;
}

std::vector<HostTensor> randomArguments(const JitCase &c) {
  std::mt19937_64 rng(std::hash<std::string>()(c.name));
  std::vector<HostTensor> out;
  for (const ArgSpec &a : c.args) {
    HostTensor t(a.type);
    std::uniform_real_distribution<double> dist(a.lo, a.hi);
    for (double &d : t.data) {
      d = dist(rng);
      if (!isFloat(a.type.element()))
        d = std::floor(d);
    }
    t.roundToElementType();
    out.push_back(std::move(t));
  }
  return out;
}

void writeArguments(GraphExecutor &exec, llvm::ArrayRef<HostTensor> args) {
  for (unsigned i = 0; i < args.size(); ++i)
    for (int64_t k = 0; k < args[i].size(); ++k)
      storeElement(exec.argument(i), args[i].type.element(), k, args[i][k]);
}

HostTensor runInterpreter(const Graph &g, llvm::ArrayRef<HostTensor> args) {
  ModelState state(StateLayout{});
  InterpreterExecutor exec(g, state);
  writeArguments(exec, args);
  llvm::Error err = exec.run();
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  return exec.result(0);
}

enum class Path { Generic, Specialized };

HostTensor runJit(Module &m, llvm::ArrayRef<HostTensor> args, unsigned threads,
                  Path path) {
  const Graph &g = *m.graph(0);
  CodegenOptions options;
  options.specialize = path == Path::Specialized;
  if (path == Path::Specialized) {
    // As the driver's pipeline: convolutions become products over patches
    // (the generic path keeps them direct), then fusion.
    DiagnosticEngine diag;
    EXPECT_TRUE(llvm::succeeded(createConvolutionToGemmPass()->run(m, diag)));
    EXPECT_TRUE(llvm::succeeded(createFusionPass()->run(m, diag)));
  }
  auto layout = StateLayout::fromModule(m);
  EXPECT_TRUE(bool(layout));
  auto plan = planMemory(g, *layout);
  EXPECT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  auto program = CompiledProgram::compile({&g}, {&*plan}, options);
  if (!program) {
    ADD_FAILURE() << llvm::toString(program.takeError());
    return HostTensor();
  }
  ModelState state(*layout);
  auto pool = llvm::cantFail(ThreadPool::create(threads));
  JitExecutor exec(g, *(*program)->step("case"), state, *pool);
  writeArguments(exec, args);
  llvm::Error err = exec.run();
  EXPECT_FALSE(bool(err));
  return exec.result(0);
}

double floatUlp(double x) {
  float f = float(std::abs(x));
  return double(std::nextafter(f, INFINITY)) - double(f);
}

class JitVsInterpreter : public ::testing::TestWithParam<JitCase> {};

std::vector<JitCase> allCases() {
  using V = llvm::ArrayRef<Value *>;
  std::vector<JitCase> cases;
  auto unary = [&](const char *name, OpKind kind, double lo, double hi,
                   Tolerance tol, double ulps = 0) {
    cases.push_back({name,
                     {{f32({5, 7}), lo, hi}},
                     [kind](Builder &b, V a) { return b.unary(kind, a[0]); },
                     tol,
                     ulps});
  };
  unary("neg", OpKind::Neg, -2, 2, Tolerance::Exact);
  unary("abs", OpKind::Abs, -2, 2, Tolerance::Exact);
  unary("relu", OpKind::Relu, -2, 2, Tolerance::Exact);
  unary("sqrt", OpKind::Sqrt, 0, 4, Tolerance::Exact);
  unary("exp", OpKind::Exp, -5, 5, Tolerance::Ulps, 2);
  unary("expm1", OpKind::Expm1, -5, 5, Tolerance::Ulps, 2);
  unary("log", OpKind::Log, 0.01, 10, Tolerance::Ulps, 2);
  unary("rsqrt", OpKind::Rsqrt, 0.1, 4, Tolerance::Ulps, 2);
  unary("sigmoid", OpKind::Sigmoid, -6, 6, Tolerance::Ulps, 4);
  unary("tanh", OpKind::Tanh, -3, 3, Tolerance::Ulps, 2);
  unary("softmax", OpKind::Softmax, -4, 4, Tolerance::Ulps, 16);
  unary("log_softmax", OpKind::LogSoftmax, -4, 4, Tolerance::Ulps, 16);

  for (OpKind kind : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div,
                      OpKind::Max, OpKind::Min}) {
    std::string name(getOpDef(kind).name);
    cases.push_back(
        {name + "_row_broadcast",
         {{f32({4, 6}), 0.5, 2}, {f32({6}), 0.5, 2}},
         [kind](Builder &b, V a) { return b.binary(kind, a[0], a[1]); }});
    cases.push_back(
        {name + "_outer",
         {{f32({4, 1}), 0.5, 2}, {f32({1, 6}), 0.5, 2}},
         [kind](Builder &b, V a) { return b.binary(kind, a[0], a[1]); }});
  }
  cases.push_back({"add_i32",
                   {{i32({3, 4}), -50, 50}, {i32({4}), -50, 50}},
                   [](Builder &b, V a) { return b.add(a[0], a[1]); }});
  cases.push_back({"pow",
                   {{f32({3, 4}), 0.5, 3}, {f32({}), 0.5, 3}},
                   [](Builder &b, V a) { return b.pow(a[0], a[1]); },
                   Tolerance::Ulps,
                   2});
  for (const char *p : {"eq", "ne", "lt", "le", "gt", "ge"})
    cases.push_back({std::string("compare_") + p,
                     {{f32({4, 5}), -2, 2}, {f32({5}), -2, 2}},
                     [p](Builder &b, V a) {
                       // Ties matter for eq/le/ge: compare x with itself too.
                       Value *c = b.compare(p, a[0], a[1]);
                       Value *d = b.compare(p, a[0], a[0]);
                       return b.cast(b.select(c, b.cast(d, ElementType::F32),
                                              b.scalar(2.0)),
                                     ElementType::F32);
                     }});
  cases.push_back(
      {"cast_saturates", {{f32({4, 4}), -3e9, 3e9}}, [](Builder &b, V a) {
         return b.cast(b.cast(a[0], ElementType::I32), ElementType::F32);
       }});
  cases.push_back({"cast_i1_u8", {{f32({4, 4}), -2, 300}}, [](Builder &b, V a) {
                     Value *u = b.cast(a[0], ElementType::U8);
                     Value *flag = b.cast(a[0], ElementType::I1);
                     return b.add(b.cast(u, ElementType::F32),
                                  b.cast(flag, ElementType::F32));
                   }});
  cases.push_back({"select",
                   {{f32({3, 4})}, {f32({3, 4})}, {f32({4})}},
                   [](Builder &b, V a) {
                     return b.select(b.compare("gt", a[2], b.scalar(0.0)), a[0],
                                     a[1]);
                   }});

  cases.push_back({"transpose_3d", {{f32({2, 3, 4})}}, [](Builder &b, V a) {
                     return b.transpose(a[0], {2, 0, 1});
                   }});
  cases.push_back({"broadcast", {{f32({3, 1})}}, [](Builder &b, V a) {
                     return b.broadcast(a[0], {2, 3, 4});
                   }});
  cases.push_back({"reshape_then_exp",
                   {{f32({4, 6})}},
                   [](Builder &b, V a) {
                     return b.exp(b.reshape(a[0], {3, 8}));
                   },
                   Tolerance::Ulps,
                   2});

  for (OpKind kind : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
    for (std::vector<int64_t> axes : {std::vector<int64_t>{0}, {2}, {0, 2}})
      for (bool keep : {false, true}) {
        std::string name = std::string(getOpDef(kind).name);
        for (int64_t x : axes)
          name += "_" + std::to_string(x);
        if (keep)
          name += "_keep";
        int64_t terms = 1;
        for (int64_t x : axes)
          terms *= Shape{5, 3, 7}[x];
        cases.push_back(
            {name,
             {{f32({5, 3, 7})}},
             [=](Builder &b, V a) { return b.reduce(kind, a[0], axes, keep); },
             kind == OpKind::ReduceMax ? Tolerance::Exact : Tolerance::Sum,
             0,
             terms});
      }
  cases.push_back({"reduce_sum_i32",
                   {{i32({6, 5}), -100, 100}},
                   [](Builder &b, V a) { return b.reduceSum(a[0], {1}); }});
  cases.push_back({"argmax", {{f32({6, 9})}}, [](Builder &b, V a) {
                     return b.cast(b.argmax(a[0], 1), ElementType::F32);
                   }});

  for (bool ta : {false, true})
    for (bool tb : {false, true})
      cases.push_back(
          {std::string("matmul") + (ta ? "_ta" : "") + (tb ? "_tb" : ""),
           {{f32(ta ? Shape{19, 13} : Shape{13, 19})},
            {f32(tb ? Shape{11, 19} : Shape{19, 11})}},
           [=](Builder &b, V a) { return b.matmul(a[0], a[1], ta, tb); },
           Tolerance::Sum,
           0,
           19});

  cases.push_back({"one_hot", {{i32({7}), -1, 6}}, [](Builder &b, V a) {
                     return b.oneHot(a[0], 5);
                   }});
  cases.push_back(
      {"softmax_cross_entropy",
       {{f32({8, 10}), -4, 4}, {i32({8}), 0, 10}},
       [](Builder &b, V a) { return b.softmaxCrossEntropy(a[0], a[1]); },
       Tolerance::Ulps,
       16});
  // Ranks 1 to 4, broadcasting across ranks, reductions over middle axes.
  cases.push_back({"exp_rank1",
                   {{f32({37})}},
                   [](Builder &b, V a) { return b.exp(a[0]); },
                   Tolerance::Ulps,
                   2});
  cases.push_back({"tanh_rank4",
                   {{f32({2, 3, 4, 5})}},
                   [](Builder &b, V a) { return b.unary(OpKind::Tanh, a[0]); },
                   Tolerance::Ulps,
                   2});
  cases.push_back({"mul_rank4_broadcast",
                   {{f32({2, 1, 4, 5})}, {f32({3, 1, 5})}},
                   [](Builder &b, V a) { return b.mul(a[0], a[1]); }});
  cases.push_back({"select_rank3_broadcast",
                   {{f32({3, 1, 4})}, {f32({2, 4})}, {f32({})}},
                   [](Builder &b, V a) {
                     return b.select(b.compare("lt", a[0], a[2]), a[1], a[0]);
                   }});
  for (std::vector<int64_t> axes :
       {std::vector<int64_t>{1}, {1, 2}, {0, 3}, {0, 1, 2, 3}}) {
    std::string name = "reduce_sum_rank4";
    int64_t terms = 1;
    for (int64_t x : axes) {
      name += "_" + std::to_string(x);
      terms *= Shape{3, 4, 5, 6}[x];
    }
    cases.push_back({name,
                     {{f32({3, 4, 5, 6})}},
                     [=](Builder &b, V a) { return b.reduceSum(a[0], axes); },
                     Tolerance::Sum,
                     0,
                     terms});
  }
  cases.push_back(
      {"reduce_max_rank4_middle", {{f32({3, 4, 5, 2})}}, [](Builder &b, V a) {
         return b.reduce(OpKind::ReduceMax, a[0], {1, 2}, true);
       }});
  cases.push_back({"reduce_mean_rank1",
                   {{f32({29})}},
                   [](Builder &b, V a) {
                     return b.reduce(OpKind::ReduceMean, a[0], {0}, false);
                   },
                   Tolerance::Sum,
                   0,
                   29});
  cases.push_back(
      {"argmax_rank3_axis0", {{f32({5, 3, 4})}}, [](Builder &b, V a) {
         return b.cast(b.argmax(a[0], 0), ElementType::F32);
       }});
  cases.push_back({"softmax_rank3",
                   {{f32({2, 3, 9}), -4, 4}},
                   [](Builder &b, V a) { return b.softmax(a[0]); },
                   Tolerance::Ulps,
                   16});
  cases.push_back(
      {"log_softmax_rank1",
       {{f32({10}), -4, 4}},
       [](Builder &b, V a) { return b.unary(OpKind::LogSoftmax, a[0]); },
       Tolerance::Ulps,
       16});
  cases.push_back(
      {"transpose_rank4", {{f32({2, 3, 4, 5})}}, [](Builder &b, V a) {
         return b.transpose(a[0], {3, 1, 0, 2});
       }});
  cases.push_back({"pad_rank3", {{f32({2, 3, 4})}}, [](Builder &b, V a) {
                     return b.pad(a[0], {1, 0, 2}, {0, 2, 1}, -0.5);
                   }});
  cases.push_back({"slice_rank4", {{f32({3, 4, 5, 2})}}, [](Builder &b, V a) {
                     return b.slice(a[0], {1, 1, 0, 1}, {2, 2, 5, 1});
                   }});
  cases.push_back({"pad_then_slice_rank1", {{f32({9})}}, [](Builder &b, V a) {
                     return b.slice(b.pad(a[0], {3}, {2}), {1}, {12});
                   }});
  // Windows over NHWC images: strides, dilations and uneven padding.
  auto convAttrs = [] {
    AttrDict a;
    a.set("strides", std::vector<int64_t>{2, 1});
    a.set("dilations", std::vector<int64_t>{1, 2});
    a.set("padding", std::vector<int64_t>{1, 1, 0, 1});
    return a;
  };
  cases.push_back(
      {"conv2d",
       {{f32({2, 7, 6, 3})}, {f32({3, 2, 3, 4})}},
       [=](Builder &b, V a) {
         return b.createValue(OpKind::Conv2D, {a[0], a[1]}, convAttrs());
       },
       Tolerance::Sum,
       0,
       18});
  cases.push_back({"conv2d_backprop_input",
                   {{f32({2, 4, 5, 4})}, {f32({3, 2, 3, 4})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::Conv2DBackpropInput,
                                          {a[0], a[1]}, convAttrs(),
                                          {f32({2, 7, 6, 3})});
                   },
                   Tolerance::Sum,
                   0,
                   24});
  cases.push_back({"conv2d_backprop_filter",
                   {{f32({2, 7, 6, 3})}, {f32({2, 4, 5, 4})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::Conv2DBackpropFilter,
                                          {a[0], a[1]}, convAttrs(),
                                          {f32({3, 2, 3, 4})});
                   },
                   Tolerance::Sum,
                   0,
                   40});
  // conv-to-gemm's patches (im2col) and their sum back into an image.
  auto patchAttrs = [=] {
    AttrDict a = convAttrs();
    a.set("window", std::vector<int64_t>{3, 2});
    return a;
  };
  cases.push_back(
      {"extract_patches", {{f32({2, 7, 6, 3})}}, [=](Builder &b, V a) {
         return b.createValue(OpKind::ExtractPatches, {a[0]}, patchAttrs());
       }});
  cases.push_back({"patches_to_image",
                   {{f32({2, 4, 5, 18})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::PatchesToImage, {a[0]},
                                          patchAttrs(), {f32({2, 7, 6, 3})});
                   },
                   Tolerance::Sum,
                   0,
                   6});
  // A convolution with its bias and relu: the specialised path runs
  // conv-to-gemm first, so that these compare the product over patches,
  // with the bias and relu in its epilogue, to the direct form.
  cases.push_back(
      {"conv2d_bias_relu",
       {{f32({2, 7, 6, 3})}, {f32({3, 2, 3, 4})}, {f32({4})}},
       [=](Builder &b, V a) {
         return b.relu(b.add(
             b.createValue(OpKind::Conv2D, {a[0], a[1]}, convAttrs()), a[2]));
       },
       Tolerance::Sum,
       0,
       19});
  auto poolAttrs = [] {
    AttrDict a;
    a.set("window", std::vector<int64_t>{2, 3});
    a.set("strides", std::vector<int64_t>{2, 2});
    a.set("padding", std::vector<int64_t>{0, 1, 1, 1});
    return a;
  };
  cases.push_back({"max_pool2d", {{f32({2, 5, 6, 3})}}, [=](Builder &b, V a) {
                     return b.createValue(OpKind::MaxPool2D, {a[0]},
                                          poolAttrs());
                   }});
  cases.push_back({"avg_pool2d",
                   {{f32({2, 5, 6, 3})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::AvgPool2D, {a[0]},
                                          poolAttrs());
                   },
                   Tolerance::Sum,
                   0,
                   6});
  cases.push_back(
      {"max_pool2d_grad",
       {{f32({2, 5, 6, 3})}, {f32({2, 3, 3, 3})}},
       [=](Builder &b, V a) {
         return b.createValue(OpKind::MaxPool2DGrad, {a[0], a[1]}, poolAttrs());
       },
       Tolerance::Sum,
       0,
       6});
  // NaN propagates through max pooling, and the gradient goes to the first
  // NaN of a window: sqrt of a whole number in {-1, 0, 1, 2} gives NaN,
  // and ties everywhere.
  auto nanTies = [](Builder &b, Value *x) {
    return b.unary(OpKind::Sqrt,
                   b.cast(b.cast(x, ElementType::I32), ElementType::F32));
  };
  cases.push_back({"max_pool2d_nan_ties",
                   {{f32({2, 5, 6, 3}), -1.5, 3}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::MaxPool2D, {nanTies(b, a[0])},
                                          poolAttrs());
                   }});
  cases.push_back({"max_pool2d_grad_nan_ties",
                   {{f32({2, 5, 6, 3}), -1.5, 3}, {f32({2, 3, 3, 3})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::MaxPool2DGrad,
                                          {nanTies(b, a[0]), a[1]},
                                          poolAttrs());
                   },
                   Tolerance::Sum,
                   0,
                   6});
  // Windows that tile the image (2x2, stride 2, no padding, no remainder):
  // the gradient's second stage runs over the image without a loop over
  // the windows that might cover each element.
  auto tileAttrs = [] {
    AttrDict a;
    a.set("window", std::vector<int64_t>{2, 2});
    a.set("strides", std::vector<int64_t>{2, 2});
    return a;
  };
  cases.push_back({"max_pool2d_grad_tiles_nan_ties",
                   {{f32({2, 6, 4, 3}), -1.5, 3}, {f32({2, 3, 2, 3})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::MaxPool2DGrad,
                                          {nanTies(b, a[0]), a[1]},
                                          tileAttrs());
                   },
                   Tolerance::Sum,
                   0,
                   6});
  // max_pool2d_grad's stages as ops (passes/MaxPoolTaps.cpp): the first
  // maxima of padded and tiling windows, with NaNs and ties, and the
  // scatter of a gradient to them.
  for (bool tiling : {false, true}) {
    AttrDict attrs = tiling ? tileAttrs() : poolAttrs();
    Shape image = tiling ? Shape{2, 6, 4, 3} : Shape{2, 5, 6, 3};
    Shape pooled = tiling ? Shape{2, 3, 2, 3} : Shape{2, 3, 3, 3};
    std::string name = tiling ? "_tiles" : "";
    cases.push_back({"max_pool2d_taps" + name + "_nan_ties",
                     {{f32(image), -1.5, 3}},
                     [=](Builder &b, V a) {
                       return b.createValue(OpKind::MaxPool2DTaps,
                                            {nanTies(b, a[0])}, attrs);
                     }});
    cases.push_back({"max_pool2d_scatter" + name,
                     {{f32(image), -1.5, 3}, {f32(pooled)}},
                     [=](Builder &b, V a) {
                       Value *taps = b.createValue(OpKind::MaxPool2DTaps,
                                                   {nanTies(b, a[0])}, attrs);
                       return b.createValue(OpKind::MaxPool2DScatter,
                                            {taps, a[1]}, attrs, {f32(image)});
                     },
                     Tolerance::Sum,
                     0,
                     6});
  }
  cases.push_back({"avg_pool2d_grad",
                   {{f32({2, 3, 3, 3})}},
                   [=](Builder &b, V a) {
                     return b.createValue(OpKind::AvgPool2DGrad, {a[0]},
                                          poolAttrs(), {f32({2, 5, 6, 3})});
                   },
                   Tolerance::Sum,
                   0,
                   6});
  cases.push_back({"random_uniform", {{i32({}), 0, 9}}, [](Builder &b, V a) {
                     AttrDict attrs;
                     attrs.set("seed", int64_t(1234));
                     return b.createValue(OpKind::RandomUniform, {a[0]},
                                          std::move(attrs), {f32({3, 5, 7})});
                   }});
  // Numbered from a first index, as a data-parallel rank numbers its share
  // of the batch; past 2^31 the index wraps modulo 2^32 in both.
  cases.push_back({"random_uniform_first",
                   {{i32({}), 0, 9}, {i32({}), 2147483000, 2147483600}},
                   [](Builder &b, V a) {
                     AttrDict attrs;
                     attrs.set("seed", int64_t(99));
                     return b.createValue(OpKind::RandomUniform, {a[0], a[1]},
                                          std::move(attrs), {f32({4, 6, 9})});
                   }});
  cases.push_back({"one_hot_rank2",
                   {{i32({2, 3}), -1, 4}},
                   [](Builder &b, V a) { return b.oneHot(a[0], 3); }});
  cases.push_back({"constant_result", {{f32({2})}}, [](Builder &b, V) {
                     return b.constant(3.5, f32({2, 3}));
                   }});
  return cases;
}

} // namespace

TEST_P(JitVsInterpreter, AgreeOnOneAndTwoThreads) {
  const JitCase &c = GetParam();
  auto m = buildCase(c, false);
  std::vector<HostTensor> args = randomArguments(c);
  HostTensor want = runInterpreter(*m->graph(0), args);
  HostTensor bound;
  if (c.tolerance == Tolerance::Sum)
    bound = runInterpreter(*buildCase(c, true)->graph(0), args);
  for (auto [path, pathName] : {std::pair{Path::Generic, "generic"},
                                std::pair{Path::Specialized, "specialized"}})
    for (unsigned threads : {1u, 2u}) {
      auto fresh = buildCase(c, false);
      HostTensor got = runJit(*fresh, args, threads, path);
      ASSERT_EQ(got.type, want.type) << pathName;
      for (int64_t k = 0; k < got.size(); ++k) {
        double g = got[k], w = want[k];
        if (std::isnan(w)) {
          EXPECT_TRUE(std::isnan(g)) << k << " " << pathName;
          continue;
        }
        double tol = 0;
        if (c.tolerance == Tolerance::Ulps)
          tol = c.ulps * floatUlp(w);
        else if (c.tolerance == Tolerance::Sum)
          tol = double(c.sumTerms + 1) * 0x1p-24 * bound[k] + 1e-30;
        EXPECT_NEAR(g, w, tol) << "element " << k << " with " << threads
                               << " thread(s), " << pathName;
      }
    }
}

INSTANTIATE_TEST_SUITE_P(AllOps, JitVsInterpreter,
                         ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<JitCase> &info) {
                           return info.param.name;
                         });

TEST(JitCoverage, EveryComputingOpHasACase) {
  std::set<std::string> covered;
  for (const JitCase &c : allCases()) {
    auto m = buildCase(c, false);
    for (const Op &op : m->graph(0)->ops())
      covered.insert(op.name().str());
  }
  for (const OpDef &def : allOpDefs()) {
    // allreduce compiles to calls into the runtime: ExchangeTest.cpp.
    if (def.role == OpRole::Structure || def.kind == OpKind::Param ||
        def.kind == OpKind::State || def.kind == OpKind::AllReduce)
      continue;
    EXPECT_TRUE(covered.count(def.name.str()))
        << "no JIT test exercises '" << def.name.str() << "'";
  }
}
