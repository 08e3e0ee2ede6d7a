// The printer and parser agree, and the parser survives any prefix of a file.
#include "ir/Parser.h"
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace nnc;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string printAll(const Module &m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  printModule(os, m);
  return s;
}

/// Parses `text` with diagnostics captured; returns null on error.
std::unique_ptr<Module> parseQuietly(llvm::StringRef text,
                                     std::vector<Diagnostic> *diags = nullptr) {
  DiagnosticEngine diag;
  std::vector<Diagnostic> sink;
  diag.setHandler([&](const Diagnostic &d) { sink.push_back(d); });
  auto m = parseModule(text, "input.nnir", diag);
  if (diags)
    *diags = sink;
  return m;
}

} // namespace

TEST(Parser, BuiltGraphRoundTrips) {
  Graph g("mlp");
  Builder b(g);
  Value *x = g.addArgument(TensorType(ElementType::F32, {32, 784}), "x");
  Value *y = g.addArgument(TensorType(ElementType::I32, {32}), "y");
  Value *w = b.param("dense_1.weight", TensorType(ElementType::F32, {784, 10}),
                     "glorot_uniform");
  Value *logits = b.matmul(x, w);
  logits->setName("logits");
  Value *loss =
      b.reduce(OpKind::ReduceMean, b.softmaxCrossEntropy(logits, y), {0});
  b.ret({loss}, {"loss"});
  std::string text = toString(g);
  auto m = parseQuietly(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(printAll(*m), text);
  DiagnosticEngine diag;
  EXPECT_TRUE(llvm::succeeded(verify(*m, diag)));
}

TEST(Parser, LocationsRoundTrip) {
  const char *text = "graph @g(%x: f32[2]) -> (f32[2]) {\n"
                     "  %0 = neg %x : f32[2] loc(\"model.nn\":3:7)\n"
                     "  return %0 loc(\"model.nn\":4:1)\n"
                     "}\n";
  auto m = parseQuietly(text);
  ASSERT_TRUE(m);
  Op &neg = m->graph(0)->front();
  EXPECT_EQ(neg.loc().str(), "model.nn:3:7");
  std::string s;
  llvm::raw_string_ostream os(s);
  PrintOptions opts;
  opts.printLocations = true;
  printModule(os, *m, opts);
  EXPECT_EQ(s, text);
}

TEST(Parser, EveryPrefixParsesOrFailsWithALocatedError) {
  std::string text =
      readFile(std::string(NNC_SOURCE_DIR) + "/tests/lit/ir/roundtrip.nnir");
  ASSERT_FALSE(text.empty());
  for (size_t n = 0; n <= text.size(); ++n) {
    std::vector<Diagnostic> diags;
    auto m = parseQuietly(llvm::StringRef(text).take_front(n), &diags);
    if (!m) {
      ASSERT_FALSE(diags.empty()) << "prefix " << n;
      EXPECT_FALSE(diags[0].loc.isUnknown()) << "prefix " << n;
    }
  }
}

TEST(Parser, RandomByteMutationsNeverCrash) {
  std::string text =
      readFile(std::string(NNC_SOURCE_DIR) + "/tests/lit/ir/roundtrip.nnir");
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = text;
    for (int k = 0; k < 1 + int(rng() % 4); ++k) {
      size_t at = rng() % mutated.size();
      switch (rng() % 3) {
      case 0:
        mutated[at] = char(rng() % 256);
        break;
      case 1:
        mutated.erase(at, 1 + rng() % 8);
        break;
      default:
        mutated.insert(at, 1, "%@=:,[]{}()\"0-.x"[rng() % 16]);
      }
    }
    std::vector<Diagnostic> diags;
    auto m = parseQuietly(mutated, &diags);
    if (m) {
      // Whatever parses must verify or fail with located errors.
      DiagnosticEngine diag;
      std::vector<Diagnostic> verifyDiags;
      diag.setHandler([&](const Diagnostic &d) { verifyDiags.push_back(d); });
      if (llvm::failed(verify(*m, diag))) {
        EXPECT_FALSE(verifyDiags.empty());
      }
    } else {
      EXPECT_FALSE(diags.empty());
    }
  }
}
