//===- ElaboratorTest.cpp - Shapes, names and semantics -------------------===//

#include "TestUtil.h"

#include "dsl/ShapeRules.h"

#include <gtest/gtest.h>

using namespace netc::dsl;
using namespace netc::dsl::test;

namespace {

TEST(Elaborator, ConvShapesAndParameters) {
  FrontendRun r = elaborateText(model("  output y = image -> c: conv(8, k=(3, "
                                      "5), stride=2, pad=(1, 2), groups=1)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  const Node &c = r.node("c");
  EXPECT_EQ(c.shape, (Shape{8, 16, 16}));
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0].name, "c.weight");
  EXPECT_EQ(c.params[0].shape, (Shape{8, 3, 3, 5}));
  EXPECT_EQ(c.params[1].name, "c.bias");
  EXPECT_EQ(c.macs, 8 * 16 * 16 * 3 * 3 * 5);
}

TEST(Elaborator, PaddingModes) {
  FrontendRun r = elaborateText(model(R"(
  a = image -> a: conv(4, k=3, stride=2, pad=same)
  b = image -> b: conv(4, k=3, pad=full, dilation=2)
  c = image -> c: conv(4, k=4, pad=(0, 1, 2, 3))
  d = image -> d: conv(4, k=3)
  output y = a)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  EXPECT_EQ(r.node("a").shape, (Shape{4, 16, 16}));
  EXPECT_EQ(r.node("a").attrs.pad, (std::array<int64_t, 4>{0, 1, 0, 1}));
  EXPECT_EQ(r.node("b").shape, (Shape{4, 36, 36}));
  EXPECT_EQ(r.node("c").shape, (Shape{4, 30, 34}));
  EXPECT_EQ(r.node("d").shape, (Shape{4, 30, 30}));
}

TEST(Elaborator, SamePaddingKeepsCeilOfInputOverStride) {
  for (int64_t in = 1; in < 40; ++in)
    for (int64_t k = 1; k < 8; ++k)
      for (int64_t s = 1; s < 5; ++s)
        for (int64_t d = 1; d < 3; ++d) {
          auto [before, after] = netc::shape::samePadding(in, k, s, d);
          int64_t out = netc::shape::convOutput(in, k, s, before, after, d);
          EXPECT_EQ(out, (in + s - 1) / s) << in << " " << k << " " << s;
          EXPECT_LE(before, after);
        }
}

TEST(Elaborator, CeilModePoolingNeverStartsInPadding) {
  // PyTorch: 5 wide, k=2, stride=2, pad=1, ceil -> 3 outputs, not 4.
  EXPECT_EQ(netc::shape::poolOutput(5, 2, 2, 1, 1, true), 3);
  EXPECT_EQ(netc::shape::poolOutput(112, 3, 2, 0, 0, true), 56);
  EXPECT_EQ(netc::shape::poolOutput(112, 3, 2, 0, 0, false), 55);
}

TEST(Elaborator, SeparableConvIsDepthwiseThenPointwise) {
  FrontendRun r = elaborateText(model(
      "  output y = image -> s: separable_conv(16, k=3, pad=1, bias=false)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  const Node &dw = r.node("s.depthwise");
  const Node &pw = r.node("s.pointwise");
  EXPECT_EQ(dw.attrs.groups, 3);
  EXPECT_EQ(dw.params[0].shape, (Shape{3, 1, 3, 3}));
  EXPECT_EQ(pw.params[0].shape, (Shape{16, 3, 1, 1}));
  EXPECT_EQ(pw.params.size(), 1u);
  EXPECT_EQ(pw.inputs, (std::vector<int>{dw.id}));
}

TEST(Elaborator, BlocksLabelsAndAutomaticNames) {
  FrontendRun r = elaborateText(model(R"(
  block unit(x, ch, stride = 1) {
    y = x -> conv(ch, k=3, stride=stride, pad=1) -> bn: batchnorm -> relu
          -> conv(ch, k=3, pad=1)
    return y
  }
  x = image
  for i, ch in enumerate([8, 16], 1) {
    x = "stage{i}": unit(x, ch, 2)
    x = unit(x, ch)
  }
  output y = x)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  std::vector<std::string> params;
  for (const Node &n : r.graph->nodes)
    for (const ParamTensor &p : n.params)
      params.push_back(p.name);
  ASSERT_GE(params.size(), 8u);
  EXPECT_EQ(params[0], "stage1.conv1.weight");
  EXPECT_EQ(params[2], "stage1.bn.weight");
  EXPECT_EQ(params[4], "stage1.bn.running_mean");
  EXPECT_EQ(params[6], "stage1.conv2.weight");
  EXPECT_EQ(params[8], "unit1.conv1.weight");
  EXPECT_EQ(r.node("unit1.conv2").shape, (Shape{8, 16, 16}));
  EXPECT_EQ(r.node("stage2.conv2").shape, (Shape{16, 8, 8}));
  EXPECT_EQ(r.node("unit2.relu1").shape, (Shape{16, 8, 8}));
}

TEST(Elaborator, ArithmeticFollowsPython) {
  FrontendRun r = elaborateText(model(R"(
  a = -7 // 2
  b = -7 % 3
  c = [1, 2] + [3]
  d = min(4, 2, 9) + max([1, 5]) + len(c) + c[-1]
  x = image -> conv(d, k=1) -> conv(a + 10, k=1) -> conv(b + 1, k=1)
  output y = x)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  // d = 2 + 5 + 3 + 3 = 13; a = -4; b = 2.
  EXPECT_EQ(r.node("conv1").shape[0], 13);
  EXPECT_EQ(r.node("conv2").shape[0], 6);
  EXPECT_EQ(r.node("conv3").shape[0], 3);
}

TEST(Elaborator, ResidualSumConcatAndChannelsBuiltin) {
  FrontendRun r = elaborateText(model(R"(
  a = image -> conv(8, k=3, pad=same)
  b = image -> conv(channels(a), k=1)
  s = a + b
  c = concat(s, a, image)
  output y = c -> global_avgpool -> flatten)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  EXPECT_EQ(r.node("add1").shape, (Shape{8, 32, 32}));
  EXPECT_EQ(r.node("concat1").shape, (Shape{19, 32, 32}));
  EXPECT_EQ(r.node("flatten1").shape, (Shape{19}));
}

TEST(Elaborator, ModelParametersCanBeOverridden) {
  std::string text = "model m(classes = 10) {\n  input x: f32[4]\n"
                     "  output y = x -> dense(classes)\n}\n";
  FrontendRun r = elaborateText(text, {{"classes", "3"}});
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  EXPECT_EQ(r.node("dense1").shape, (Shape{3}));
  FrontendRun bad = elaborateText(text, {{"klasses", "3"}});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.diagnostics.find("has no parameter 'klasses'"),
            std::string::npos);
}

TEST(Elaborator, TrainSection) {
  FrontendRun r = elaborateText(R"(model m {
  input image: f32[3, 32, 32]
  x = image -> stem: conv(8, k=3, pad=1)
  output logits = x -> flatten -> fc: dense(10)
  output aux = x -> flatten -> aux_fc: dense(10)
}
train {
  loss = cross_entropy(logits) + 0.3 * cross_entropy(aux)
  optimizer = sgd(lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=true)
  schedule = step(at=[30, 60], gamma=0.1)
  batch = 128
  epochs = 90
  augment = [random_crop(32, pad=4), hflip]
  freeze = ["stem"]
}
)");
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  const TrainConfig &t = r.graph->train;
  ASSERT_EQ(t.loss.size(), 2u);
  EXPECT_EQ(t.loss[1].output, "aux");
  EXPECT_DOUBLE_EQ(t.loss[1].weight, 0.3);
  EXPECT_TRUE(t.nesterov);
  EXPECT_EQ(t.milestones, (std::vector<int64_t>{30, 60}));
  EXPECT_EQ(t.batch, 128);
  ASSERT_EQ(t.augment.size(), 2u);
  EXPECT_EQ(t.augment[0].pad, 4);
  EXPECT_EQ(t.freeze, (std::vector<std::string>{"stem"}));
}

TEST(Elaborator, FreezeTakesDottedPrefixes) {
  auto withFreeze = [](const std::string &freeze) {
    return elaborateText(R"(model m {
  input image: f32[3, 8, 8]
  x = image -> "layer1.0": conv(4, k=3) -> layer10: conv(4, k=3)
  output logits = x -> flatten -> fc: dense(10)
}
train {
  loss = cross_entropy(logits)
  optimizer = sgd(lr=0.1)
  freeze = [)" + freeze + R"(]
}
)");
  };
  // The same rule as nn-autodiff and the programs' --freeze: a name, or a
  // prefix ending at a dot ("layer1" holds "layer1.0.weight", not
  // "layer10.weight").
  for (const char *freeze : {"\"layer1\"", "\"layer1.\"", "\"layer1.0\"",
                             "\"layer1.0.weight\"", "\"layer10\""}) {
    FrontendRun r = withFreeze(freeze);
    EXPECT_TRUE(r.ok()) << freeze << ": " << r.diagnostics;
  }
  for (const char *freeze : {"\"layer\"", "\"layer1.0.w\"", "\"fc.w\""}) {
    FrontendRun r = withFreeze(freeze);
    EXPECT_FALSE(r.ok()) << freeze;
  }
  FrontendRun r = withFreeze("\"layer\"");
  EXPECT_NE(r.diagnostics.find("no parameter of the model is named 'layer' or "
                               "starts with 'layer.'"),
            std::string::npos)
      << r.diagnostics;
}

TEST(Elaborator, EveryLayerHasAName) {
  FrontendRun r = elaborateText(model(R"(
  x = image -> conv(4, k=3) -> batchnorm -> relu -> maxpool(k=2)
            -> avgpool(k=2, count_pad=false) -> lrn -> dropout(0.2) -> sigmoid
            -> tanh -> depthwise_conv(k=3, pad=same, multiplier=2)
            -> channel_pad(before=1, after=2) -> global_avgpool -> flatten
            -> dense(5) -> softmax -> rbf(3)
  output y = x)"));
  ASSERT_TRUE(r.ok()) << r.diagnostics;
  EXPECT_EQ(r.node("depthwise_conv1").shape, (Shape{8, 7, 7}));
  EXPECT_EQ(r.node("channel_pad1").shape, (Shape{11, 7, 7}));
  EXPECT_EQ(r.node("rbf1").shape, (Shape{3}));
}

} // namespace
