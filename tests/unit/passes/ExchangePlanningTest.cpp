// The memory plan of an allreduce: its values side by side in one block of
// the arena, summed in place where nothing else reads them later, copied in
// where something does; the block lives while the exchange is in flight.
#include "passes/MemoryPlanning.h"

#include "ir/Parser.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

struct Planned {
  std::unique_ptr<Module> module;
  StateLayout layout;
  MemoryPlan plan;

  const Value *value(llvm::StringRef name) const {
    for (const Op &op : module->graph(0)->ops())
      for (const Value *r : op.results())
        if (r->name() == name)
          return r;
    ADD_FAILURE() << "no value %" << name.str();
    return nullptr;
  }
  BufferSlot slot(llvm::StringRef name) const { return plan.slot(value(name)); }
};

Planned plan(llvm::StringRef text) {
  DiagnosticEngine diag;
  Planned p;
  p.module = parseModule(text, "input.nnir", diag);
  EXPECT_TRUE(p.module) << "the test's IR does not parse";
  auto layout = StateLayout::fromModule(*p.module);
  EXPECT_TRUE(bool(layout)) << llvm::toString(layout.takeError());
  p.layout = std::move(*layout);
  auto plan = planMemory(*p.module->graph(0), p.layout);
  EXPECT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  p.plan = std::move(*plan);
  return p;
}

TEST(ExchangePlanning, BucketIsContiguousAndSummedInPlace) {
  Planned p = plan(R"(
graph @g(%x: f32[4,8]) -> (f32[8,8], f32[3], f32[]) {
  %a = matmul %x, %x {transpose_a = true} : f32[8,8]
  %b = reduce_sum %x {axes = [0]} : f32[8]
  %c = reduce_sum %b {axes = [0]} : f32[]
  %d = exp %b : f32[8]
  %as, %cs, %ds = allreduce %a, %c, %d : f32[8,8], f32[], f32[8]
  %e = neg %as : f32[8,8]
  %f = reduce_sum %ds {axes = [0]} : f32[]
  %g = add %cs, %f : f32[]
  %h = reshape %b : f32[8]
  %k = reduce_sum %e {axes = [0]} : f32[8]
  %m = add %k, %h : f32[8]
  %n = reshape %m : f32[8]
  %o = constant {value = 1.0} : f32[3]
  return %e, %o, %g
}
)");
  // In place: each result is its operand's buffer.
  for (auto [operand, result] :
       {std::pair{"a", "as"}, std::pair{"c", "cs"}, std::pair{"d", "ds"}}) {
    EXPECT_EQ(p.slot(operand).storage, Storage::Arena);
    EXPECT_EQ(p.slot(operand).offset, p.slot(result).offset) << operand;
  }
  // Side by side in operand order, each on its own cache lines.
  EXPECT_EQ(p.slot("cs").offset, p.slot("as").offset + 8 * 8 * 4);
  EXPECT_EQ(p.slot("ds").offset, p.slot("cs").offset + 64);
  // Nothing computed while the block is live, from %a to %g, the last
  // reader of the sums, takes its bytes; what comes after may.
  int64_t begin = p.slot("as").offset, end = p.slot("ds").offset + 64;
  for (llvm::StringRef name : {"b", "e", "f", "g"}) {
    BufferSlot s = p.slot(name);
    int64_t bytes = p.value(name)->type().byteSize();
    EXPECT_TRUE(s.offset + bytes <= begin || s.offset >= end)
        << "%" << name.str() << " at " << s.offset << " overlaps the bucket ["
        << begin << ", " << end << ")";
  }
}

TEST(ExchangePlanning, ValueReadDuringTheExchangeIsCopiedIn) {
  // %b is read after the allreduce (by %h), so summing it in place would
  // change what %h reads: the bucket gets a copy, in the result's buffer.
  Planned p = plan(R"(
graph @g(%x: f32[4,8]) -> (f32[8], f32[8], f32[8]) {
  %a = reduce_sum %x {axes = [0]} : f32[8]
  %b = exp %a : f32[8]
  %as, %bs = allreduce %a, %b : f32[8], f32[8]
  %h = neg %b : f32[8]
  return %as, %bs, %h
}
)");
  EXPECT_EQ(p.slot("a").offset, p.slot("as").offset);
  EXPECT_NE(p.slot("b").offset, p.slot("bs").offset);
  EXPECT_EQ(p.slot("bs").offset, p.slot("as").offset + 64);
}

TEST(ExchangePlanning, VariablesAndArgumentsAreCopiedIn) {
  Planned p = plan(R"(
graph @g(%x: f32[8]) -> (f32[8], f32[8]) {
  %w = param {name = "w"} : f32[8]
  %xs, %ws = allreduce %x, %w : f32[8], f32[8]
  return %xs, %ws
}
)");
  EXPECT_EQ(p.slot("ws").storage, Storage::Arena);
  EXPECT_EQ(p.slot("ws").offset, p.slot("xs").offset + 64);
  EXPECT_NE(p.plan.slot(p.module->graph(0)->argument(0)).offset,
            p.slot("xs").offset);
}

} // namespace
