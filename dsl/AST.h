//===- AST.h - Syntax tree of a .nn file ------------------------*- C++ -*-===//
//
// The parser builds this tree; the elaborator walks it. Nodes own their
// children through unique_ptr and carry the location of their first token.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Source.h"

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace netc::dsl {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

struct Expr {
  enum class Kind {
    Int,
    Float,
    String,
    Bool,
    Name,
    Unary,
    Binary,
    Tuple,
    List,
    Index,
    Call,
  };
  Expr(Kind kind, Loc loc, uint32_t length = 1)
      : kind(kind), loc(loc), length(length) {}
  virtual ~Expr() = default;

  Kind kind;
  Loc loc;
  uint32_t length; // characters to underline in a diagnostic
  /// Levels of the tree below and including this node (1 for a leaf); the
  /// parser bounds it, so that evaluating and printing stay in the stack.
  uint32_t depth = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntExpr : Expr {
  IntExpr(Loc loc, uint32_t length, int64_t value)
      : Expr(Kind::Int, loc, length), value(value) {}
  int64_t value;
};

struct FloatExpr : Expr {
  FloatExpr(Loc loc, uint32_t length, double value)
      : Expr(Kind::Float, loc, length), value(value) {}
  double value;
};

struct StringExpr : Expr {
  StringExpr(Loc loc, uint32_t length, std::string value)
      : Expr(Kind::String, loc, length), value(std::move(value)) {}
  std::string value;
};

struct BoolExpr : Expr {
  BoolExpr(Loc loc, uint32_t length, bool value)
      : Expr(Kind::Bool, loc, length), value(value) {}
  bool value;
};

struct NameExpr : Expr {
  NameExpr(Loc loc, uint32_t length, std::string name)
      : Expr(Kind::Name, loc, length), name(std::move(name)) {}
  std::string name;
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  And,
  Or,
};
const char *opSpelling(BinaryOp op);

struct UnaryExpr : Expr {
  UnaryExpr(Loc loc, UnaryOp op, ExprPtr operand)
      : Expr(Kind::Unary, loc), op(op), operand(std::move(operand)) {}
  UnaryOp op;
  ExprPtr operand;
};

struct BinaryExpr : Expr {
  // `loc` is the operator's location.
  BinaryExpr(Loc loc, uint32_t length, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, loc, length), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  BinaryOp op;
  ExprPtr lhs, rhs;
};

struct TupleExpr : Expr {
  TupleExpr(Loc loc, std::vector<ExprPtr> elements)
      : Expr(Kind::Tuple, loc), elements(std::move(elements)) {}
  std::vector<ExprPtr> elements;
};

struct ListExpr : Expr {
  ListExpr(Loc loc, std::vector<ExprPtr> elements)
      : Expr(Kind::List, loc), elements(std::move(elements)) {}
  std::vector<ExprPtr> elements;
};

struct IndexExpr : Expr {
  IndexExpr(Loc loc, ExprPtr base, ExprPtr index)
      : Expr(Kind::Index, loc), base(std::move(base)), index(std::move(index)) {
  }
  ExprPtr base, index;
};

struct Argument {
  std::string name; // empty for positional arguments
  Loc nameLoc;
  ExprPtr value;
};

/// A label names the layer or block instance a call creates: `conv1: conv(…)`
/// or `"layer{i}": basic(…)`; strings may interpolate `{expr}`.
/// A `{expr}` piece of a string label, parsed with the label.
struct LabelPiece {
  uint32_t open = 0, close = 0; // source offsets of its braces
  std::shared_ptr<const Expr> expr;
};

struct Label {
  std::string text;
  Loc loc;
  uint32_t length = 0;
  bool isString = false;
  std::vector<LabelPiece> pieces; // string labels: their interpolations
};

/// A call of a layer, block or builtin: `conv(64, k=3)`, `relu`, or a
/// pipeline stage `x -> conv(64, k=3)` whose `piped` is `x`.
struct CallExpr : Expr {
  CallExpr(Loc loc, uint32_t length, std::string callee)
      : Expr(Kind::Call, loc, length), callee(std::move(callee)) {}
  std::string callee;
  std::optional<Label> label;
  ExprPtr piped;
  std::vector<Argument> args;
  bool hasParens = false;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

struct Stmt {
  enum class Kind { Input, Output, Assign, Block, For, If, Return };
  Stmt(Kind kind, Loc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
  Kind kind;
  Loc loc;
};
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct InputStmt : Stmt {
  InputStmt(Loc loc) : Stmt(Kind::Input, loc) {}
  std::string name;
  Loc nameLoc;
  uint32_t nameLength = 1;
  std::string dtype;
  Loc dtypeLoc;
  std::vector<ExprPtr> dims;
};

struct OutputStmt : Stmt {
  OutputStmt(Loc loc) : Stmt(Kind::Output, loc) {}
  std::string name;
  Loc nameLoc;
  uint32_t nameLength = 1;
  ExprPtr value;
};

struct AssignStmt : Stmt {
  AssignStmt(Loc loc) : Stmt(Kind::Assign, loc) {}
  std::string name;
  uint32_t nameLength = 1;
  ExprPtr value;
};

struct Param {
  std::string name;
  Loc loc;
  uint32_t length = 1;
  ExprPtr defaultValue; // may be null
};

struct BlockStmt : Stmt {
  BlockStmt(Loc loc) : Stmt(Kind::Block, loc) {}
  std::string name;
  Loc nameLoc;
  uint32_t nameLength = 1;
  std::vector<Param> params;
  StmtList body;
};

/// A loop target: a name, or a parenthesized group of targets that
/// destructures a tuple, as in `for i, (ch, stride) in enumerate(…)`.
struct LoopVar {
  std::string name; // empty for a group
  Loc loc;
  uint32_t length = 1;
  std::vector<LoopVar> group;
};

struct ForStmt : Stmt {
  ForStmt(Loc loc) : Stmt(Kind::For, loc) {}
  std::vector<LoopVar> vars; // several targets destructure each item
  ExprPtr iterable;
  StmtList body;
};

struct IfStmt : Stmt {
  IfStmt(Loc loc) : Stmt(Kind::If, loc) {}
  ExprPtr condition;
  StmtList thenBody;
  StmtList elseBody; // an `else if` is one IfStmt here
};

struct ReturnStmt : Stmt {
  ReturnStmt(Loc loc) : Stmt(Kind::Return, loc) {}
  ExprPtr value;
};

//===----------------------------------------------------------------------===//
// File
//===----------------------------------------------------------------------===//

struct ModelDecl {
  std::string name;
  Loc loc;
  Loc nameLoc;
  uint32_t nameLength = 1;
  std::vector<Param> params;
  StmtList body;
  Loc closeLoc; // the closing brace
};

struct TrainDecl {
  Loc loc;
  std::vector<std::unique_ptr<AssignStmt>> settings;
};

struct FileAST {
  std::unique_ptr<ModelDecl> model;
  std::unique_ptr<TrainDecl> train;
};

/// Prints the tree in an indented, s-expression-like form (`netc emit --ast`).
void dumpAST(const FileAST &file, std::ostream &os);

} // namespace netc::dsl
