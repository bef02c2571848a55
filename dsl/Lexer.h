//===- Lexer.h - Tokenizer for .nn files ------------------------*- C++ -*-===//
//
// Newlines end statements, except inside parentheses and brackets. Comments
// run from '#' to the end of the line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Diagnostics.h"
#include "Token.h"

#include <vector>

namespace netc::dsl {

class Lexer {
public:
  Lexer(const SourceFile &file, DiagnosticEngine &diags, uint32_t begin = 0,
        uint32_t end = UINT32_MAX);

  /// Tokenizes the whole range; the last token is Eof.
  std::vector<Token> lex();

private:
  Token next();
  Token make(Tok kind, uint32_t begin, std::string text = {});
  void skipSpaceAndComments();
  Token lexNumber(uint32_t begin);
  Token lexString(uint32_t begin);
  Token lexIdentifier(uint32_t begin);

  const SourceFile &file_;
  DiagnosticEngine &diags_;
  std::string_view text_;
  uint32_t pos_;
  uint32_t end_;
  int nesting_ = 0; // open ( and [
};

} // namespace netc::dsl
