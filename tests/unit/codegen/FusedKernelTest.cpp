// The fused kernel generators against the interpreter, over shapes that
// exercise their edges: rows that do not fill a tile, columns that do not
// fill a vector or a tile, depths that need k blocking, transposed operands,
// epilogues with every kind of side input, row-wise heads with batch
// reductions, and element-wise chains with broadcasting. Each graph goes
// through the fusion pass, which must form the expected kernels.
#include "codegen/Compiler.h"
#include "ir/Builder.h"
#include "passes/MemoryPlanning.h"
#include "passes/Passes.h"
#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <tuple>

using namespace nnc;

namespace {

struct FusedCase {
  std::string name;
  std::vector<TensorType> args;
  std::function<std::vector<Value *>(Builder &, llvm::ArrayRef<Value *>)> build;
  unsigned kernels;    ///< kernel ops the fusion pass must form
  int64_t classes = 1; ///< i32 arguments are labels in [0, classes)
  double zeros = 0;    ///< the share of f32 elements that are zero
  /// Elements set after the random ones: (argument, element, value).
  std::vector<std::tuple<unsigned, int64_t, double>> fixed = {};
};

void PrintTo(const FusedCase &c, std::ostream *os) { *os << c.name; }

TensorType f32(Shape s) { return TensorType(ElementType::F32, s); }

std::unique_ptr<Module> buildCase(const FusedCase &c) {
  auto m = std::make_unique<Module>();
  Graph *g = m->addGraph(std::make_unique<Graph>("case"));
  Builder b(*g);
  std::vector<Value *> args;
  for (const TensorType &t : c.args)
    args.push_back(g->addArgument(t));
  std::vector<Value *> results = c.build(b, args);
  std::vector<std::string> names;
  for (size_t i = 0; i < results.size(); ++i)
    names.push_back("r" + std::to_string(i));
  b.ret(results, names);
  return m;
}

std::vector<HostTensor> arguments(const FusedCase &c) {
  std::mt19937_64 rng(std::hash<std::string>()(c.name));
  std::vector<HostTensor> out;
  for (const TensorType &t : c.args) {
    HostTensor h(t);
    std::uniform_real_distribution<double> dist(-1, 1);
    std::bernoulli_distribution zero(c.zeros);
    for (double &d : h.data)
      d = t.element() == ElementType::I32 ? double(rng() % c.classes)
          : zero(rng)                     ? 0.0
                                          : dist(rng);
    h.roundToElementType();
    out.push_back(std::move(h));
  }
  for (auto [arg, element, value] : c.fixed)
    out[arg][element] = value;
  return out;
}

std::vector<HostTensor> run(GraphExecutor &e, llvm::ArrayRef<HostTensor> args) {
  for (unsigned i = 0; i < args.size(); ++i)
    for (int64_t k = 0; k < args[i].size(); ++k)
      storeElement(e.argument(i), args[i].type.element(), k, args[i][k]);
  llvm::Error err = e.run();
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  std::vector<HostTensor> out;
  for (unsigned i = 0; i < e.graph().terminator()->numOperands(); ++i)
    out.push_back(e.result(i));
  return out;
}

class FusedKernels : public ::testing::TestWithParam<FusedCase> {};

/// A dense layer's forward product with bias and relu: [m, k] x [k, n].
FusedCase forward(int64_t m, int64_t k, int64_t n) {
  return {"forward_" + std::to_string(m) + "x" + std::to_string(k) + "x" +
              std::to_string(n),
          {f32({m, k}), f32({k, n}), f32({n})},
          [](Builder &b, llvm::ArrayRef<Value *> a) {
            return std::vector<Value *>{
                b.relu(b.add(b.matmul(a[0], a[1]), a[2]))};
          },
          1};
}

std::vector<FusedCase> allCases() {
  std::vector<FusedCase> cases;
  // Tiles of 4 rows and 64 columns, vectors of 16, k blocks of 64. A
  // layer of one unit has a bias of [1], one value for all rows (read as
  // one per row, rows past the first took bytes beyond it).
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{32, 784, 128},
                                                            {1, 3, 1},
                                                            {5, 7, 10},
                                                            {4, 64, 64},
                                                            {7, 65, 17},
                                                            {13, 130, 100},
                                                            {32, 200, 144},
                                                            {3, 129, 130},
                                                            {70, 1100, 20},
                                                            {32, 784, 1},
                                                            {32, 1, 10},
                                                            {128, 31, 1},
                                                            {32, 2, 1},
                                                            {32, 31, 1}})
    cases.push_back(forward(m, k, n));
  // Few rows and a large B: the depth is split between threads, partial
  // sums added up after a barrier (and 32x784x128 above, the seed model's).
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{
           {5, 301, 70}, {3, 1000, 17}, {9, 256, 64}, {4, 1100, 33}})
    cases.push_back(forward(m, k, n));
  // An output larger than L2 over a panel of B that fits in it (a
  // convolution's forward product): the depth runs unblocked.
  cases.push_back(forward(4100, 130, 64));
  // Over a mostly-zero A and at least four column tiles: tiles of four
  // rows that visit the depths of each pattern of non-zero rows in a loop
  // of its own. Half the elements are zero, so that every pattern occurs;
  // rows that do not fill a tile, columns that do not fill one, two k
  // blocks (depth 1100), and the depth split between threads (9 rows).
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{
           {13, 130, 300}, {64, 200, 256}, {70, 1100, 260}, {9, 1000, 260}}) {
    FusedCase c = forward(m, k, n);
    c.name = "patterns_" + c.name;
    c.zeros = 0.5;
    cases.push_back(c);
  }
  // The weight gradient's form, X^T dY over an argument X: rows with bit
  // masks of their non-zero depths, X read only by the threads that own
  // its columns (so stored blocked by owner on several threads); one and
  // two mask words, one- and two-row tiles.
  for (auto [d, m, n] :
       std::vector<std::array<int64_t, 3>>{{32, 130, 70}, {100, 200, 130}})
    cases.push_back({"weight_gradient_" + std::to_string(d) + "x" +
                         std::to_string(m) + "x" + std::to_string(n),
                     {f32({d, m}), f32({d, n})},
                     [](Builder &b, llvm::ArrayRef<Value *> a) {
                       Value *c = b.matmul(a[0], a[1], true, false);
                       return std::vector<Value *>{b.mul(c, b.scalar(0.5))};
                     },
                     1});
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      cases.push_back(
          {std::string("transposes") + (ta ? "_a" : "") + (tb ? "_b" : ""),
           {f32(ta ? Shape{70, 9} : Shape{9, 70}),
            f32(tb ? Shape{33, 70} : Shape{70, 33})},
           [=](Builder &b, llvm::ArrayRef<Value *> a) {
             Value *c = b.matmul(a[0], a[1], ta, tb);
             return std::vector<Value *>{b.mul(c, b.scalar(0.5))};
           },
           1});
  // Side inputs of every broadcast shape, and several outputs at once.
  cases.push_back({"epilogue_side_inputs",
                   {f32({6, 20}), f32({20, 18}), f32({6, 18}), f32({6, 1}),
                    f32({18}), f32({})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *c = b.matmul(a[0], a[1]);
                     Value *u = b.add(b.mul(c, a[2]), a[3]);
                     Value *v = b.sub(b.div(u, b.add(b.exp(a[4]), a[5])), c);
                     return std::vector<Value *>{u, v, c};
                   },
                   // exp(a[4]) + a[5] is computed at [18], not at the
                   // product's shape: a kernel of its own.
                   2});
  // An optimizer-style update in the epilogue: the product is a gradient.
  cases.push_back({"epilogue_update",
                   {f32({8, 50}), f32({8, 40}), f32({50, 40}), f32({50, 40})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *g = b.matmul(a[0], a[1], true, false);
                     Value *v =
                         b.add(b.mul(b.scalar(0.9), b.unary(OpKind::Abs, a[3])),
                               b.mul(b.scalar(0.1), b.mul(g, g)));
                     Value *step = b.div(g, b.add(b.sqrt(v), b.scalar(1e-3)));
                     return std::vector<Value *>{b.sub(a[2], step), v};
                   },
                   1});
  // A weight gradient over a mostly-zero, transposed A with a short depth:
  // each row's non-zero depths as a bit mask (32 and 64 bits), one-row
  // tiles of up to 8 vectors, rows that do not fill a group of 16. With at
  // least four column tiles and B past L1, tiles by pattern: one, two and
  // four mask words, rows that do not fill a group.
  for (auto [depth, m, n] : std::vector<std::array<int64_t, 3>>{{32, 100, 64},
                                                                {40, 200, 130},
                                                                {7, 67, 70},
                                                                {128, 90, 70},
                                                                {100, 75, 70},
                                                                {200, 70, 129},
                                                                {40, 70, 300},
                                                                {128, 90, 260},
                                                                {200, 75, 256}})
    cases.push_back({std::string(n >= 256 ? "patterns_" : "") +
                         "masked_depths_" + std::to_string(depth) + "x" +
                         std::to_string(m) + "x" + std::to_string(n),
                     {f32({depth, m}), f32({depth, n}), f32({m, n})},
                     [](Builder &b, llvm::ArrayRef<Value *> a) {
                       Value *g = b.matmul(b.relu(a[0]), a[1], true, false);
                       return std::vector<Value *>{
                           b.sub(a[2], b.mul(b.scalar(0.1), g))};
                     },
                     1});
  // The relu mask of the backward pass, computed in the epilogue, over a
  // transposed B: packed in squares of a vector's width and a remainder,
  // with the columns split between threads (n = 300) or not. With half of
  // A zero, tiles by pattern (five column tiles), with three k blocks of
  // the panel (depth 300). With as many rows as a convolution's input
  // gradient has (2,100), threads split the rows instead, each packing all
  // of B.
  for (auto [m, k, n, zeros] :
       std::vector<std::tuple<int, int, int, double>>{{16, 10, 40, 0},
                                                      {70, 100, 150, 0},
                                                      {70, 100, 300, 0},
                                                      {9, 48, 300, 0},
                                                      {70, 300, 300, 0.5},
                                                      {9, 48, 300, 0.5},
                                                      {2100, 64, 288, 0},
                                                      {2100, 64, 288, 0.5}})
    cases.push_back({std::string(zeros > 0 ? "patterns_" : "") + "packed_b_" +
                         std::to_string(m) + "x" + std::to_string(k) + "x" +
                         std::to_string(n),
                     {f32({m, k}), f32({n, k}), f32({m, n})},
                     [](Builder &b, llvm::ArrayRef<Value *> a) {
                       Value *d = b.matmul(a[0], a[1], false, true);
                       Value *active = b.compare("gt", a[2], b.scalar(0.0));
                       return std::vector<Value *>{
                           b.select(active, d, b.scalar(0.0))};
                     },
                     1,
                     1,
                     zeros});
  // A classifier head: loss, accuracy, and the logits' gradient with the
  // bias gradient, over batches and class counts of several sizes.
  for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
           {32, 10}, {5, 3}, {17, 33}, {1, 2}})
    cases.push_back(
        {"head_" + std::to_string(rows) + "x" + std::to_string(cols),
         {f32({rows, cols}), TensorType(ElementType::I32, {rows}), f32({cols})},
         [=](Builder &b, llvm::ArrayRef<Value *> a) {
           Value *logits = a[0], *y = a[1];
           Value *loss = b.reduce(OpKind::ReduceMean,
                                  b.softmaxCrossEntropy(logits, y), {0});
           Value *hit = b.compare("eq", b.argmax(logits, 1), y);
           Value *acc =
               b.reduce(OpKind::ReduceMean, b.cast(hit, ElementType::F32), {0});
           Value *grad = b.mul(b.sub(b.softmax(logits), b.oneHot(y, cols)),
                               b.scalar(1.0 / double(rows)));
           Value *bias = b.reduceSum(grad, {0});
           Value *updated = b.sub(a[2], b.mul(b.scalar(0.01), bias));
           return std::vector<Value *>{loss, acc, grad, updated};
         },
         1,
         cols});
  // Row-wise ops without batch reductions: split between threads.
  cases.push_back({"rows_only",
                   {f32({9, 21})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *ls = b.logSoftmax(a[0]);
                     Value *mx = b.reduce(OpKind::ReduceMax, a[0], {1});
                     return std::vector<Value *>{b.mul(ls, b.scalar(2.0)),
                                                 b.add(mx, b.scalar(1.0))};
                   },
                   1});
  // Batch reductions of columns alone (a bias's gradient and update):
  // threads split the columns in blocks of 16, so 70 columns make five
  // blocks, shared unevenly by two and three threads; a sum and a
  // maximum over the batch, and an input per column after them.
  cases.push_back({"column_reductions",
                   {f32({9, 70}), f32({70})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *sum = b.reduceSum(a[0], {0});
                     Value *most = b.reduce(OpKind::ReduceMax, a[0], {0});
                     return std::vector<Value *>{
                         b.sub(a[1], b.mul(b.scalar(0.1), sum)),
                         b.add(most, a[1])};
                   },
                   1});
  // A sum per row beside a sum per column, as many rows as columns: the
  // row sums are [rows] and must not be taken for values per column.
  cases.push_back({"row_and_column_sums_square",
                   {f32({40, 40})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *rows = b.reduceSum(b.neg(a[0]), {1});
                     Value *cols = b.reduceSum(a[0], {0});
                     return std::vector<Value *>{rows, cols};
                   },
                   1});
  // Rows of one column (a one-unit layer): each row's only element is
  // also its per-row value, as a list of lanes or as an array.
  cases.push_back({"log_softmax_one_column",
                   {f32({2, 1})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *ls = b.logSoftmax(a[0]);
                     return std::vector<Value *>{ls, b.unary(OpKind::Exp, ls)};
                   },
                   1});
  cases.push_back({"softmax_one_column_row_sums",
                   {f32({5, 1}), f32({5, 1})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *p = b.mul(b.softmax(a[0]), a[1]);
                     return std::vector<Value *>{p, b.reduceSum(p, {1})};
                   },
                   1});
  // A mean squared error per row, as the evaluation step computes it.
  cases.push_back({"mean_squared_error_rows",
                   {f32({2, 10}), f32({10}), TensorType(ElementType::I32, {2})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *logits = b.add(a[0], a[1]);
                     Value *d = b.sub(b.softmax(logits), b.oneHot(a[2], 10));
                     Value *mse =
                         b.reduce(OpKind::ReduceMean, b.mul(d, d), {1});
                     return std::vector<Value *>{mse};
                   },
                   1,
                   10});
  // The same with a softmax's rows: every thread computes each row's
  // log-sum-exp over all its columns, then its own columns.
  cases.push_back(
      {"softmax_column_sums",
       {f32({17, 33}), f32({33})},
       [](Builder &b, llvm::ArrayRef<Value *> a) {
         Value *p = b.softmax(a[0]);
         Value *sum = b.reduceSum(p, {0});
         return std::vector<Value *>{p, b.sub(a[1], b.mul(b.scalar(0.1), sum))};
       },
       1});
  // A softmax's row maximum, found lane against lane in a tree: every lane
  // counted (row 0's maximum, in its last column, overflows exp unless it
  // is subtracted), and the special rows as the reference's loop makes
  // them: with a NaN, with +inf, of -inf only, of signed zeros, of NaNs
  // only.
  {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    FusedCase c{
        "softmax_special_rows",
        {f32({6, 10})},
        [](Builder &b, llvm::ArrayRef<Value *> a) {
          return std::vector<Value *>{b.softmax(a[0]), b.logSoftmax(a[0])};
        },
        1};
    c.fixed = {{0, 9, 200.0}, {0, 13, nan}};
    for (int64_t j = 0; j < 10; ++j) {
      c.fixed.push_back({0, 20 + j, j == 4 ? inf : 0.5});
      c.fixed.push_back({0, 30 + j, -inf});
      c.fixed.push_back({0, 40 + j, j % 2 ? -0.0 : 0.0});
      c.fixed.push_back({0, 50 + j, nan});
    }
    cases.push_back(c);
  }
  // Rows of at most 16 are computed as vectors of lanes: inputs per
  // column and per row, a compare and select, a log-softmax, and a batch
  // reduction of a row vector.
  cases.push_back({"rows_as_lanes",
                   {f32({9, 7}), f32({7}), f32({9, 1}), f32({9, 7})},
                   [](Builder &b, llvm::ArrayRef<Value *> a) {
                     Value *s = b.logSoftmax(a[0]);
                     Value *x = b.add(b.mul(b.add(s, a[1]), a[2]), a[3]);
                     Value *y = b.select(b.compare("gt", x, b.scalar(-2.0)), x,
                                         b.scalar(0.5));
                     Value *mean = b.reduce(OpKind::ReduceMean, y, {0});
                     Value *sum = b.reduceSum(a[3], {0});
                     return std::vector<Value *>{b.sub(y, b.scalar(1.0)),
                                                 b.add(mean, a[1]),
                                                 b.mul(sum, mean)};
                   },
                   1});
  // Element-wise chains with broadcast inputs.
  cases.push_back(
      {"elementwise_chain",
       {f32({7, 33}), f32({33}), f32({7, 1})},
       [](Builder &b, llvm::ArrayRef<Value *> a) {
         Value *x = b.add(a[0], a[1]);
         Value *y = b.mul(b.unary(OpKind::Sigmoid, x), a[2]);
         return std::vector<Value *>{b.sub(y, b.unary(OpKind::Tanh, x)), x};
       },
       1});
  return cases;
}

} // namespace

TEST_P(FusedKernels, AgreeWithTheInterpreter) {
  const FusedCase &c = GetParam();
  auto m = buildCase(c);
  const Graph &g = *m->graph(0);
  std::vector<HostTensor> args = arguments(c);
  ModelState none(StateLayout{});
  InterpreterExecutor ref(g, none);
  std::vector<HostTensor> want = run(ref, args);

  DiagnosticEngine diag;
  ASSERT_TRUE(llvm::succeeded(createFusionPass()->run(*m, diag)));
  unsigned kernels = 0;
  for (const Op &op : g.ops())
    kernels += op.is(OpKind::Kernel);
  EXPECT_EQ(kernels, c.kernels);

  auto plan = planMemory(g, StateLayout{});
  ASSERT_TRUE(bool(plan));
  // The arguments count as mostly zeros (as a batch does): each product
  // is compiled both with its sparse tiles and with the dense ones, and
  // with vectors of 8 floats (--prefer-vector-width=256) as well as 16.
  // And each body through the generic loop nests of its ops' structured
  // descriptions, with the specialised kernels switched off.
  struct Variant {
    bool skipZeros;
    unsigned vectorBits;
    bool specialize;
    const char *what;
  };
  for (Variant variant :
       {Variant{true, 0, true, ""}, Variant{false, 0, true, ", dense tiles"},
        Variant{true, 256, true, ", 256-bit vectors"},
        Variant{true, 0, false, ", generic"}}) {
    CodegenOptions options;
    options.specialize = variant.specialize;
    options.skipZeros = variant.skipZeros;
    options.preferVectorWidth = variant.vectorBits;
    auto program = CompiledProgram::compile({&g}, {&*plan}, options);
    ASSERT_TRUE(bool(program)) << llvm::toString(program.takeError());
    for (unsigned threads : {1u, 2u, 3u}) {
      auto pool = llvm::cantFail(ThreadPool::create(threads));
      ModelState state(StateLayout{});
      JitExecutor jit(g, *(*program)->step("case"), state, *pool);
      std::vector<HostTensor> got = run(jit, args);
      ASSERT_EQ(got.size(), want.size());
      for (size_t r = 0; r < got.size(); ++r)
        for (int64_t k = 0; k < got[r].size(); ++k) {
          if (std::isnan(want[r][k])) {
            EXPECT_TRUE(std::isnan(got[r][k]))
                << "result " << r << " element " << k << " is " << got[r][k]
                << ", not NaN, with " << threads << " threads" << variant.what;
            continue;
          }
          // Float sums of up to a few hundred products of numbers in
          // [-1, 1] against the interpreter's double ones; a few ulps
          // elsewhere.
          EXPECT_NEAR(got[r][k], want[r][k], 2e-5 * (1 + std::abs(want[r][k])))
              << "result " << r << " element " << k << " with " << threads
              << " threads" << variant.what;
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, FusedKernels, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<FusedCase> &info) {
                           return info.param.name;
                         });
