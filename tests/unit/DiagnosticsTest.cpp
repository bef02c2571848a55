//===- DiagnosticsTest.cpp - Golden error messages ------------------------===//
//
// Every tests/diagnostics/NAME.nn is run through the front end; what it
// prints must equal NAME.nn.expected. Set NETC_UPDATE_GOLDEN=1 to rewrite
// the expected files (then read the diff before committing it).
//
//===----------------------------------------------------------------------===//

#include "dsl/Frontend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>

namespace {

const std::string kDir = NETC_SOURCE_DIR "/tests/diagnostics/";

std::vector<std::string> diagnosticCases() {
  std::vector<std::string> names;
  if (DIR *dir = opendir(kDir.c_str())) {
    while (dirent *entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".nn") == 0)
        names.push_back(name.substr(0, name.size() - 3));
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// Runs the whole front end on one file, as `netc check` does.
std::string diagnose(const std::string &name, bool &hadError) {
  std::ostringstream os;
  netc::dsl::DiagnosticEngine diags(os);
  netc::dsl::SourceFile file(name + ".nn", readFile(kDir + name + ".nn"));
  if (netc::dsl::checkText(file, diags)) {
    netc::dsl::FileAST ast = netc::dsl::parseSource(file, diags);
    if (!diags.hadError())
      netc::dsl::elaborate(ast, diags);
  }
  hadError = diags.hadError();
  return os.str();
}

class Diagnostics : public testing::TestWithParam<std::string> {};

TEST_P(Diagnostics, MatchesGolden) {
  const std::string &name = GetParam();
  bool hadError = false;
  std::string actual = diagnose(name, hadError);
  EXPECT_TRUE(hadError) << name << ".nn should be rejected";
  std::string expectedPath = kDir + name + ".nn.expected";
  if (std::getenv("NETC_UPDATE_GOLDEN")) {
    std::ofstream(expectedPath, std::ios::binary) << actual;
    return;
  }
  std::ifstream check(expectedPath);
  ASSERT_TRUE(check.good()) << "missing " << expectedPath;
  EXPECT_EQ(actual, readFile(expectedPath));
}

INSTANTIATE_TEST_SUITE_P(Golden, Diagnostics,
                         testing::ValuesIn(diagnosticCases()),
                         [](const testing::TestParamInfo<std::string> &info) {
                           return info.param;
                         });

TEST(Diagnostics, EveryCaseHasAGoldenFile) {
  EXPECT_GE(diagnosticCases().size(), 30u);
}

} // namespace
