//===- Parser.cpp - Recursive-descent parser for .nn files ----------------===//

#include "Parser.h"

#include "Lexer.h"

#include <cerrno>
#include <cstdlib>

namespace netc::dsl {

namespace {
/// Thrown to unwind out of a statement after a syntax error; caught at the
/// statement level, which then skips to the next statement.
struct SyntaxError {};
} // namespace

Parser::DepthGuard::DepthGuard(Parser &p) : p(p), ok(++p.depth_ <= kMaxDepth) {
  if (!ok) {
    if (!p.depthReported_)
      p.errorAt(p.peek(), "nesting too deep (more than " +
                              std::to_string(kMaxDepth) + " levels)");
    p.depthReported_ = true;
    --p.depth_; // the destructor does not run when a constructor throws
    throw SyntaxError();
  }
}

const Token &Parser::peek(size_t ahead) const {
  size_t index = pos_ + ahead;
  return index < tokens_.size() ? tokens_[index] : tokens_.back();
}

const Token &Parser::advance() {
  const Token &token = peek();
  if (pos_ + 1 < tokens_.size())
    ++pos_;
  return token;
}

bool Parser::consume(Tok kind) {
  if (!at(kind))
    return false;
  advance();
  return true;
}

void Parser::errorAt(const Token &token, const std::string &message) {
  // Lexer errors were already reported; do not pile a parse error on them.
  if (token.kind == Tok::Error)
    return;
  diags_.error(token.loc, message, token.length ? token.length : 1);
}

bool Parser::expect(Tok kind, const char *context) {
  if (consume(kind))
    return true;
  errorAt(peek(), std::string("expected ") + spelling(kind) + " " + context +
                      ", found " + describeNext());
  throw SyntaxError();
}

const Token &Parser::expectIdentifier(const std::string &what) {
  if (!at(Tok::Identifier)) {
    errorAt(peek(), "expected " + what + ", found " + describeNext());
    throw SyntaxError();
  }
  return advance();
}

void Parser::skipNewlines() {
  while (at(Tok::Newline) || at(Tok::Semicolon))
    advance();
}

void Parser::endStatement() {
  if (at(Tok::Newline) || at(Tok::Semicolon)) {
    skipNewlines();
    return;
  }
  if (at(Tok::RBrace) || at(Tok::Eof))
    return;
  errorAt(peek(),
          "expected end of line after statement, found " + describeNext());
  throw SyntaxError();
}

void Parser::recover() {
  // Skip to the end of the current statement, stepping over nested braces.
  int braces = 0;
  while (!at(Tok::Eof)) {
    if (at(Tok::LBrace)) {
      ++braces;
    } else if (at(Tok::RBrace)) {
      if (braces == 0)
        return;
      --braces;
      if (braces == 0) {
        advance();
        return;
      }
    } else if ((at(Tok::Newline) || at(Tok::Semicolon)) && braces == 0) {
      skipNewlines();
      return;
    }
    advance();
  }
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

FileAST Parser::parseFile() {
  FileAST file;
  skipNewlines();
  while (!at(Tok::Eof) && !diags_.tooMany()) {
    try {
      if (at(Tok::KwModel)) {
        if (file.model) {
          errorAt(peek(), "a file defines one model; a second 'model' found");
          diags_.note(file.model->loc, "the first model is defined here", 5);
          auto extra = parseModel();
        } else {
          file.model = parseModel();
        }
      } else if (at(Tok::KwTrain)) {
        if (file.train) {
          errorAt(peek(), "duplicate 'train' section");
          diags_.note(file.train->loc, "the first 'train' section is here", 5);
          auto extra = parseTrain();
        } else {
          file.train = parseTrain();
        }
      } else {
        errorAt(peek(), "expected 'model' or 'train' at top level, found " +
                            describeNext());
        throw SyntaxError();
      }
    } catch (SyntaxError &) {
      recover();
      if (at(Tok::RBrace))
        advance();
    }
    skipNewlines();
  }
  if (!file.model && !diags_.hadError() && !tokens_.empty() &&
      peek().loc.file)
    diags_.error(peek().loc.file->name(), "no 'model' found in the file");
  return file;
}

std::unique_ptr<ModelDecl> Parser::parseModel() {
  auto model = std::make_unique<ModelDecl>();
  model->loc = advance().loc; // 'model'
  const Token &name = expectIdentifier("model name after 'model'");
  model->name = name.text;
  model->nameLoc = name.loc;
  model->nameLength = name.length;
  parseParams(model->params, /*required=*/false);
  parseBody(model->body, "model");
  model->closeLoc = tokens_[pos_ > 0 ? pos_ - 1 : 0].loc;
  return model;
}

std::unique_ptr<TrainDecl> Parser::parseTrain() {
  auto train = std::make_unique<TrainDecl>();
  train->loc = advance().loc; // 'train'
  expect(Tok::LBrace, "after 'train'");
  skipNewlines();
  while (!at(Tok::RBrace) && !at(Tok::Eof) && !diags_.tooMany()) {
    try {
      if (!at(Tok::Identifier) || peek(1).kind != Tok::Assign) {
        errorAt(peek(), "expected a setting 'name = value' in 'train', found " +
                            describeNext());
        throw SyntaxError();
      }
      auto stmt = parseAssign();
      train->settings.emplace_back(static_cast<AssignStmt *>(stmt.release()));
      endStatement();
    } catch (SyntaxError &) {
      recover();
    }
  }
  expect(Tok::RBrace, "to close 'train'");
  return train;
}

bool Parser::parseParams(std::vector<Param> &params, bool required) {
  if (!at(Tok::LParen)) {
    if (required) {
      errorAt(peek(),
              "expected '(' and a parameter list, found " + describeNext());
      throw SyntaxError();
    }
    return true;
  }
  advance();
  while (!at(Tok::RParen)) {
    if (!at(Tok::Identifier)) {
      errorAt(peek(), "expected parameter name, found " + describeNext());
      throw SyntaxError();
    }
    const Token &name = advance();
    Param param;
    param.name = name.text;
    param.loc = name.loc;
    param.length = name.length;
    if (consume(Tok::Assign))
      param.defaultValue = parseExpr();
    params.push_back(std::move(param));
    if (!consume(Tok::Comma))
      break;
  }
  expect(Tok::RParen, "to close the parameter list");
  return true;
}

bool Parser::parseBody(StmtList &body, const char *what) {
  expect(Tok::LBrace, (std::string("to open the ") + what + " body").c_str());
  skipNewlines();
  while (!at(Tok::RBrace) && !at(Tok::Eof) && !diags_.tooMany()) {
    try {
      if (StmtPtr stmt = parseStmt())
        body.push_back(std::move(stmt));
      endStatement();
    } catch (SyntaxError &) {
      recover();
    }
  }
  if (!at(Tok::RBrace)) {
    errorAt(peek(), std::string("expected '}' to close the ") + what +
                        " body, found " + describeNext());
    throw SyntaxError();
  }
  advance();
  return true;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

StmtPtr Parser::parseStmt() {
  DepthGuard guard(*this);
  switch (peek().kind) {
  case Tok::KwInput:
    return parseInput();
  case Tok::KwOutput:
    return parseOutput();
  case Tok::KwBlock:
    return parseBlock();
  case Tok::KwFor:
    return parseFor();
  case Tok::KwIf:
    return parseIf();
  case Tok::KwReturn:
    return parseReturn();
  case Tok::Identifier:
    if (peek(1).kind == Tok::Assign)
      return parseAssign();
    errorAt(peek(), "expected a statement ('name = …', 'input', 'output', "
                    "'block', 'for', 'if' or 'return'), found " +
                        describeNext());
    throw SyntaxError();
  case Tok::KwModel:
    errorAt(peek(), "a model cannot be defined inside another");
    throw SyntaxError();
  case Tok::KwTrain:
    errorAt(peek(), "the 'train' section goes after the model, not inside it");
    throw SyntaxError();
  default:
    errorAt(peek(), "expected a statement, found " + describeNext());
    throw SyntaxError();
  }
}

StmtPtr Parser::parseInput() {
  auto stmt = std::make_unique<InputStmt>(advance().loc);
  const Token &name = expectIdentifier("input name after 'input'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  stmt->nameLength = name.length;
  expect(Tok::Colon,
         "after the input name (as in 'input image: f32[3, 32, 32]')");
  const Token &dtype = expectIdentifier("element type such as 'f32'");
  stmt->dtype = dtype.text;
  stmt->dtypeLoc = dtype.loc;
  expect(Tok::LBracket, "before the input shape");
  while (!at(Tok::RBracket)) {
    stmt->dims.push_back(parseExpr());
    if (!consume(Tok::Comma))
      break;
  }
  expect(Tok::RBracket, "to close the input shape");
  return stmt;
}

StmtPtr Parser::parseOutput() {
  auto stmt = std::make_unique<OutputStmt>(advance().loc);
  const Token &name = expectIdentifier("output name after 'output'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  stmt->nameLength = name.length;
  expect(Tok::Assign, "after the output name");
  stmt->value = parseExpr();
  return stmt;
}

StmtPtr Parser::parseBlock() {
  auto stmt = std::make_unique<BlockStmt>(advance().loc);
  const Token &name = expectIdentifier("block name after 'block'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  stmt->nameLength = name.length;
  parseParams(stmt->params, /*required=*/true);
  parseBody(stmt->body, "block");
  return stmt;
}

LoopVar Parser::parseLoopVar() {
  LoopVar var;
  if (at(Tok::LParen)) {
    DepthGuard guard(*this);
    var.loc = advance().loc;
    do {
      var.group.push_back(parseLoopVar());
    } while (consume(Tok::Comma));
    expect(Tok::RParen, "after the loop variables");
    return var;
  }
  const Token &name = expectIdentifier("loop variable");
  var.name = name.text;
  var.loc = name.loc;
  var.length = name.length;
  return var;
}

StmtPtr Parser::parseFor() {
  auto stmt = std::make_unique<ForStmt>(advance().loc);
  do {
    stmt->vars.push_back(parseLoopVar());
  } while (consume(Tok::Comma));
  expect(Tok::KwIn, "after the loop variables");
  stmt->iterable = parseExpr();
  parseBody(stmt->body, "loop");
  return stmt;
}

StmtPtr Parser::parseIf() {
  auto stmt = std::make_unique<IfStmt>(advance().loc);
  stmt->condition = parseExpr();
  parseBody(stmt->thenBody, "'if'");
  // Allow `}` newline `else`.
  if (at(Tok::Newline) && peek(1).kind == Tok::KwElse)
    advance();
  if (consume(Tok::KwElse)) {
    if (at(Tok::KwIf)) {
      DepthGuard guard(*this);
      stmt->elseBody.push_back(parseIf());
    } else {
      parseBody(stmt->elseBody, "'else'");
    }
  }
  return stmt;
}

StmtPtr Parser::parseReturn() {
  auto stmt = std::make_unique<ReturnStmt>(advance().loc);
  stmt->value = parseExpr();
  return stmt;
}

StmtPtr Parser::parseAssign() {
  const Token &name = advance();
  auto stmt = std::make_unique<AssignStmt>(name.loc);
  stmt->name = name.text;
  stmt->nameLength = name.length;
  advance(); // '='
  stmt->value = parseExpr();
  return stmt;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseStandaloneExpr() {
  try {
    skipNewlines();
    ExprPtr expr = parseExpr();
    skipNewlines();
    if (!at(Tok::Eof)) {
      errorAt(peek(), "unexpected " + describeNext() + " after expression");
      return nullptr;
    }
    return expr;
  } catch (SyntaxError &) {
    return nullptr;
  }
}

ExprPtr Parser::parseExpr() {
  DepthGuard guard(*this);
  ExprPtr lhs = parseOr();
  while (true) {
    // A pipeline may continue on the next line with a leading '->'.
    if (at(Tok::Newline) && peek(1).kind == Tok::Arrow)
      advance();
    if (!at(Tok::Arrow))
      break;
    advance();
    skipNewlines();
    std::optional<Label> label = parseLabel();
    const Token &stageToken = peek();
    ExprPtr stage = parseCall(std::move(label), /*requireParens=*/false);
    const Expr *piped = lhs.get();
    static_cast<CallExpr &>(*stage).piped = std::move(lhs);
    lhs = measured(std::move(stage), {piped}, stageToken);
  }
  return lhs;
}

std::optional<Label> Parser::parseLabel() {
  if ((at(Tok::Identifier) || at(Tok::String)) && peek(1).kind == Tok::Colon) {
    const Token &token = advance();
    advance(); // ':'
    Label label;
    label.text = token.text;
    label.loc = token.loc;
    label.length = token.length;
    label.isString = token.kind == Tok::String;
    if (label.isString)
      parseLabelPieces(label);
    return label;
  }
  return std::nullopt;
}

void Parser::parseLabelPieces(Label &label) {
  // The raw source between the quotes, so that each piece keeps its own
  // locations for diagnostics.
  const SourceFile &file = *label.loc.file;
  uint32_t begin = label.loc.offset + 1;
  uint32_t end = label.loc.offset + label.length - 1;
  std::string_view text = file.text();
  for (uint32_t i = begin; i < end; ++i) {
    if (text[i] == '}') {
      diags_.error(file.locAt(i), "unmatched '}' in label");
      return;
    }
    if (text[i] != '{')
      continue;
    uint32_t close = i + 1;
    while (close < end && text[close] != '}' && text[close] != '{')
      ++close;
    if (close >= end || text[close] != '}') {
      diags_.error(file.locAt(i), "unmatched '{' in label");
      return;
    }
    Lexer lexer(file, diags_, i + 1, close);
    Parser piece(lexer.lex(), diags_);
    piece.inLabelPiece_ = true;
    ExprPtr expr = piece.parseStandaloneExpr();
    if (!expr)
      return;
    label.pieces.push_back({i, close, std::move(expr)});
    i = close;
  }
}

ExprPtr Parser::measured(ExprPtr expr,
                         const std::vector<const Expr *> &children,
                         const Token &token) {
  for (const Expr *child : children)
    if (child)
      expr->depth = std::max(expr->depth, child->depth + 1);
  if (expr->depth > kMaxExprDepth) {
    errorAt(token, "expression nested too deeply (more than " +
                       std::to_string(kMaxExprDepth) +
                       " levels of operators, indexes, calls or '->' "
                       "stages); split it into several statements");
    throw SyntaxError();
  }
  return expr;
}

ExprPtr Parser::binary(const Token &op, BinaryOp kind, ExprPtr lhs,
                       ExprPtr rhs) {
  std::vector<const Expr *> children = {lhs.get(), rhs.get()};
  return measured(std::make_unique<BinaryExpr>(op.loc, op.length, kind,
                                               std::move(lhs), std::move(rhs)),
                  children, op);
}

std::string Parser::describeNext() const {
  if (inLabelPiece_ && at(Tok::Eof))
    return "'}'";
  return describe(peek());
}

ExprPtr Parser::parseCall(std::optional<Label> label, bool requireParens) {
  if (!at(Tok::Identifier)) {
    errorAt(peek(), std::string("expected a layer or block name") +
                        (label ? " after the label" : "") + ", found " +
                        describeNext());
    throw SyntaxError();
  }
  const Token &name = advance();
  auto call = std::make_unique<CallExpr>(name.loc, name.length, name.text);
  call->label = std::move(label);
  if (at(Tok::LParen)) {
    call->hasParens = true;
    parseArgs(*call);
  } else if (requireParens) {
    errorAt(peek(), "expected '(' after '" + name.text + ":'");
    throw SyntaxError();
  }
  std::vector<const Expr *> args;
  for (const Argument &arg : call->args)
    args.push_back(arg.value.get());
  return measured(std::move(call), args, name);
}

bool Parser::parseArgs(CallExpr &call) {
  expect(Tok::LParen, "");
  bool sawNamed = false;
  while (!at(Tok::RParen)) {
    Argument arg;
    if (at(Tok::Identifier) && peek(1).kind == Tok::Assign) {
      const Token &name = advance();
      arg.name = name.text;
      arg.nameLoc = name.loc;
      advance();
      sawNamed = true;
    } else if (sawNamed) {
      errorAt(peek(), "positional argument after a named one");
      throw SyntaxError();
    }
    arg.value = parseExpr();
    call.args.push_back(std::move(arg));
    if (!consume(Tok::Comma))
      break;
  }
  expect(Tok::RParen, "to close the argument list");
  return true;
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  while (at(Tok::KwOr)) {
    const Token &op = advance();
    ExprPtr rhs = parseAnd();
    lhs = binary(op, BinaryOp::Or, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  while (at(Tok::KwAnd)) {
    const Token &op = advance();
    ExprPtr rhs = parseNot();
    lhs = binary(op, BinaryOp::And, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseNot() {
  if (at(Tok::KwNot)) {
    DepthGuard guard(*this);
    const Token &op = advance();
    ExprPtr operand = parseNot();
    const Expr *child = operand.get();
    return measured(
        std::make_unique<UnaryExpr>(op.loc, UnaryOp::Not, std::move(operand)),
        {child}, op);
  }
  return parseComparison();
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseSum();
  BinaryOp op;
  switch (peek().kind) {
  case Tok::EqEq:
    op = BinaryOp::Eq;
    break;
  case Tok::NotEq:
    op = BinaryOp::Ne;
    break;
  case Tok::Less:
    op = BinaryOp::Lt;
    break;
  case Tok::LessEq:
    op = BinaryOp::Le;
    break;
  case Tok::Greater:
    op = BinaryOp::Gt;
    break;
  case Tok::GreaterEq:
    op = BinaryOp::Ge;
    break;
  default:
    return lhs;
  }
  const Token &opTok = advance();
  ExprPtr rhs = parseSum();
  return binary(opTok, op, std::move(lhs), std::move(rhs));
}

ExprPtr Parser::parseSum() {
  ExprPtr lhs = parseProduct();
  while (at(Tok::Plus) || at(Tok::Minus)) {
    const Token &op = advance();
    skipNewlines();
    ExprPtr rhs = parseProduct();
    lhs = binary(op, op.kind == Tok::Plus ? BinaryOp::Add : BinaryOp::Sub,
                 std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseProduct() {
  ExprPtr lhs = parseUnary();
  while (at(Tok::Star) || at(Tok::Slash) || at(Tok::SlashSlash) ||
         at(Tok::Percent)) {
    const Token &op = advance();
    BinaryOp kind = op.kind == Tok::Star         ? BinaryOp::Mul
                    : op.kind == Tok::Slash      ? BinaryOp::Div
                    : op.kind == Tok::SlashSlash ? BinaryOp::FloorDiv
                                                 : BinaryOp::Mod;
    ExprPtr rhs = parseUnary();
    lhs = binary(op, kind, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (at(Tok::Minus)) {
    DepthGuard guard(*this);
    const Token &op = advance();
    ExprPtr operand = parseUnary();
    const Expr *child = operand.get();
    return measured(
        std::make_unique<UnaryExpr>(op.loc, UnaryOp::Neg, std::move(operand)),
        {child}, op);
  }
  return parsePostfix();
}

ExprPtr Parser::parsePostfix() {
  ExprPtr base = parsePrimary();
  while (at(Tok::LBracket)) {
    const Token &open = advance();
    ExprPtr index = parseExpr();
    expect(Tok::RBracket, "to close the index");
    std::vector<const Expr *> children = {base.get(), index.get()};
    base = measured(std::make_unique<IndexExpr>(open.loc, std::move(base),
                                                std::move(index)),
                    children, open);
  }
  return base;
}

ExprPtr Parser::parsePrimary() {
  DepthGuard guard(*this);
  const Token &token = peek();
  switch (token.kind) {
  case Tok::Integer: {
    advance();
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(token.text.c_str(), &end, 10);
    if (errno == ERANGE || value > (1LL << 53)) {
      errorAt(token, "integer literal '" + token.text + "' is too large");
      value = 0;
    }
    return std::make_unique<IntExpr>(token.loc, token.length, value);
  }
  case Tok::Float: {
    advance();
    double value = std::strtod(token.text.c_str(), nullptr);
    return std::make_unique<FloatExpr>(token.loc, token.length, value);
  }
  case Tok::String: {
    if (peek(1).kind == Tok::Colon)
      return parseCall(parseLabel(), /*requireParens=*/true);
    advance();
    return std::make_unique<StringExpr>(token.loc, token.length, token.text);
  }
  case Tok::KwTrue:
  case Tok::KwFalse:
    advance();
    return std::make_unique<BoolExpr>(token.loc, token.length,
                                      token.kind == Tok::KwTrue);
  case Tok::Identifier: {
    if (peek(1).kind == Tok::Colon)
      return parseCall(parseLabel(), /*requireParens=*/true);
    if (peek(1).kind == Tok::LParen)
      return parseCall(std::nullopt, /*requireParens=*/true);
    advance();
    return std::make_unique<NameExpr>(token.loc, token.length, token.text);
  }
  case Tok::LParen: {
    Loc loc = advance().loc;
    std::vector<ExprPtr> elements;
    bool trailingComma = false;
    while (!at(Tok::RParen)) {
      elements.push_back(parseExpr());
      trailingComma = false;
      if (!consume(Tok::Comma))
        break;
      trailingComma = true;
    }
    expect(Tok::RParen, "to close the parenthesis");
    if (elements.size() == 1 && !trailingComma)
      return std::move(elements[0]);
    return sequence<TupleExpr>(loc, std::move(elements), token);
  }
  case Tok::LBracket: {
    Loc loc = advance().loc;
    std::vector<ExprPtr> elements;
    while (!at(Tok::RBracket)) {
      elements.push_back(parseExpr());
      if (!consume(Tok::Comma))
        break;
    }
    expect(Tok::RBracket, "to close the list");
    return sequence<ListExpr>(loc, std::move(elements), token);
  }
  default:
    errorAt(token, "expected an expression, found " + describeNext());
    throw SyntaxError();
  }
}

} // namespace netc::dsl
