//===- Parser.h - Recursive-descent parser for .nn files --------*- C++ -*-===//
//
//   file     := (model | train)*                 exactly one model
//   model    := 'model' NAME params? '{' stmt* '}'
//   train    := 'train' '{' (NAME '=' expr)* '}'
//   stmt     := 'input' NAME ':' NAME '[' expr (',' expr)* ']'
//             | 'output' NAME '=' expr
//             | 'block' NAME params '{' stmt* '}'
//             | 'for' target (',' target)* 'in' expr '{' stmt* '}'
//   target   := NAME | '(' target (',' target)* ')'
//             | 'if' expr '{' stmt* '}' ('else' (if | '{' stmt* '}'))?
//             | 'return' expr
//             | NAME '=' expr
//   expr     := or ('->' stage)*                 a stage may start a new line
//   stage    := (label ':')? NAME ('(' args ')')?
//   or       := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not |
//   cmp cmp      := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)? sum      :=
//   product (('+'|'-') product)* product  := unary (('*'|'/'|'//'|'%') unary)*
//   unary    := '-' unary | postfix
//   postfix  := primary ('[' expr ']')*
//   primary  := INT | FLOAT | STRING | 'true' | 'false' | call | NAME
//             | '(' expr (',' expr)* ','? ')' | '[' (expr (',' expr)* ','?)?
//             ']'
//   call     := (label ':')? NAME '(' args ')'
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"
#include "Token.h"

#include <vector>

namespace netc::dsl {

class Parser {
public:
  Parser(std::vector<Token> tokens, DiagnosticEngine &diags)
      : tokens_(std::move(tokens)), diags_(diags) {}

  /// Parses a whole file. Errors are reported; the returned tree holds what
  /// could be recovered.
  FileAST parseFile();
  /// Parses a single expression (used for `{…}` in interpolated labels).
  ExprPtr parseStandaloneExpr();

  /// Deeper nesting than this is reported instead of exhausting the stack.
  static constexpr int kMaxDepth = 200;
  /// The deepest expression tree accepted: long flat chains (a sum of many
  /// terms, many `->` stages, `x[0][0]…`) nest as deeply as parentheses.
  static constexpr uint32_t kMaxExprDepth = 256;

private:
  const Token &peek(size_t ahead = 0) const;
  const Token &advance();
  bool at(Tok kind) const { return peek().kind == kind; }
  bool consume(Tok kind);
  bool expect(Tok kind, const char *context);
  const Token &expectIdentifier(const std::string &what);
  void errorAt(const Token &token, const std::string &message);
  void skipNewlines();
  void endStatement();
  void recover();

  /// Parses the `{expr}` pieces of a string label, reporting bad ones.
  void parseLabelPieces(Label &label);
  /// Sets `expr`'s depth from its children's; reports (at `token`) and
  /// stops the statement when the tree gets deeper than kMaxExprDepth.
  ExprPtr measured(ExprPtr expr, const std::vector<const Expr *> &children,
                   const Token &token);
  ExprPtr binary(const Token &op, BinaryOp kind, ExprPtr lhs, ExprPtr rhs);
  /// A tuple or list of `elements`, measured.
  template <typename T>
  ExprPtr sequence(Loc loc, std::vector<ExprPtr> elements, const Token &token) {
    std::vector<const Expr *> children;
    for (const ExprPtr &e : elements)
      children.push_back(e.get());
    return measured(std::make_unique<T>(loc, std::move(elements)), children,
                    token);
  }
  /// describe(peek()), where the end of a label piece reads as its '}'.
  std::string describeNext() const;

  std::unique_ptr<ModelDecl> parseModel();
  std::unique_ptr<TrainDecl> parseTrain();
  bool parseParams(std::vector<Param> &params, bool required);
  bool parseBody(StmtList &body, const char *what);
  StmtPtr parseStmt();
  StmtPtr parseInput();
  StmtPtr parseOutput();
  StmtPtr parseBlock();
  StmtPtr parseFor();
  LoopVar parseLoopVar();
  StmtPtr parseIf();
  StmtPtr parseReturn();
  StmtPtr parseAssign();

  ExprPtr parseExpr();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseComparison();
  ExprPtr parseSum();
  ExprPtr parseProduct();
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseCall(std::optional<Label> label, bool requireParens);
  bool parseArgs(CallExpr &call);
  std::optional<Label> parseLabel();

  struct DepthGuard {
    Parser &p;
    bool ok;
    DepthGuard(Parser &p);
    ~DepthGuard() { --p.depth_; }
  };

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  DiagnosticEngine &diags_;
  int depth_ = 0;
  bool depthReported_ = false;
  bool inLabelPiece_ = false; // parsing the `{expr}` of a label
};

} // namespace netc::dsl
