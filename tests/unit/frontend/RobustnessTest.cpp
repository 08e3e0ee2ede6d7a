// Whatever the input, the frontend ends in one of two ways: a graph that
// verifies and prints as IR that reads back the same, or at least one error
// at a known place in the file. Fed every
// truncation of each example and thousands of seeded random mutations, it
// must never crash, hang, or fail silently.
#include "frontend/Frontend.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

using namespace nnc;

namespace {

const char *const kExamples[] = {"mnist_mlp.nn", "mnist_mlp_primitives.nn"};

std::string readExample(const std::string &name) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs the frontend as the driver does and checks how it ended.
/// Returns true if it produced a graph.
bool compileAndCheck(const std::string &text, const std::string &what) {
  SCOPED_TRACE(what);
  DiagnosticEngine diag;
  std::vector<Diagnostic> diagnostics;
  diag.setHandler([&](const Diagnostic &d) { diagnostics.push_back(d); });
  unsigned numLines = 1 + std::count(text.begin(), text.end(), '\n');

  std::unique_ptr<Graph> graph;
  if (auto file = parseModelFile(text, "model.nn", diag)) {
    auto config = readTrainingConfig(*file, diag);
    graph = lowerModel(*file, config ? config->batchSize : 4, diag);
    if (!config)
      graph.reset();
  }

  unsigned errors = 0;
  for (const Diagnostic &d : diagnostics) {
    // Every diagnostic points into the file...
    EXPECT_EQ(d.loc.file, "model.nn") << d.message;
    EXPECT_GE(d.loc.line, 1u) << d.message;
    EXPECT_LE(d.loc.line, numLines) << d.message;
    EXPECT_GE(d.loc.col, 1u) << d.message;
    EXPECT_FALSE(d.message.empty());
    errors += d.severity == Severity::Error;
    // ...and prints with its source line.
    std::string printed;
    llvm::raw_string_ostream os(printed);
    diag.print(os, d);
    EXPECT_NE(printed.find("model.nn:"), std::string::npos) << printed;
  }
  if (graph) {
    EXPECT_EQ(errors, 0u) << "a graph despite errors";
    DiagnosticEngine verifyDiag;
    std::string verifierOutput;
    verifyDiag.setHandler(
        [&](const Diagnostic &d) { verifierOutput += d.message + "\n"; });
    EXPECT_TRUE(llvm::succeeded(verify(*graph, verifyDiag))) << verifierOutput;
    // What nnc --emit=ir prints, nnc-opt reads.
    std::string printed = toString(*graph);
    auto reparsed = parseModule(printed, "printed.nnir", verifyDiag);
    EXPECT_TRUE(reparsed) << printed << verifierOutput;
    if (!reparsed)
      return true;
    std::string again;
    llvm::raw_string_ostream os(again);
    printModule(os, *reparsed);
    EXPECT_EQ(again, printed);
  } else {
    EXPECT_GE(errors, 1u) << "failed without saying why";
  }
  return graph != nullptr;
}

/// Bytes a mutation inserts: the language's own punctuation and words, and
/// bytes that are not.
std::string randomInsertion(std::mt19937 &rng) {
  static const char *const pieces[] = {
      "(",
      ")",
      "[",
      "]",
      "{",
      "}",
      ",",
      ":",
      "=",
      "+",
      "-",
      "*",
      "/",
      "@",
      "#",
      "\n",
      "\"",
      "\\",
      " ",
      "batch",
      "model",
      "train",
      "input",
      "label",
      "loss",
      "metric",
      "output",
      "dense",
      "param",
      "relu",
      "reshape",
      "x",
      "h",
      "logits",
      "1",
      "0",
      "-1",
      "1e999",
      "99999999999999999999",
      "65536",
      "1048576",
      "2.5",
      "\xFF",
      "\xC3\xA9",
      "\x01",
      "name=",
      "init=",
      "activation=",
      "[batch, 784]",
      "f32[batch]",
      "i32",
      "f64",
      "reduce_sum(",
      "transpose(",
      "one_hot(",
      "cast(",
      "softmax_cross_entropy(",
      "accuracy(",
      "mean_squared_error(",
      "((((((((((((((((",
      "----",
      "optimizer sgd(lr=",
      "epochs",
      "seed",
  };
  std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1);
  if (rng() % 8 == 0) // any byte at all
    return std::string(1, char(rng() % 256));
  return pieces[pick(rng)];
}

std::string mutate(std::string text, std::mt19937 &rng) {
  unsigned edits = 1 + rng() % 4;
  for (unsigned e = 0; e < edits; ++e) {
    size_t pos = text.empty() ? 0 : rng() % (text.size() + 1);
    switch (rng() % 5) {
    case 0: // delete a span
      if (!text.empty() && pos < text.size())
        text.erase(pos, 1 + rng() % std::min<size_t>(16, text.size() - pos));
      break;
    case 1: // insert a piece
      text.insert(pos, randomInsertion(rng));
      break;
    case 2: // replace a byte
      if (pos < text.size())
        text[pos] = randomInsertion(rng)[0];
      break;
    case 3: { // copy a span elsewhere
      if (text.empty())
        break;
      size_t from = rng() % text.size();
      size_t len = 1 + rng() % std::min<size_t>(40, text.size() - from);
      text.insert(pos, text.substr(from, len));
      break;
    }
    default: { // swap two lines
      std::vector<std::string> lines;
      std::stringstream ss(text);
      for (std::string line; std::getline(ss, line);)
        lines.push_back(line);
      if (lines.size() < 2)
        break;
      std::swap(lines[rng() % lines.size()], lines[rng() % lines.size()]);
      text.clear();
      for (const std::string &line : lines)
        text += line + "\n";
      break;
    }
    }
  }
  return text;
}

} // namespace

TEST(Robustness, ExamplesCompile) {
  for (const char *name : kExamples) {
    std::string text = readExample(name);
    ASSERT_FALSE(text.empty()) << "cannot read examples/" << name;
    EXPECT_TRUE(compileAndCheck(text, name));
  }
}

TEST(Robustness, EveryTruncation) {
  for (const char *name : kExamples) {
    std::string text = readExample(name);
    ASSERT_FALSE(text.empty());
    unsigned compiled = 0;
    for (size_t n = 0; n <= text.size(); ++n)
      compiled +=
          compileAndCheck(text.substr(0, n), std::string(name) + " cut to " +
                                                 std::to_string(n) + " bytes");
    // Cut before the model block closes, a file cannot compile; once it
    // closes, everything after is the train block or comments.
    EXPECT_GE(compiled, 1u) << name;
    EXPECT_LT(compiled, text.size() / 2) << name;
  }
}

TEST(Robustness, RandomMutations) {
  std::mt19937 rng(20240611);
  unsigned compiled = 0, total = 0;
  for (const char *name : kExamples) {
    std::string text = readExample(name);
    ASSERT_FALSE(text.empty());
    for (unsigned i = 0; i < 2000; ++i, ++total)
      compiled +=
          compileAndCheck(mutate(text, rng),
                          std::string(name) + " mutation " + std::to_string(i));
  }
  // Both outcomes occur: the mutations exercise errors and success alike.
  EXPECT_GT(compiled, 0u);
  EXPECT_LT(compiled, total);
}
