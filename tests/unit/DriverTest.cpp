//===- DriverTest.cpp - The pipeline as a library (compiler/Driver.h) -----===//
//
// Front ends other than the netc tool call the same entry points; their
// results and diagnostics come back through the streams they pass.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

netc::ModelRequest example(const char *name) {
  return {NETC_SOURCE_DIR "/examples/" + std::string(name) + ".nn", {}};
}

TEST(Driver, ChecksAndSummarizesThroughTheGivenStreams) {
  std::ostringstream out, err;
  EXPECT_EQ(netc::check(example("lenet5"), err), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(netc::summarize(example("lenet5"), /*json=*/true, out, err), 0);
  EXPECT_NE(out.str().find("\"params\": 61696"), std::string::npos)
      << out.str().substr(0, 400);

  netc::ModelRequest resnet = example("resnet20");
  resnet.params["classes"] = "7";
  std::ostringstream table;
  EXPECT_EQ(netc::summarize(resnet, false, table, err), 0);
  EXPECT_NE(table.str().find("[7]"), std::string::npos);
}

TEST(Driver, DiagnosticsComeBackAsCompilersWriteThem) {
  std::ostringstream err;
  netc::ModelRequest broken{NETC_SOURCE_DIR "/tests/cli/Inputs/broken.nn", {}};
  EXPECT_EQ(netc::check(broken, err), 1);
  EXPECT_NE(err.str().find("broken.nn:3:36: error: unknown attribute 'strid'"),
            std::string::npos)
      << err.str();
  std::ostringstream out;
  EXPECT_EQ(netc::emit(broken, netc::Form::Nn, false, out, err), 1);
  EXPECT_EQ(out.str(), "");
}

TEST(Driver, EmitsEachForm) {
  std::ostringstream ast, nn, train, err;
  EXPECT_EQ(netc::emit(example("lenet5"), netc::Form::Ast, false, ast, err), 0);
  EXPECT_NE(ast.str().find("Model lenet5"), std::string::npos);
  EXPECT_EQ(netc::emit(example("lenet5"), netc::Form::Nn, false, nn, err), 0);
  EXPECT_NE(nn.str().find("nn.conv2d"), std::string::npos);
  EXPECT_EQ(nn.str().find("@train"), std::string::npos);
  EXPECT_EQ(
      netc::emit(example("lenet5"), netc::Form::Training, false, train, err),
      0);
  EXPECT_NE(train.str().find("func.func @train"), std::string::npos);
  EXPECT_EQ(err.str(), "");
}

TEST(Driver, KnowsTargets) {
  EXPECT_TRUE(netc::isKnownTarget("host"));
  EXPECT_TRUE(netc::isKnownTarget("x86-64-linux-avx2-fma"));
  EXPECT_FALSE(netc::isKnownTarget("x86-64-linux-avx9000"));
  EXPECT_STREQ(netc::version(), NETC_VERSION);
}

} // namespace
