//===- LexerTest.cpp ------------------------------------------------------===//

#include "dsl/Lexer.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace netc::dsl;

namespace {

std::vector<Token> lexText(const std::string &text,
                           std::string *errors = nullptr) {
  static std::vector<std::unique_ptr<SourceFile>> files; // tokens point here
  files.push_back(std::make_unique<SourceFile>("t.nn", text));
  std::ostringstream os;
  DiagnosticEngine diags(os);
  std::vector<Token> tokens = Lexer(*files.back(), diags).lex();
  if (errors)
    *errors = os.str();
  return tokens;
}

std::vector<Tok> kinds(const std::vector<Token> &tokens) {
  std::vector<Tok> out;
  for (const Token &t : tokens)
    out.push_back(t.kind);
  return out;
}

TEST(Lexer, PunctuationAndOperators) {
  auto tokens = lexText("-> // / == != <= >= < > = - + * % : , . ;");
  EXPECT_EQ(kinds(tokens),
            (std::vector<Tok>{
                Tok::Arrow, Tok::SlashSlash, Tok::Slash, Tok::EqEq, Tok::NotEq,
                Tok::LessEq, Tok::GreaterEq, Tok::Less, Tok::Greater,
                Tok::Assign, Tok::Minus, Tok::Plus, Tok::Star, Tok::Percent,
                Tok::Colon, Tok::Comma, Tok::Dot, Tok::Semicolon, Tok::Eof}));
}

TEST(Lexer, NumbersKeepTheirKind) {
  auto tokens = lexText("64 1e-4 0.5 .25 1_000 3.");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[0].kind, Tok::Integer);
  EXPECT_EQ(tokens[1].kind, Tok::Float);
  EXPECT_EQ(tokens[1].text, "1e-4");
  EXPECT_EQ(tokens[2].kind, Tok::Float);
  EXPECT_EQ(tokens[3].kind, Tok::Float);
  EXPECT_EQ(tokens[4].kind, Tok::Integer);
  EXPECT_EQ(tokens[4].text, "1000");
  EXPECT_EQ(tokens[5].kind, Tok::Float);
}

TEST(Lexer, KeywordsAndIdentifiers) {
  auto tokens =
      lexText("model modelx block for in if else and or not true false");
  EXPECT_EQ(kinds(tokens),
            (std::vector<Tok>{Tok::KwModel, Tok::Identifier, Tok::KwBlock,
                              Tok::KwFor, Tok::KwIn, Tok::KwIf, Tok::KwElse,
                              Tok::KwAnd, Tok::KwOr, Tok::KwNot, Tok::KwTrue,
                              Tok::KwFalse, Tok::Eof}));
}

TEST(Lexer, NewlinesEndStatementsOutsideBrackets) {
  auto tokens = lexText("a = (1,\n 2)\n\n\nb = [3,\n4] # comment\n");
  EXPECT_EQ(
      kinds(tokens),
      (std::vector<Tok>{Tok::Identifier, Tok::Assign, Tok::LParen, Tok::Integer,
                        Tok::Comma, Tok::Integer, Tok::RParen, Tok::Newline,
                        Tok::Identifier, Tok::Assign, Tok::LBracket,
                        Tok::Integer, Tok::Comma, Tok::Integer, Tok::RBracket,
                        Tok::Newline, Tok::Eof}));
}

TEST(Lexer, LocationsCountCharactersNotBytes) {
  auto tokens = lexText("# é\n  \"é\" x");
  ASSERT_GE(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].kind, Tok::String);
  EXPECT_EQ(tokens[0].loc.line, 2u);
  EXPECT_EQ(tokens[0].loc.col, 3u);
  EXPECT_EQ(tokens[1].loc.col, 7u);
}

TEST(Lexer, ReportsBadCharactersAndKeepsGoing) {
  std::string errors;
  auto tokens = lexText("a $ b", &errors);
  EXPECT_EQ(kinds(tokens), (std::vector<Tok>{Tok::Identifier, Tok::Error,
                                             Tok::Identifier, Tok::Eof}));
  EXPECT_NE(errors.find("t.nn:1:3: error: unexpected character '$'"),
            std::string::npos)
      << errors;
}

TEST(Lexer, StringEscapes) {
  auto tokens = lexText(R"("a\"b\\c")");
  ASSERT_EQ(tokens[0].kind, Tok::String);
  EXPECT_EQ(tokens[0].text, "a\"b\\c");
}

} // namespace
