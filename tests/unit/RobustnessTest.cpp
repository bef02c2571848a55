//===- RobustnessTest.cpp - Hostile inputs end in errors, not crashes -----===//

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <chrono>

#include <random>

using namespace netc::dsl;
using namespace netc::dsl::test;

namespace {

TEST(Robustness, VeryLongFileElaborates) {
  std::string text = "model m {\n  input image: f32[1, 8, 8]\n  x = image\n";
  for (int i = 0; i < 20000; ++i)
    text += "  x = x -> relu\n";
  text += "  output y = x\n}\n";
  FrontendRun r = elaborateText(text);
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  EXPECT_EQ(r.graph->nodes.size(), 20001u);
}

TEST(Robustness, VeryLongLineIsCutInTheDiagnostic) {
  std::string text = "model m {\n  input image: f32[1, 8, 8]\n  x = image";
  // 200 stages (within the expression depth limit), 40 KB of line.
  for (int i = 0; i < 200; ++i)
    text += std::string(200, ' ') + "-> relu";
  text += " -> nope\n  output y = x\n}\n";
  FrontendRun r = elaborateText(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.find("unknown layer or block 'nope'"),
            std::string::npos);
  EXPECT_LT(r.diagnostics.size(), 1000u);
}

TEST(Robustness, LongFlatChainsAreBoundedAndLinear) {
  // Sums, '->' chains and index chains nest as deeply as parentheses:
  // bounded with a message, in time linear in the file's size.
  for (const char *piece : {" + 1", " -> relu", "[0]"}) {
    std::string text = "model m {\n  input image: f32[1, 8, 8]\n  l = [1]\n"
                       "  x = ";
    text += std::string(piece) == " -> relu" ? "image"
            : std::string(piece) == "[0]"    ? "l"
                                             : "1";
    for (int i = 0; i < 200000; ++i)
      text += piece;
    text += "\n  output y = image\n}\n";
    auto start = std::chrono::steady_clock::now();
    FrontendRun r = elaborateText(text);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    EXPECT_FALSE(r.ok()) << piece;
    EXPECT_NE(r.diagnostics.find("expression nested too deeply"),
              std::string::npos)
        << piece << ": " << r.diagnostics.substr(0, 300);
    EXPECT_LT(seconds, 5.0) << piece;
  }
  // A long flat list stays fine, and fast: locations on a long line are
  // counted once.
  std::string list = "model m {\n  input image: f32[1, 8, 8]\n  l = [0";
  for (int i = 0; i < 200000; ++i)
    list += ", 1";
  list += "]\n  output y = image -> relu\n}\n";
  auto start = std::chrono::steady_clock::now();
  FrontendRun r = elaborateText(list);
  EXPECT_TRUE(r.ok()) << r.diagnostics.substr(0, 300);
  EXPECT_LT(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      5.0);
}

TEST(Robustness, DeepNestingIsAnErrorNotACrash) {
  for (const char *open : {"(", "[", "-", "not "}) {
    std::string expr;
    for (int i = 0; i < 100000; ++i)
      expr += open;
    FrontendRun r =
        elaborateText(model("  x = " + expr + "1\n  output y = image"));
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.diagnostics.find("nesting too deep"), std::string::npos)
        << open;
  }
  std::string blocks;
  for (int i = 0; i < 10000; ++i)
    blocks += "if true {\n";
  FrontendRun r = elaborateText(model(blocks));
  EXPECT_FALSE(r.ok());
}

TEST(Robustness, DeepBlockCallsAreLimited) {
  std::string text = "model m {\n  input image: f32[1, 8, 8]\n";
  for (int i = 0; i < 150; ++i)
    text += "  block b" + std::to_string(i) + "(x) {\n    return b" +
            std::to_string(i + 1) + "(x)\n  }\n";
  text += "  block b150(x) {\n    return x -> relu\n  }\n";
  text += "  output y = b0(image)\n}\n";
  FrontendRun r = elaborateText(text);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.find("nested more than"), std::string::npos)
      << r.diagnostics;
}

/// Forty blocks, each calling the next twice: 2^40 calls if nothing
/// stopped them, on `argument`.
std::string exponentialBlowUp(const std::string &argument) {
  std::string text = "model m {\n  input image: f32[1, 8, 8]\n";
  for (int i = 0; i < 40; ++i)
    text += "  block b" + std::to_string(i) + "(x) {\n    return b" +
            std::to_string(i + 1) + "(x) + b" + std::to_string(i + 1) +
            "(x)\n  }\n";
  text += "  block b40(x) {\n    return x\n  }\n";
  text += "  n = b0(" + argument + ")\n  output y = image\n}\n";
  return text;
}

TEST(Robustness, ExponentialBlowUpHitsTheStepLimit) {
  // On integers nothing but the evaluation itself grows.
  FrontendRun r = elaborateText(exponentialBlowUp("1"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.find("elaboration takes too long (more than 5000000 "
                               "steps)"),
            std::string::npos)
      << r.diagnostics;
}

TEST(Robustness, ExponentialBlowUpOfLayersHitsTheLayerLimit) {
  // On a tensor each addition is a layer: the layer limit comes first.
  FrontendRun r = elaborateText(exponentialBlowUp("image"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.find("the model has more than 200000 layers"),
            std::string::npos)
      << r.diagnostics;
}

TEST(Robustness, RandomBytesNeverCrash) {
  std::mt19937 rng(1234);
  const std::string alphabet = "model{}()[]->=,:;.#\"x1 \n\tconvreluinputoutput"
                               "blockforifelsereturn+-*/%<>!";
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string text;
    size_t length = rng() % 200;
    for (size_t i = 0; i < length; ++i)
      text += alphabet[rng() % alphabet.size()];
    FrontendRun r = elaborateText(text);
    if (!r.ok()) {
      EXPECT_FALSE(r.diagnostics.empty()) << text;
    }
  }
}

TEST(Robustness, MutatedExamplesNeverCrash) {
  std::string base = R"(model m(classes = 10) {
  input image: f32[3, 32, 32]
  block unit(x, ch, stride = 1) {
    y = x -> conv(ch, k=3, stride=stride, pad=1) -> batchnorm -> relu
    if stride != 1 or channels(x) != ch {
      x = x -> conv(ch, k=1, stride=stride)
    }
    return relu(y + x)
  }
  x = image
  for i, ch in enumerate([16, 32, 64]) {
    x = "s{i}": unit(x, ch, 2)
  }
  output logits = x -> global_avgpool -> flatten -> dense(classes)
}
train {
  loss = cross_entropy(logits)
  optimizer = sgd(lr=0.1, momentum=0.9)
}
)";
  ASSERT_TRUE(elaborateText(base).ok());
  std::mt19937 rng(99);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string text = base;
    int edits = 1 + rng() % 3;
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
      case 0:
        text.erase(pos, 1 + rng() % 4);
        break;
      case 1:
        text.insert(pos, 1, "0123456789-(){}[],=:\"x"[rng() % 22]);
        break;
      default:
        text[pos] = "0123456789-(){}[],=:\"x"[rng() % 22];
      }
    }
    FrontendRun r = elaborateText(text);
    if (!r.ok()) {
      EXPECT_FALSE(r.diagnostics.empty()) << text;
    }
  }
}

} // namespace
