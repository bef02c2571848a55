//===- ParserTest.cpp -----------------------------------------------------===//

#include "dsl/Parser.h"
#include "dsl/Lexer.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace netc::dsl;

namespace {

struct Parsed {
  std::unique_ptr<SourceFile> file;
  FileAST ast;
  std::string errors;
  std::string dump;
};

Parsed parse(const std::string &text) {
  Parsed p;
  p.file = std::make_unique<SourceFile>("t.nn", text);
  std::ostringstream errors, dump;
  DiagnosticEngine diags(errors);
  p.ast = Parser(Lexer(*p.file, diags).lex(), diags).parseFile();
  dumpAST(p.ast, dump);
  p.errors = errors.str();
  p.dump = dump.str();
  return p;
}

TEST(Parser, PipelinesContinueOnLinesStartingWithArrow) {
  Parsed p = parse("model m {\n  x = a -> conv(8, k=3)\n        -> relu\n}\n");
  EXPECT_EQ(p.errors, "");
  EXPECT_NE(p.dump.find("Assign x = a -> conv(8, k=3) -> relu"),
            std::string::npos)
      << p.dump;
}

TEST(Parser, OperatorPrecedence) {
  Parsed p =
      parse("model m {\n  x = 1 + 2 * 3 - 4 // 2 == 5 and not b or c\n}\n");
  EXPECT_EQ(p.errors, "");
  EXPECT_NE(p.dump.find("((((1 + (2 * 3)) - (4 // 2)) == 5) and (not b)) or c"),
            std::string::npos)
      << p.dump;
}

TEST(Parser, LabelsTuplesAndIndexing) {
  Parsed p = parse("model m {\n  x = \"layer{i}\": basic(x, c[0], s=(1,))\n"
                   "  y = x -> conv1: conv(4, k=1)\n}\n");
  EXPECT_EQ(p.errors, "");
  EXPECT_NE(p.dump.find("\"layer{i}\": basic(x, c[0], s=(1,))"),
            std::string::npos)
      << p.dump;
  EXPECT_NE(p.dump.find("x -> conv1: conv(4, k=1)"), std::string::npos);
}

TEST(Parser, BlocksLoopsAndConditions) {
  Parsed p = parse(R"(model m(classes = 10) {
  block b(x, ch, stride = 1) {
    if stride != 1 {
      return x
    } else if ch > 2 {
      return x -> relu
    }
    else {
      return x
    }
  }
  for i, (a, b) in enumerate([(1, 2)]) {
    x = b(x, a)
  }
}
train {
  batch = 32
}
)");
  EXPECT_EQ(p.errors, "") << p.errors;
  ASSERT_TRUE(p.ast.model);
  ASSERT_TRUE(p.ast.train);
  EXPECT_EQ(p.ast.model->params.size(), 1u);
  EXPECT_NE(p.dump.find("Block b(x, ch, stride = 1)"), std::string::npos);
  EXPECT_NE(p.dump.find("Else"), std::string::npos);
  EXPECT_NE(p.dump.find("Setting batch = 32"), std::string::npos);
}

TEST(Parser, RecoversAndReportsSeveralErrors) {
  Parsed p = parse("model m {\n  x = = 1\n  z = 3 4\n  w = 5\n}\n");
  EXPECT_NE(p.errors.find("t.nn:2:7: error"), std::string::npos) << p.errors;
  EXPECT_NE(p.errors.find("t.nn:3:9: error"), std::string::npos) << p.errors;
  EXPECT_NE(p.dump.find("Assign w = 5"), std::string::npos) << p.dump;
}

TEST(Parser, NamedArgumentsBeforePositionalAreAnError) {
  Parsed p = parse("model m {\n  x = conv(k=3, 8)\n}\n");
  EXPECT_NE(p.errors.find("positional argument after a named one"),
            std::string::npos)
      << p.errors;
}

} // namespace
