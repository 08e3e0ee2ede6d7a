//===- OnnxExportTest.cpp - What the ONNX export refuses, and where -------===//
//
// The lit tests export models that map and run them in ONNX Runtime; these
// check the other side: a graph ONNX cannot express is refused at the op,
// with its location and name, and nothing is written.
//
//===----------------------------------------------------------------------===//
#include "codegen/OnnxExport.h"
#include "ir/Parser.h"

#include <gtest/gtest.h>

using namespace nnc;

namespace {

struct Refusal {
  bool exported = false;
  std::vector<Diagnostic> diagnostics;
};

Refusal exportText(llvm::StringRef text) {
  Refusal r;
  DiagnosticEngine diag;
  diag.setHandler([&](const Diagnostic &d) { r.diagnostics.push_back(d); });
  auto m = parseModule(text, "model.nnir", diag);
  EXPECT_TRUE(m) << "the test's IR must parse";
  if (!m)
    return r;
  auto layout = StateLayout::fromModule(*m);
  EXPECT_TRUE(bool(layout)) << llvm::toString(layout.takeError());
  std::vector<char> state(size_t(layout->byteSize()));
  OnnxExportOptions options;
  options.modelName = "m";
  r.exported = exportOnnx(*m->graph(0), *layout, state.data(), options, diag)
                   .has_value();
  return r;
}

TEST(OnnxExport, StateIsRefusedAtTheOpThatUpdatesIt) {
  if (!canExportOnnx())
    GTEST_SKIP() << "nnc was built without ONNX (libonnx-dev)";
  Refusal r = exportText(R"(graph @m(%x: f32[2,3]) -> (y: f32[2,3]) {
  %count = state {name = "count"} : f32[]
  %one = constant {value = 1.0} : f32[]
  %next = add %count, %one : f32[]
  assign %count, %next
  %y = relu %x : f32[2,3]
  return %y
}
)");
  EXPECT_FALSE(r.exported);
  ASSERT_FALSE(r.diagnostics.empty());
  const Diagnostic &first = r.diagnostics.front();
  EXPECT_EQ(first.severity, Severity::Error);
  // The state it reads is a constant of the model (as batch_norm's moving
  // averages are); the assign that updates it has no ONNX form.
  EXPECT_EQ(first.message, "ONNX export: no mapping for op 'assign' (ONNX "
                           "graphs hold no state)");
  EXPECT_EQ(first.loc.line, 5u);
  EXPECT_EQ(first.loc.col, 3u);
  EXPECT_EQ(r.diagnostics.size(), 1u);
}

TEST(OnnxExport, AnOpOnATypeTheOpsetLacksIsNamed) {
  if (!canExportOnnx())
    GTEST_SKIP() << "nnc was built without ONNX (libonnx-dev)";
  // Opset 13's Add has no 8-bit integers.
  Refusal r = exportText(R"(graph @m(%x: u8[2,3]) -> (y: u8[2,3]) {
  %y = add %x, %x : u8[2,3]
  return %y
}
)");
  EXPECT_FALSE(r.exported);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].message,
            "ONNX export: opset 13 has no 'add' on u8[2,3]");
  EXPECT_EQ(r.diagnostics[0].loc.line, 2u);
}

TEST(OnnxExport, WithoutOnnxTheExportSaysWhy) {
  if (canExportOnnx())
    GTEST_SKIP() << "nnc was built with ONNX";
  Refusal r = exportText(R"(graph @m(%x: f32[2,3]) -> (y: f32[2,3]) {
  %y = relu %x : f32[2,3]
  return %y
}
)");
  EXPECT_FALSE(r.exported);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("built without ONNX"),
            std::string::npos);
}

TEST(OnnxExport, AMappableGraphExports) {
  if (!canExportOnnx())
    GTEST_SKIP() << "nnc was built without ONNX (libonnx-dev)";
  Refusal r = exportText(R"(graph @m(%x: f32[2,3]) -> (y: f32[2,3]) {
  %w = param {name = "w"} : f32[3,3]
  %0 = matmul %x, %w {transpose_b = true} : f32[2,3]
  %1 = compare %0, %x {predicate = "ne"} : i1[2,3]
  %y = select %1, %0, %x : f32[2,3]
  return %y
}
)");
  EXPECT_TRUE(r.exported);
  EXPECT_TRUE(r.diagnostics.empty());
}

} // namespace
