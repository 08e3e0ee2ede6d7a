// Pipelines parse into passes, options reach them, statistics count.
#include "passes/PassManager.h"

#include "ir/Builder.h"

#include <gtest/gtest.h>

using namespace nnc;

TEST(PassManager, ParsesPipelines) {
  auto passes = PassRegistry::global().parsePipeline(" canonicalize, cse ,dce");
  ASSERT_TRUE(bool(passes));
  ASSERT_EQ(passes->size(), 3u);
  EXPECT_EQ((*passes)[0]->name(), "canonicalize");
  EXPECT_EQ((*passes)[2]->name(), "dce");
}

TEST(PassManager, RejectsUnknownPassesAndOptions) {
  auto unknown = PassRegistry::global().parsePipeline("cse,frob");
  ASSERT_FALSE(bool(unknown));
  EXPECT_EQ(llvm::toString(unknown.takeError()),
            "unknown pass 'frob' (known passes: adam, autodiff, canonicalize, "
            "conv-to-gemm, cse, data-parallel, dce, fusion, max-pool-taps, "
            "per-example-results, sgd)");
  auto badOption = PassRegistry::global().parsePipeline("cse{x=1}");
  ASSERT_FALSE(bool(badOption));
  EXPECT_EQ(llvm::toString(badOption.takeError()),
            "pass 'cse' has no option 'x'");
  auto unclosed = PassRegistry::global().parsePipeline("cse{x=1");
  ASSERT_FALSE(bool(unclosed));
  llvm::consumeError(unclosed.takeError());
}

TEST(PassManager, RunsPassesAndCountsTheirWork) {
  Module m;
  Graph *g = m.addGraph(std::make_unique<Graph>("g"));
  Builder b(*g);
  Value *x = g->addArgument(TensorType(ElementType::F32, {4}), "x");
  Value *a = b.exp(x), *c = b.exp(x); // c duplicates a
  b.neg(x);                           // dead
  b.ret({b.add(a, c)}, {"out"});
  DiagnosticEngine diag;
  PassManager pm(diag);
  auto passes = PassRegistry::global().parsePipeline("cse,dce");
  ASSERT_TRUE(bool(passes));
  pm.addPasses(std::move(*passes));
  ASSERT_TRUE(llvm::succeeded(pm.run(m)));
  EXPECT_EQ(pm.getPasses()[0]->statistics()[0]->value(), 1u);
  EXPECT_EQ(pm.getPasses()[1]->statistics()[0]->value(), 1u);
  EXPECT_EQ(g->numOps(), 3u); // exp, add, return
}
