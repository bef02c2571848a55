//===- Lexer.cpp - Tokenizer for .nn files --------------------------------===//

#include "Lexer.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace netc::dsl {

const char *spelling(Tok kind) {
  switch (kind) {
  case Tok::Eof:
    return "end of file";
  case Tok::Newline:
    return "end of line";
  case Tok::Identifier:
    return "identifier";
  case Tok::Integer:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::String:
    return "string";
  case Tok::KwModel:
    return "'model'";
  case Tok::KwTrain:
    return "'train'";
  case Tok::KwInput:
    return "'input'";
  case Tok::KwOutput:
    return "'output'";
  case Tok::KwBlock:
    return "'block'";
  case Tok::KwReturn:
    return "'return'";
  case Tok::KwFor:
    return "'for'";
  case Tok::KwIn:
    return "'in'";
  case Tok::KwIf:
    return "'if'";
  case Tok::KwElse:
    return "'else'";
  case Tok::KwAnd:
    return "'and'";
  case Tok::KwOr:
    return "'or'";
  case Tok::KwNot:
    return "'not'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Semicolon:
    return "';'";
  case Tok::Dot:
    return "'.'";
  case Tok::Arrow:
    return "'->'";
  case Tok::Assign:
    return "'='";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::SlashSlash:
    return "'//'";
  case Tok::Percent:
    return "'%'";
  case Tok::EqEq:
    return "'=='";
  case Tok::NotEq:
    return "'!='";
  case Tok::Less:
    return "'<'";
  case Tok::LessEq:
    return "'<='";
  case Tok::Greater:
    return "'>'";
  case Tok::GreaterEq:
    return "'>='";
  case Tok::Error:
    return "invalid token";
  }
  return "token";
}

std::string describe(const Token &token) {
  switch (token.kind) {
  case Tok::Identifier:
    return "identifier '" + token.text + "'";
  case Tok::Integer:
  case Tok::Float:
    return "number '" + token.text + "'";
  case Tok::String:
    return "string";
  default:
    return spelling(token.kind);
  }
}

Lexer::Lexer(const SourceFile &file, DiagnosticEngine &diags, uint32_t begin,
             uint32_t end)
    : file_(file), diags_(diags), text_(file.text()), pos_(begin),
      end_(std::min<uint32_t>(end, static_cast<uint32_t>(file.text().size()))) {
}

std::vector<Token> Lexer::lex() {
  std::vector<Token> tokens;
  while (true) {
    Token token = next();
    // Collapse runs of newlines, and drop a newline at the very start.
    if (token.kind == Tok::Newline &&
        (tokens.empty() || tokens.back().kind == Tok::Newline))
      continue;
    bool done = token.kind == Tok::Eof;
    tokens.push_back(std::move(token));
    if (done)
      break;
  }
  return tokens;
}

Token Lexer::make(Tok kind, uint32_t begin, std::string text) {
  Token token;
  token.kind = kind;
  token.loc = file_.locAt(begin);
  token.length = pos_ - begin;
  token.text = std::move(text);
  return token;
}

void Lexer::skipSpaceAndComments() {
  while (pos_ < end_) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == '\n' && nesting_ > 0) {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < end_ && text_[pos_] != '\n')
        ++pos_;
    } else if (c == '\\' && pos_ + 1 < end_ && text_[pos_ + 1] == '\n') {
      pos_ += 2; // explicit line continuation
    } else {
      break;
    }
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  uint32_t begin = pos_;
  if (pos_ >= end_)
    return make(Tok::Eof, begin);
  char c = text_[pos_];
  if (c == '\n') {
    ++pos_;
    return make(Tok::Newline, begin);
  }
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && pos_ + 1 < end_ &&
       std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))))
    return lexNumber(begin);
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexIdentifier(begin);
  if (c == '"')
    return lexString(begin);

  auto two = [&](char second) {
    return pos_ + 1 < end_ && text_[pos_ + 1] == second;
  };
  Tok kind = Tok::Error;
  uint32_t len = 1;
  switch (c) {
  case '(':
    kind = Tok::LParen, ++nesting_;
    break;
  case ')':
    kind = Tok::RParen, nesting_ = std::max(0, nesting_ - 1);
    break;
  case '[':
    kind = Tok::LBracket, ++nesting_;
    break;
  case ']':
    kind = Tok::RBracket, nesting_ = std::max(0, nesting_ - 1);
    break;
  case '{':
    // A brace opens a statement list, where newlines matter again.
    kind = Tok::LBrace, nesting_ = 0;
    break;
  case '}':
    kind = Tok::RBrace, nesting_ = 0;
    break;
  case ',':
    kind = Tok::Comma;
    break;
  case ':':
    kind = Tok::Colon;
    break;
  case ';':
    kind = Tok::Semicolon;
    break;
  case '.':
    kind = Tok::Dot;
    break;
  case '+':
    kind = Tok::Plus;
    break;
  case '*':
    kind = Tok::Star;
    break;
  case '%':
    kind = Tok::Percent;
    break;
  case '-':
    if (two('>'))
      kind = Tok::Arrow, len = 2;
    else
      kind = Tok::Minus;
    break;
  case '/':
    if (two('/'))
      kind = Tok::SlashSlash, len = 2;
    else
      kind = Tok::Slash;
    break;
  case '=':
    if (two('='))
      kind = Tok::EqEq, len = 2;
    else
      kind = Tok::Assign;
    break;
  case '!':
    if (two('='))
      kind = Tok::NotEq, len = 2;
    break;
  case '<':
    if (two('='))
      kind = Tok::LessEq, len = 2;
    else
      kind = Tok::Less;
    break;
  case '>':
    if (two('='))
      kind = Tok::GreaterEq, len = 2;
    else
      kind = Tok::Greater;
    break;
  default:
    break;
  }
  if (kind == Tok::Error) {
    // Consume one whole UTF-8 character so the caret covers it.
    ++pos_;
    while (pos_ < end_ &&
           (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80)
      ++pos_;
    Token token = make(Tok::Error, begin);
    std::string shown(text_.substr(begin, pos_ - begin));
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      diags_.error(token.loc, "unexpected control character in source");
    else
      diags_.error(token.loc, "unexpected character '" + shown + "'");
    return token;
  }
  pos_ += len;
  return make(kind, begin);
}

Token Lexer::lexNumber(uint32_t begin) {
  bool isFloat = false;
  while (pos_ < end_ &&
         (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
          text_[pos_] == '_'))
    ++pos_;
  if (pos_ < end_ && text_[pos_] == '.' &&
      !(pos_ + 1 < end_ && text_[pos_ + 1] == '.')) {
    isFloat = true;
    ++pos_;
    while (pos_ < end_ && std::isdigit(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  if (pos_ < end_ && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    uint32_t save = pos_;
    ++pos_;
    if (pos_ < end_ && (text_[pos_] == '+' || text_[pos_] == '-'))
      ++pos_;
    if (pos_ < end_ && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      isFloat = true;
      while (pos_ < end_ &&
             std::isdigit(static_cast<unsigned char>(text_[pos_])))
        ++pos_;
    } else {
      pos_ = save;
    }
  }
  std::string spelling;
  for (char ch : text_.substr(begin, pos_ - begin))
    if (ch != '_')
      spelling += ch;
  // A number glued to letters ("3x3") is a mistake worth pointing at.
  if (pos_ < end_ && (std::isalpha(static_cast<unsigned char>(text_[pos_])) ||
                      text_[pos_] == '_')) {
    while (pos_ < end_ &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
            text_[pos_] == '_'))
      ++pos_;
    Token token = make(Tok::Error, begin);
    diags_.error(token.loc,
                 "invalid number '" +
                     std::string(text_.substr(begin, pos_ - begin)) + "'",
                 token.length);
    return token;
  }
  return make(isFloat ? Tok::Float : Tok::Integer, begin, spelling);
}

Token Lexer::lexString(uint32_t begin) {
  ++pos_; // opening quote
  std::string value;
  while (pos_ < end_ && text_[pos_] != '"' && text_[pos_] != '\n') {
    char c = text_[pos_];
    if (c == '\\' && pos_ + 1 < end_) {
      char e = text_[pos_ + 1];
      if (e == '"' || e == '\\') {
        value += e;
        pos_ += 2;
        continue;
      }
      if (e == 'n') {
        value += '\n';
        pos_ += 2;
        continue;
      }
    }
    value += c;
    ++pos_;
  }
  if (pos_ >= end_ || text_[pos_] != '"') {
    Token token = make(Tok::Error, begin);
    diags_.error(token.loc, "unterminated string");
    return token;
  }
  ++pos_;
  return make(Tok::String, begin, value);
}

Token Lexer::lexIdentifier(uint32_t begin) {
  while (pos_ < end_ &&
         (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
          text_[pos_] == '_'))
    ++pos_;
  std::string word(text_.substr(begin, pos_ - begin));
  static const std::unordered_map<std::string, Tok> keywords = {
      {"model", Tok::KwModel}, {"train", Tok::KwTrain},
      {"input", Tok::KwInput}, {"output", Tok::KwOutput},
      {"block", Tok::KwBlock}, {"return", Tok::KwReturn},
      {"for", Tok::KwFor},     {"in", Tok::KwIn},
      {"if", Tok::KwIf},       {"else", Tok::KwElse},
      {"and", Tok::KwAnd},     {"or", Tok::KwOr},
      {"not", Tok::KwNot},     {"true", Tok::KwTrue},
      {"false", Tok::KwFalse}};
  auto it = keywords.find(word);
  if (it != keywords.end())
    return make(it->second, begin, word);
  return make(Tok::Identifier, begin, word);
}

} // namespace netc::dsl
