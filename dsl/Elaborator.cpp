//===- Elaborator.cpp - Statements and expressions ------------------------===//

#include "Elaborator.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace netc::dsl {

Elaborator::Elaborator(const FileAST &file, DiagnosticEngine &diags)
    : file_(file), diags_(diags) {}

//===----------------------------------------------------------------------===//
// Reporting
//===----------------------------------------------------------------------===//

void Elaborator::report(Loc loc, uint32_t length, const std::string &message) {
  if (!diags_.error(loc, message, length))
    return;
  // Show where the failing block was instantiated, innermost first.
  int shown = 0;
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    const Frame &f = **it;
    if (!f.block)
      break;
    if (shown++ == 4) {
      diags_.note(f.callLoc, "… and further calls", f.callLength);
      break;
    }
    diags_.note(f.callLoc, "in block '" + f.block->name + "' called here",
                f.callLength);
  }
}

void Elaborator::fail(Loc loc, uint32_t length, const std::string &message) {
  report(loc, length, message);
  throw Abort();
}

static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string
Elaborator::suggest(const std::string &name,
                    const std::vector<std::string> &candidates) const {
  std::string best;
  size_t bestDistance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string &candidate : candidates) {
    size_t d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

void Elaborator::chargeBytes(const Expr &expr, int64_t bytes) {
  valueBytes_ += bytes;
  if (valueBytes_ > kMaxValueBytes)
    fail(expr.loc, expr.length,
         "the model builds more than " + std::to_string(kMaxValueBytes >> 20) +
             " MiB of strings and lists; is a loop doubling one?");
}

void Elaborator::step(Loc loc) {
  if (++steps_ <= kMaxSteps)
    return;
  bool first = !stepsReported_;
  stepsReported_ = true;
  if (first)
    fail(loc, 1,
         "elaboration takes too long (more than " + std::to_string(kMaxSteps) +
             " steps); is a loop much larger than intended?");
  throw Abort();
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

static std::optional<Value> parseOverride(const std::string &text) {
  if (text == "true" || text == "false")
    return Value::ofBool(text == "true");
  char *end = nullptr;
  errno = 0;
  long long i = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0' && errno == 0)
    return Value::ofInt(i);
  double f = std::strtod(text.c_str(), &end);
  if (!text.empty() && *end == '\0' && std::isfinite(f))
    return Value::ofFloat(f);
  return std::nullopt;
}

std::optional<Graph>
Elaborator::run(const std::map<std::string, std::string> &overrides) {
  if (!file_.model) {
    if (!diags_.hadError())
      diags_.error(Loc{}, "no 'model' found in the file");
    return std::nullopt;
  }
  const ModelDecl &model = *file_.model;
  graph_.modelName = model.name;

  for (const char *symbol : {"same", "valid", "full"})
    globals_[symbol] = Value::ofString(symbol, Value::Kind::Symbol);

  frames_.push_back(std::make_unique<Frame>());

  // Model parameters: defaults, replaced by overrides.
  std::set<std::string> seenParams;
  for (const Param &param : model.params) {
    try {
      if (!seenParams.insert(param.name).second)
        fail(param.loc, param.length,
             "duplicate model parameter '" + param.name + "'");
      auto it = overrides.find(param.name);
      if (it != overrides.end()) {
        std::optional<Value> value = parseOverride(it->second);
        if (!value)
          fail(param.loc, param.length,
               "value '" + it->second + "' given for parameter '" + param.name +
                   "' is not a number or boolean");
        globals_[param.name] = *value;
      } else if (param.defaultValue) {
        globals_[param.name] = eval(*param.defaultValue);
      } else {
        fail(param.loc, param.length,
             "model parameter '" + param.name +
                 "' has no default; give one here or on the command line");
      }
    } catch (Abort &) {
    }
  }
  for (const auto &[name, value] : overrides)
    if (!seenParams.count(name))
      diags_.error(Loc{}, "model '" + model.name + "' has no parameter '" +
                              name + "' to set");

  // Blocks are visible throughout the model, wherever they are defined.
  for (const StmtPtr &stmt : model.body) {
    if (stmt->kind != Stmt::Kind::Block)
      continue;
    const auto &block = static_cast<const BlockStmt &>(*stmt);
    auto [it, inserted] = blocks_.emplace(block.name, &block);
    if (!inserted) {
      report(block.nameLoc, block.nameLength,
             "redefinition of block '" + block.name + "'");
      diags_.note(it->second->nameLoc, "previous definition is here",
                  it->second->nameLength);
    } else if (findLayer(block.name)) {
      report(block.nameLoc, block.nameLength,
             "block '" + block.name + "' has the name of a built-in layer");
    } else if (globals_.count(block.name)) {
      report(block.nameLoc, block.nameLength,
             "block '" + block.name + "' has the name of a model parameter");
    }
    std::set<std::string> params;
    for (const Param &param : block.params)
      if (!params.insert(param.name).second)
        report(param.loc, param.length,
               "duplicate parameter '" + param.name + "' in block '" +
                   block.name + "'");
  }

  if (model.body.empty()) {
    report(model.nameLoc, model.nameLength,
           "model '" + model.name + "' is empty");
    return std::nullopt;
  }

  try {
    execBody(model.body);
  } catch (Abort &) {
  }

  if (graph_.inputs.empty() && !diags_.hadError())
    report(model.nameLoc, model.nameLength,
           "model '" + model.name +
               "' has no input; declare one such as 'input image: f32[3, "
               "224, 224]'");
  if (graph_.outputs.empty() && !diags_.hadError())
    report(model.closeLoc, 1,
           "model '" + model.name +
               "' has no output; declare one such as 'output logits = x'");

  if (file_.train && !diags_.hadError())
    elaborateTrain(*file_.train);

  if (diags_.hadError())
    return std::nullopt;
  return std::move(graph_);
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void Elaborator::execBody(const StmtList &body) {
  for (const StmtPtr &stmt : body) {
    if (frame().returned || diags_.tooMany() || stepsReported_)
      return;
    try {
      execStmt(*stmt);
    } catch (Abort &) {
      if (stmt->kind == Stmt::Kind::Assign)
        frame().poisoned.insert(static_cast<const AssignStmt &>(*stmt).name);
      if (stmt->kind == Stmt::Kind::Input)
        frame().poisoned.insert(static_cast<const InputStmt &>(*stmt).name);
      if (stepsReported_)
        throw;
      // A failure inside a block makes its whole call fail.
      if (frame().block)
        throw;
    }
  }
}

void Elaborator::execStmt(const Stmt &stmt) {
  step(stmt.loc);
  switch (stmt.kind) {
  case Stmt::Kind::Input:
    return execInput(static_cast<const InputStmt &>(stmt));
  case Stmt::Kind::Output:
    return execOutput(static_cast<const OutputStmt &>(stmt));
  case Stmt::Kind::Assign: {
    const auto &assign = static_cast<const AssignStmt &>(stmt);
    if (!frame().block && globals_.count(assign.name) &&
        globals_.at(assign.name).kind != Value::Kind::Symbol)
      fail(assign.loc, assign.nameLength,
           "cannot assign to model parameter '" + assign.name + "'");
    if (blocks_.count(assign.name) || findLayer(assign.name))
      fail(assign.loc, assign.nameLength,
           "cannot assign to '" + assign.name + "': it names a " +
               (blocks_.count(assign.name) ? "block" : "layer"));
    Value value = eval(*assign.value);
    frame().poisoned.erase(assign.name);
    frame().vars[assign.name] = std::move(value);
    return;
  }
  case Stmt::Kind::Block:
    if (frame().block)
      fail(stmt.loc, 5, "blocks can only be defined at model level");
    return; // hoisted in run()
  case Stmt::Kind::For:
    return execFor(static_cast<const ForStmt &>(stmt));
  case Stmt::Kind::If:
    return execIf(static_cast<const IfStmt &>(stmt));
  case Stmt::Kind::Return: {
    if (!frame().block)
      fail(stmt.loc, 6,
           "'return' outside a block; a model declares 'output's instead");
    const auto &ret = static_cast<const ReturnStmt &>(stmt);
    frame().result = eval(*ret.value);
    frame().returned = true;
    return;
  }
  }
}

void Elaborator::execInput(const InputStmt &stmt) {
  if (frame().block)
    fail(stmt.loc, 5, "'input' belongs at model level, not inside a block");
  if (frame().vars.count(stmt.name) || globals_.count(stmt.name))
    fail(stmt.nameLoc, stmt.nameLength, "redefinition of '" + stmt.name + "'");
  if (stmt.dtype != "f32")
    fail(stmt.dtypeLoc, static_cast<uint32_t>(stmt.dtype.size()),
         "unsupported element type '" + stmt.dtype + "'; inputs are f32");
  if (stmt.dims.empty() || stmt.dims.size() > 3)
    fail(stmt.loc, 5,
         "input '" + stmt.name +
             "' must have 1 dimension [features] or 3 [channels, height, "
             "width], got " +
             std::to_string(stmt.dims.size()));
  if (stmt.dims.size() == 2)
    fail(stmt.loc, 5,
         "input '" + stmt.name +
             "' has 2 dimensions; images are [channels, height, width]");
  Shape shape;
  for (const ExprPtr &dim : stmt.dims) {
    int64_t n = expectInt(*dim, eval(*dim), "input dimension");
    if (n <= 0)
      fail(*dim, "input dimension must be positive, got " + std::to_string(n));
    if (n > (int64_t(1) << 24))
      fail(*dim, "input dimension " + std::to_string(n) + " is too large");
    shape.push_back(n);
  }
  if ((long double)numElements(shape) > (long double)(int64_t(1) << 40))
    fail(stmt.loc, 5, "input '" + stmt.name + "' is too large");
  Node node;
  node.op = OpKind::Input;
  node.name = stmt.name;
  node.shape = shape;
  node.loc = stmt.nameLoc;
  node.locLength = stmt.nameLength;
  if (nodeNames_.count(stmt.name))
    fail(stmt.nameLoc, stmt.nameLength,
         "input '" + stmt.name + "' has the name of a layer");
  frame().names.used[stmt.name] = stmt.nameLoc;
  int id = addNode(std::move(node));
  graph_.inputs.push_back(id);
  frame().vars[stmt.name] = Value::ofTensor(id);
}

void Elaborator::execOutput(const OutputStmt &stmt) {
  if (frame().block)
    fail(stmt.loc, 6, "'output' belongs at model level, not inside a block");
  auto [it, inserted] = outputNames_.emplace(stmt.name, stmt.nameLoc);
  if (!inserted) {
    report(stmt.nameLoc, stmt.nameLength,
           "redefinition of output '" + stmt.name + "'");
    diags_.note(it->second, "previous definition is here", stmt.nameLength);
    throw Abort();
  }
  Value value = eval(*stmt.value);
  if (value.kind != Value::Kind::Tensor)
    fail(*stmt.value, std::string("output '") + stmt.name +
                          "' must be a tensor, got " + kindName(value.kind));
  graph_.outputs.push_back({stmt.name, value.node, stmt.nameLoc});
}

void Elaborator::bindLoopVars(const std::vector<LoopVar> &vars,
                              const Value &item, const Expr &iterable) {
  if (vars.size() == 1 && vars[0].group.empty()) {
    frame().vars[vars[0].name] = item;
    return;
  }
  if (!item.isSequence() || item.items.size() != vars.size())
    fail(iterable, "cannot unpack " + showValue(item) + " into " +
                       std::to_string(vars.size()) + " loop variables");
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i].group.empty())
      frame().vars[vars[i].name] = item.items[i];
    else
      bindLoopVars(vars[i].group, item.items[i], iterable);
  }
}

void Elaborator::execFor(const ForStmt &stmt) {
  Value iterable = eval(*stmt.iterable);
  if (!iterable.isSequence())
    fail(*stmt.iterable, std::string("cannot loop over a ") +
                             kindName(iterable.kind) +
                             "; use a list, a tuple or range(…)");
  std::vector<const LoopVar *> pending;
  for (const LoopVar &var : stmt.vars)
    pending.push_back(&var);
  while (!pending.empty()) {
    const LoopVar *var = pending.back();
    pending.pop_back();
    for (const LoopVar &inner : var->group)
      pending.push_back(&inner);
    if (var->group.empty() && !frame().block && globals_.count(var->name) &&
        globals_.at(var->name).kind != Value::Kind::Symbol)
      fail(var->loc, var->length,
           "loop variable '" + var->name + "' hides a model parameter");
  }
  for (const Value &item : iterable.items) {
    step(stmt.loc);
    bindLoopVars(stmt.vars, item, *stmt.iterable);
    execBody(stmt.body);
    if (frame().returned || diags_.tooMany())
      return;
  }
}

void Elaborator::execIf(const IfStmt &stmt) {
  Value condition = eval(*stmt.condition);
  if (condition.kind != Value::Kind::Bool)
    fail(*stmt.condition, std::string("condition must be a boolean, got ") +
                              kindName(condition.kind));
  execBody(condition.b ? stmt.thenBody : stmt.elseBody);
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

Value Elaborator::eval(const Expr &expr) {
  switch (expr.kind) {
  case Expr::Kind::Int:
    return Value::ofInt(static_cast<const IntExpr &>(expr).value);
  case Expr::Kind::Float:
    return Value::ofFloat(static_cast<const FloatExpr &>(expr).value);
  case Expr::Kind::String:
    return Value::ofString(static_cast<const StringExpr &>(expr).value);
  case Expr::Kind::Bool:
    return Value::ofBool(static_cast<const BoolExpr &>(expr).value);
  case Expr::Kind::Name:
    return evalName(static_cast<const NameExpr &>(expr));
  case Expr::Kind::Unary:
    return evalUnary(static_cast<const UnaryExpr &>(expr));
  case Expr::Kind::Binary:
    return evalBinary(static_cast<const BinaryExpr &>(expr));
  case Expr::Kind::Tuple:
  case Expr::Kind::List: {
    const auto &elements = expr.kind == Expr::Kind::Tuple
                               ? static_cast<const TupleExpr &>(expr).elements
                               : static_cast<const ListExpr &>(expr).elements;
    std::vector<Value> items;
    for (const ExprPtr &element : elements)
      items.push_back(eval(*element));
    return Value::ofSequence(std::move(items), expr.kind == Expr::Kind::Tuple
                                                   ? Value::Kind::Tuple
                                                   : Value::Kind::List);
  }
  case Expr::Kind::Index:
    return evalIndex(static_cast<const IndexExpr &>(expr));
  case Expr::Kind::Call:
    return evalCall(static_cast<const CallExpr &>(expr));
  }
  fail(expr, "unsupported expression");
}

bool Elaborator::isCallable(const std::string &name) const {
  return blocks_.count(name) || findLayer(name);
}

Value Elaborator::evalName(const NameExpr &expr) {
  auto it = frame().vars.find(expr.name);
  if (it != frame().vars.end())
    return it->second;
  if (frame().poisoned.count(expr.name))
    throw Abort(); // its definition already failed with an error
  auto global = globals_.find(expr.name);
  if (global != globals_.end())
    return global->second;
  if (findLayer(expr.name))
    fail(expr, "layer '" + expr.name +
                   "' used as a value; apply it with 'x -> " + expr.name +
                   "' or call it as " + expr.name + "(x, …)");
  if (blocks_.count(expr.name))
    fail(expr, "block '" + expr.name + "' used as a value; call it as " +
                   expr.name + "(…)");
  std::vector<std::string> candidates;
  for (const auto &[name, value] : frame().vars)
    candidates.push_back(name);
  for (const auto &[name, value] : globals_)
    candidates.push_back(name);
  fail(expr,
       "undefined name '" + expr.name + "'" + suggest(expr.name, candidates));
}

Value Elaborator::evalUnary(const UnaryExpr &expr) {
  Value operand = eval(*expr.operand);
  if (expr.op == UnaryOp::Not) {
    if (operand.kind != Value::Kind::Bool)
      fail(expr.loc, 3,
           std::string("'not' needs a boolean, got ") + kindName(operand.kind));
    return Value::ofBool(!operand.b);
  }
  if (operand.kind == Value::Kind::Int) {
    if (operand.i == std::numeric_limits<int64_t>::min())
      fail(expr, "integer overflow");
    return Value::ofInt(-operand.i);
  }
  if (operand.kind == Value::Kind::Float)
    return Value::ofFloat(-operand.f);
  fail(expr.loc, 1, std::string("cannot negate a ") + kindName(operand.kind));
}

Value Elaborator::evalBinary(const BinaryExpr &expr) {
  const char *op = opSpelling(expr.op);
  if (expr.op == BinaryOp::And || expr.op == BinaryOp::Or) {
    Value lhs = eval(*expr.lhs);
    if (lhs.kind != Value::Kind::Bool)
      fail(*expr.lhs, std::string("'") + op + "' needs booleans, got " +
                          kindName(lhs.kind));
    if (lhs.b == (expr.op == BinaryOp::Or))
      return lhs; // short circuit
    Value rhs = eval(*expr.rhs);
    if (rhs.kind != Value::Kind::Bool)
      fail(*expr.rhs, std::string("'") + op + "' needs booleans, got " +
                          kindName(rhs.kind));
    return rhs;
  }
  Value lhs = eval(*expr.lhs);
  Value rhs = eval(*expr.rhs);
  using K = Value::Kind;

  // Tensors: `a + b` is a residual sum.
  if (lhs.kind == K::Tensor || rhs.kind == K::Tensor) {
    if (expr.op == BinaryOp::Add && lhs.kind == K::Tensor &&
        rhs.kind == K::Tensor) {
      CallExpr call(expr.loc, expr.length, "add");
      return callLayer(*findLayer("add"), call, {lhs.node, rhs.node});
    }
    fail(expr.loc, expr.length,
         std::string("operator '") + op + "' is not defined for " +
             kindName(lhs.kind) + " and " + kindName(rhs.kind) +
             (expr.op == BinaryOp::Add ? "" : "; tensors only support '+'"));
  }

  if (expr.op == BinaryOp::Eq || expr.op == BinaryOp::Ne) {
    bool equal;
    if (lhs.isNumber() && rhs.isNumber())
      equal = lhs.asDouble() == rhs.asDouble();
    else if (lhs.kind == rhs.kind && !lhs.isSequence())
      equal = showValue(lhs) == showValue(rhs);
    else if (lhs.kind == rhs.kind)
      equal = showValue(lhs) == showValue(rhs);
    else
      fail(expr.loc, expr.length,
           std::string("cannot compare ") + kindName(lhs.kind) + " and " +
               kindName(rhs.kind));
    return Value::ofBool(expr.op == BinaryOp::Eq ? equal : !equal);
  }

  if (expr.op == BinaryOp::Add && lhs.kind == rhs.kind &&
      (lhs.kind == K::List || lhs.kind == K::Tuple || lhs.kind == K::String)) {
    if (lhs.kind == K::String) {
      if (lhs.s.size() + rhs.s.size() > size_t(kMaxStringLength))
        fail(expr.loc, expr.length,
             "string is too long (more than " +
                 std::to_string(kMaxStringLength) + " characters)");
      chargeBytes(expr, int64_t(lhs.s.size() + rhs.s.size()));
      return Value::ofString(lhs.s + rhs.s);
    }
    if (lhs.items.size() + rhs.items.size() > kMaxListLength)
      fail(expr.loc, expr.length, "list is too long");
    int64_t bytes = 0;
    for (const Value *side : {&lhs, &rhs})
      for (const Value &item : side->items)
        bytes += int64_t(sizeof(Value) + item.s.size());
    chargeBytes(expr, bytes);
    Value joined = lhs;
    joined.items.insert(joined.items.end(), rhs.items.begin(), rhs.items.end());
    return joined;
  }

  if (!lhs.isNumber() || !rhs.isNumber())
    fail(expr.loc, expr.length,
         std::string("operator '") + op + "' is not defined for " +
             kindName(lhs.kind) + " and " + kindName(rhs.kind));

  switch (expr.op) {
  case BinaryOp::Lt:
    return Value::ofBool(lhs.asDouble() < rhs.asDouble());
  case BinaryOp::Le:
    return Value::ofBool(lhs.asDouble() <= rhs.asDouble());
  case BinaryOp::Gt:
    return Value::ofBool(lhs.asDouble() > rhs.asDouble());
  case BinaryOp::Ge:
    return Value::ofBool(lhs.asDouble() >= rhs.asDouble());
  default:
    break;
  }

  if (lhs.kind == K::Int && rhs.kind == K::Int && expr.op != BinaryOp::Div) {
    int64_t a = lhs.i, b = rhs.i, r = 0;
    bool overflow = false;
    switch (expr.op) {
    case BinaryOp::Add:
      overflow = __builtin_add_overflow(a, b, &r);
      break;
    case BinaryOp::Sub:
      overflow = __builtin_sub_overflow(a, b, &r);
      break;
    case BinaryOp::Mul:
      overflow = __builtin_mul_overflow(a, b, &r);
      break;
    case BinaryOp::FloorDiv:
    case BinaryOp::Mod: {
      if (b == 0)
        fail(expr.loc, expr.length, "division by zero");
      if (a == std::numeric_limits<int64_t>::min() && b == -1) {
        overflow = true;
        break;
      }
      // Python semantics: floor division, remainder has the divisor's sign.
      int64_t q = a / b, m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) {
        q -= 1;
        m += b;
      }
      r = expr.op == BinaryOp::FloorDiv ? q : m;
      break;
    }
    default:
      break;
    }
    if (overflow)
      fail(expr.loc, expr.length, "integer overflow");
    return Value::ofInt(r);
  }

  double a = lhs.asDouble(), b = rhs.asDouble();
  switch (expr.op) {
  case BinaryOp::Add:
    return Value::ofFloat(a + b);
  case BinaryOp::Sub:
    return Value::ofFloat(a - b);
  case BinaryOp::Mul:
    return Value::ofFloat(a * b);
  case BinaryOp::Div:
    if (b == 0)
      fail(expr.loc, expr.length, "division by zero");
    return Value::ofFloat(a / b);
  case BinaryOp::FloorDiv:
    if (b == 0)
      fail(expr.loc, expr.length, "division by zero");
    return Value::ofFloat(std::floor(a / b));
  case BinaryOp::Mod:
    if (b == 0)
      fail(expr.loc, expr.length, "division by zero");
    return Value::ofFloat(a - b * std::floor(a / b));
  default:
    break;
  }
  fail(expr.loc, expr.length, "unsupported operator");
}

Value Elaborator::evalIndex(const IndexExpr &expr) {
  Value base = eval(*expr.base);
  Value index = eval(*expr.index);
  if (!base.isSequence())
    fail(*expr.base, std::string("cannot index a ") + kindName(base.kind));
  int64_t i = expectInt(*expr.index, index, "index");
  int64_t n = static_cast<int64_t>(base.items.size());
  if (i < -n || i >= n)
    fail(*expr.index, "index " + std::to_string(i) + " is out of range for " +
                          std::string(kindName(base.kind)) + " of length " +
                          std::to_string(n));
  return base.items[i < 0 ? i + n : i];
}

int64_t Elaborator::expectInt(const Expr &expr, const Value &value,
                              const char *what) {
  if (value.kind == Value::Kind::Int)
    return value.i;
  fail(expr,
       std::string(what) + " must be an integer, got " + kindName(value.kind) +
           (value.kind == Value::Kind::Float
                ? " " + showValue(value) + " (use '//' to divide integers)"
                : ""));
}

const Node &Elaborator::tensorNode(const Expr &expr, const Value &value) {
  if (value.kind != Value::Kind::Tensor)
    fail(expr, std::string("expected a tensor, got ") + kindName(value.kind));
  return graph_.nodes[value.node];
}

Value Elaborator::evalCall(const CallExpr &call) {
  step(call.loc);
  if (auto it = blocks_.find(call.callee); it != blocks_.end())
    return callBlock(*it->second, call);
  if (const LayerSpec *spec = findLayer(call.callee)) {
    std::vector<int> inputs;
    return callLayer(*spec, call, inputs);
  }
  return evalBuiltin(call);
}

Value Elaborator::evalBuiltin(const CallExpr &call) {
  static const std::vector<std::string> builtins = {
      "range", "len", "channels", "height", "width", "min", "max", "enumerate"};
  const std::string &name = call.callee;
  bool known =
      std::find(builtins.begin(), builtins.end(), name) != builtins.end();
  if (!known) {
    std::vector<std::string> candidates = builtins;
    for (const LayerSpec &spec : layerSpecs())
      candidates.push_back(spec.name);
    for (const auto &[block, stmt] : blocks_)
      candidates.push_back(block);
    fail(call,
         "unknown layer or block '" + name + "'" + suggest(name, candidates));
  }
  if (call.label)
    fail(call.label->loc, call.label->length,
         "'" + name + "' is a function; only layers and blocks take a label");
  std::vector<Value> args;
  std::vector<const Expr *> argExprs;
  if (call.piped) {
    args.push_back(eval(*call.piped));
    argExprs.push_back(call.piped.get());
  }
  for (const Argument &arg : call.args) {
    if (!arg.name.empty())
      fail(arg.nameLoc, static_cast<uint32_t>(arg.name.size()),
           "'" + name + "' takes no named arguments");
    args.push_back(eval(*arg.value));
    argExprs.push_back(arg.value.get());
  }
  auto arity = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi)
      fail(call,
           "'" + name + "' takes " +
               (lo == hi ? std::to_string(lo)
                         : std::to_string(lo) + " to " + std::to_string(hi)) +
               " argument" + (hi == 1 ? "" : "s") + ", got " +
               std::to_string(args.size()));
  };

  if (name == "channels" || name == "height" || name == "width") {
    arity(1, 1);
    const Node &node = tensorNode(*argExprs[0], args[0]);
    size_t axis = name == "channels" ? 0 : name == "height" ? 1 : 2;
    if (axis >= node.shape.size())
      fail(*argExprs[0], "'" + name + "' needs an image tensor, got shape " +
                             formatShape(node.shape));
    return Value::ofInt(node.shape[axis]);
  }
  if (name == "len") {
    arity(1, 1);
    if (!args[0].isSequence())
      fail(*argExprs[0], std::string("'len' needs a list or tuple, got ") +
                             kindName(args[0].kind));
    return Value::ofInt(static_cast<int64_t>(args[0].items.size()));
  }
  if (name == "range") {
    arity(1, 3);
    int64_t start = 0, stop, stride = 1;
    if (args.size() == 1) {
      stop = expectInt(*argExprs[0], args[0], "range bound");
    } else {
      start = expectInt(*argExprs[0], args[0], "range bound");
      stop = expectInt(*argExprs[1], args[1], "range bound");
      if (args.size() == 3)
        stride = expectInt(*argExprs[2], args[2], "range step");
    }
    if (stride == 0)
      fail(*argExprs[2], "range step must not be zero");
    long double count = stride > 0 ? ((long double)stop - start) / stride
                                   : ((long double)start - stop) / -stride;
    if (count > kMaxListLength)
      fail(call, "range is too long (more than " +
                     std::to_string(kMaxListLength) + " elements)");
    std::vector<Value> items;
    for (int64_t i = start; stride > 0 ? i < stop : i > stop; i += stride)
      items.push_back(Value::ofInt(i));
    return Value::ofSequence(std::move(items), Value::Kind::List);
  }
  if (name == "enumerate") {
    arity(1, 2);
    if (!args[0].isSequence())
      fail(*argExprs[0],
           std::string("'enumerate' needs a list or tuple, got ") +
               kindName(args[0].kind));
    int64_t start =
        args.size() == 2 ? expectInt(*argExprs[1], args[1], "start") : 0;
    std::vector<Value> items;
    for (const Value &item : args[0].items)
      items.push_back(
          Value::ofSequence({Value::ofInt(start++), item}, Value::Kind::Tuple));
    return Value::ofSequence(std::move(items), Value::Kind::List);
  }
  // min / max over numbers.
  if (args.size() == 1 && args[0].isSequence()) {
    args = args[0].items;
    if (args.empty())
      fail(call, "'" + name + "' of an empty list");
    argExprs.assign(args.size(), argExprs[0]);
  }
  if (args.empty())
    fail(call, "'" + name + "' needs at least one argument");
  Value best = args[0];
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].isNumber())
      fail(*argExprs[i],
           "'" + name + "' needs numbers, got " + kindName(args[i].kind));
    bool better = name == "min" ? args[i].asDouble() < best.asDouble()
                                : args[i].asDouble() > best.asDouble();
    if (better)
      best = args[i];
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

Value Elaborator::callBlock(const BlockStmt &block, const CallExpr &call) {
  for (const auto &f : frames_)
    if (f->block == &block)
      fail(call, "block '" + block.name +
                     "' calls itself; recursive blocks are not allowed");
  if (static_cast<int>(frames_.size()) > kMaxCallDepth)
    fail(call,
         "blocks nested more than " + std::to_string(kMaxCallDepth) + " deep");

  auto signature = [&] {
    std::string text = block.name + "(";
    for (size_t i = 0; i < block.params.size(); ++i)
      text += (i ? ", " : "") + block.params[i].name +
              (block.params[i].defaultValue ? " = …" : "");
    return text + ")";
  };

  // Bind arguments in the caller's frame.
  std::map<std::string, Value> bound;
  size_t positional = 0;
  auto bindPositional = [&](Value value, const Expr &at) {
    if (positional >= block.params.size())
      fail(at, "too many arguments for block " + signature());
    bound[block.params[positional++].name] = std::move(value);
  };
  if (call.piped)
    bindPositional(eval(*call.piped), *call.piped);
  for (const Argument &arg : call.args) {
    if (arg.name.empty()) {
      bindPositional(eval(*arg.value), *arg.value);
      continue;
    }
    auto param =
        std::find_if(block.params.begin(), block.params.end(),
                     [&](const Param &p) { return p.name == arg.name; });
    if (param == block.params.end()) {
      std::vector<std::string> names;
      for (const Param &p : block.params)
        names.push_back(p.name);
      fail(arg.nameLoc, static_cast<uint32_t>(arg.name.size()),
           "block '" + block.name + "' has no parameter '" + arg.name + "'" +
               suggest(arg.name, names));
    }
    if (bound.count(arg.name))
      fail(arg.nameLoc, static_cast<uint32_t>(arg.name.size()),
           "parameter '" + arg.name + "' given twice");
    bound[arg.name] = eval(*arg.value);
  }

  for (const Param &param : block.params) {
    if (bound.count(param.name) || param.defaultValue)
      continue;
    report(call.loc, call.length,
           "missing argument '" + param.name + "' for block " + signature());
    diags_.note(block.nameLoc, "block '" + block.name + "' is defined here",
                block.nameLength);
    throw Abort();
  }

  std::string local = localName(block.name, call);
  auto callee = std::make_unique<Frame>();
  callee->block = &block;
  callee->callLoc = call.loc;
  callee->callLength = call.length;
  callee->names.prefix = frame().names.prefix + local + ".";
  frames_.push_back(std::move(callee));
  struct Pop {
    std::vector<std::unique_ptr<Frame>> &frames;
    ~Pop() { frames.pop_back(); }
  } pop{frames_};

  // Defaults are evaluated in the block, after the parameters before them.
  for (const Param &param : block.params) {
    auto it = bound.find(param.name);
    if (it != bound.end())
      frame().vars[param.name] = it->second;
    else
      frame().vars[param.name] = eval(*param.defaultValue);
  }

  execBody(block.body);
  if (!frame().returned) {
    report(call.loc, call.length,
           "block '" + block.name + "' ended without 'return'");
    diags_.note(block.nameLoc, "block '" + block.name + "' is defined here",
                block.nameLength);
    throw Abort();
  }
  return frame().result;
}

} // namespace netc::dsl
