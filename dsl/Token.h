//===- Token.h - Tokens of the .nn language ---------------------*- C++ -*-===//
#pragma once

#include "Source.h"

#include <string>

namespace netc::dsl {

enum class Tok {
  Eof,
  Newline,
  Identifier,
  Integer,
  Float,
  String,
  // Keywords.
  KwModel,
  KwTrain,
  KwInput,
  KwOutput,
  KwBlock,
  KwReturn,
  KwFor,
  KwIn,
  KwIf,
  KwElse,
  KwAnd,
  KwOr,
  KwNot,
  KwTrue,
  KwFalse,
  // Punctuation.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Semicolon,
  Dot,
  Arrow,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  SlashSlash,
  Percent,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  Error,
};

struct Token {
  Tok kind = Tok::Eof;
  Loc loc;
  uint32_t length = 0;
  std::string text; // identifier name, literal spelling, or string contents
};

/// How a token reads in a diagnostic, e.g. "'->'" or "identifier 'x'".
std::string describe(const Token &token);
const char *spelling(Tok kind);

} // namespace netc::dsl
