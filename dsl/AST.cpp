//===- AST.cpp - Printing the syntax tree ---------------------------------===//

#include "AST.h"

#include <sstream>

namespace netc::dsl {

const char *opSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::FloorDiv:
    return "//";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

namespace {

class Dumper {
public:
  explicit Dumper(std::ostream &os) : os_(os) {}

  void file(const FileAST &file) {
    if (file.model) {
      const ModelDecl &model = *file.model;
      line(model.loc) << "Model " << model.name << params(model.params) << "\n";
      body(model.body);
    }
    if (file.train) {
      line(file.train->loc) << "Train\n";
      ++indent_;
      for (const auto &setting : file.train->settings)
        line(setting->loc) << "Setting " << setting->name << " = "
                           << expr(*setting->value) << "\n";
      --indent_;
    }
  }

private:
  std::ostream &line(Loc loc) {
    os_ << std::string(indent_ * 2, ' ');
    os_ << "@" << loc.line << ":" << loc.col << " ";
    return os_;
  }

  std::string params(const std::vector<Param> &params) {
    std::string text = "(";
    for (size_t i = 0; i < params.size(); ++i) {
      text += (i ? ", " : "") + params[i].name;
      if (params[i].defaultValue)
        text += " = " + expr(*params[i].defaultValue);
    }
    return text + ")";
  }

  static std::string loopVars(const std::vector<LoopVar> &vars) {
    std::string text;
    for (size_t i = 0; i < vars.size(); ++i) {
      text += i ? ", " : "";
      text += vars[i].group.empty() ? vars[i].name
                                    : "(" + loopVars(vars[i].group) + ")";
    }
    return text;
  }

  void body(const StmtList &stmts) {
    ++indent_;
    for (const StmtPtr &stmt : stmts)
      statement(*stmt);
    --indent_;
  }

  void statement(const Stmt &stmt) {
    switch (stmt.kind) {
    case Stmt::Kind::Input: {
      const auto &s = static_cast<const InputStmt &>(stmt);
      line(s.loc) << "Input " << s.name << ": " << s.dtype << "[";
      for (size_t i = 0; i < s.dims.size(); ++i)
        os_ << (i ? ", " : "") << expr(*s.dims[i]);
      os_ << "]\n";
      return;
    }
    case Stmt::Kind::Output: {
      const auto &s = static_cast<const OutputStmt &>(stmt);
      line(s.loc) << "Output " << s.name << " = " << expr(*s.value) << "\n";
      return;
    }
    case Stmt::Kind::Assign: {
      const auto &s = static_cast<const AssignStmt &>(stmt);
      line(s.loc) << "Assign " << s.name << " = " << expr(*s.value) << "\n";
      return;
    }
    case Stmt::Kind::Block: {
      const auto &s = static_cast<const BlockStmt &>(stmt);
      line(s.loc) << "Block " << s.name << params(s.params) << "\n";
      body(s.body);
      return;
    }
    case Stmt::Kind::For: {
      const auto &s = static_cast<const ForStmt &>(stmt);
      line(s.loc) << "For " << loopVars(s.vars);
      os_ << " in " << expr(*s.iterable) << "\n";
      body(s.body);
      return;
    }
    case Stmt::Kind::If: {
      const auto &s = static_cast<const IfStmt &>(stmt);
      line(s.loc) << "If " << expr(*s.condition) << "\n";
      body(s.thenBody);
      if (!s.elseBody.empty()) {
        os_ << std::string(indent_ * 2, ' ') << "Else\n";
        body(s.elseBody);
      }
      return;
    }
    case Stmt::Kind::Return: {
      const auto &s = static_cast<const ReturnStmt &>(stmt);
      line(s.loc) << "Return " << expr(*s.value) << "\n";
      return;
    }
    }
  }

  std::string expr(const Expr &e) {
    std::ostringstream os;
    switch (e.kind) {
    case Expr::Kind::Int:
      os << static_cast<const IntExpr &>(e).value;
      break;
    case Expr::Kind::Float:
      os << static_cast<const FloatExpr &>(e).value;
      break;
    case Expr::Kind::String:
      os << '"' << static_cast<const StringExpr &>(e).value << '"';
      break;
    case Expr::Kind::Bool:
      os << (static_cast<const BoolExpr &>(e).value ? "true" : "false");
      break;
    case Expr::Kind::Name:
      os << static_cast<const NameExpr &>(e).name;
      break;
    case Expr::Kind::Unary: {
      const auto &u = static_cast<const UnaryExpr &>(e);
      os << "(" << (u.op == UnaryOp::Neg ? "-" : "not ") << expr(*u.operand)
         << ")";
      break;
    }
    case Expr::Kind::Binary: {
      const auto &b = static_cast<const BinaryExpr &>(e);
      os << "(" << expr(*b.lhs) << " " << opSpelling(b.op) << " "
         << expr(*b.rhs) << ")";
      break;
    }
    case Expr::Kind::Tuple:
    case Expr::Kind::List: {
      bool tuple = e.kind == Expr::Kind::Tuple;
      const auto &elements = tuple ? static_cast<const TupleExpr &>(e).elements
                                   : static_cast<const ListExpr &>(e).elements;
      os << (tuple ? "(" : "[");
      for (size_t i = 0; i < elements.size(); ++i)
        os << (i ? ", " : "") << expr(*elements[i]);
      os << (tuple && elements.size() == 1 ? "," : "") << (tuple ? ")" : "]");
      break;
    }
    case Expr::Kind::Index: {
      const auto &x = static_cast<const IndexExpr &>(e);
      os << expr(*x.base) << "[" << expr(*x.index) << "]";
      break;
    }
    case Expr::Kind::Call: {
      const auto &c = static_cast<const CallExpr &>(e);
      if (c.piped)
        os << expr(*c.piped) << " -> ";
      if (c.label)
        os << (c.label->isString ? "\"" + c.label->text + "\"" : c.label->text)
           << ": ";
      os << c.callee;
      if (c.hasParens) {
        os << "(";
        for (size_t i = 0; i < c.args.size(); ++i) {
          os << (i ? ", " : "");
          if (!c.args[i].name.empty())
            os << c.args[i].name << "=";
          os << expr(*c.args[i].value);
        }
        os << ")";
      }
      break;
    }
    }
    return os.str();
  }

  std::ostream &os_;
  int indent_ = 0;
};

} // namespace

void dumpAST(const FileAST &file, std::ostream &os) { Dumper(os).file(file); }

} // namespace netc::dsl
