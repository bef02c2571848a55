//===- Elaborator.h - From syntax tree to shaped graph ----------*- C++ -*-===//
//
// Runs the model body as a small program: evaluates integer arithmetic,
// unrolls loops, decides conditions, instantiates blocks, and builds one graph
// node per layer with its output shape. All semantic checks of the language
// happen here, reported at the offending source location.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "AST.h"
#include "Diagnostics.h"
#include "Graph.h"
#include "Layers.h"
#include "Value.h"

#include "runtime/TrainSettings.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netc::dsl {

class Elaborator {
public:
  Elaborator(const FileAST &file, DiagnosticEngine &diags);

  /// Elaborates the model; `overrides` replace model parameter defaults
  /// (values are parsed as numbers or booleans). Returns nothing on error.
  std::optional<Graph> run(const std::map<std::string, std::string> &overrides);

  /// Limits that keep hostile files from exhausting time or memory.
  static constexpr int64_t kMaxNodes = 200000;
  static constexpr int64_t kMaxSteps = 5000000;
  static constexpr int64_t kMaxListLength = 1000000;
  static constexpr int64_t kMaxStringLength = 65536;
  /// What all string and list concatenations may build together.
  static constexpr int64_t kMaxValueBytes = int64_t(16) << 20;
  static constexpr int kMaxCallDepth = 100;

private:
  friend class LayerCall;

  struct NameScope {
    std::string prefix; // "" or "layer1.0."
    std::map<std::string, int> counters;
    std::map<std::string, Loc> used;
  };

  struct Frame {
    const BlockStmt *block = nullptr; // null for the model body
    Loc callLoc;
    uint32_t callLength = 1;
    std::map<std::string, Value> vars;
    std::set<std::string> poisoned; // assigned by a statement that failed
    NameScope names;
    bool returned = false;
    Value result;
  };

  /// Unwinds out of a statement after its error was reported.
  struct Abort {};

  // Reporting.
  [[noreturn]] void fail(Loc loc, uint32_t length, const std::string &message);
  void report(Loc loc, uint32_t length, const std::string &message);
  [[noreturn]] void fail(const Expr &expr, const std::string &message) {
    fail(expr.loc, expr.length, message);
  }
  std::string suggest(const std::string &name,
                      const std::vector<std::string> &candidates) const;

  // Statements.
  void execBody(const StmtList &body);
  void execStmt(const Stmt &stmt);
  void execInput(const InputStmt &stmt);
  void execOutput(const OutputStmt &stmt);
  void execFor(const ForStmt &stmt);
  void execIf(const IfStmt &stmt);
  void bindLoopVars(const std::vector<LoopVar> &vars, const Value &item,
                    const Expr &iterable);
  void step(Loc loc);
  /// Counts `bytes` of strings and lists a concatenation builds.
  void chargeBytes(const Expr &expr, int64_t bytes);

  // Expressions.
  Value eval(const Expr &expr);
  Value evalName(const NameExpr &expr);
  Value evalUnary(const UnaryExpr &expr);
  Value evalBinary(const BinaryExpr &expr);
  Value evalIndex(const IndexExpr &expr);
  Value evalCall(const CallExpr &expr);
  Value evalBuiltin(const CallExpr &expr);
  Value callBlock(const BlockStmt &block, const CallExpr &call);
  Value callLayer(const LayerSpec &spec, const CallExpr &call,
                  std::vector<int> inputs);
  int64_t expectInt(const Expr &expr, const Value &value, const char *what);
  const Node &tensorNode(const Expr &expr, const Value &value);
  bool isCallable(const std::string &name) const;

  // Layer plumbing.
  std::string localName(const std::string &kind, const CallExpr &call);
  std::string interpolate(const Label &label);
  int addNode(Node node);

  // The train section (ElaborateTrain.cpp): each setting, and the call
  // arguments its fields take (runtime/TrainSettings.h).
  void elaborateTrain(const TrainDecl &train);
  void elaborateOptimizer(const Expr &value);
  void elaborateSchedule(const Expr &value);
  void elaborateAugment(const Expr &value);
  void elaborateFreeze(const Expr &value);
  void elaborateCount(const rt::TrainSettingField &field, const Expr &value);
  /// `value` as a call (a bare name is one without arguments).
  const CallExpr &settingCall(const Expr &value, const char *what,
                              std::unique_ptr<CallExpr> &bare);
  /// `optimizer = sgd(…)`: checks the call's name against the setting's
  /// choices, stores it, and binds its arguments.
  const CallExpr &bindChoice(const std::string &setting, const Expr &value,
                             const char *what, std::unique_ptr<CallExpr> &bare);
  /// Binds the call's arguments to the fields of `setting` that it sets.
  void bindCall(const std::string &setting, const CallExpr &call,
                bool allowPositional);
  void evalLoss(const Expr &expr, double weight, TrainConfig &config);
  std::map<std::string, Value> bindSettings(const CallExpr &call,
                                            const std::vector<AttrSpec> &specs,
                                            bool allowPositional);
  Value convertAttr(const AttrSpec &spec, const Value &value, const Expr &at,
                    const std::string &owner);

  Frame &frame() { return *frames_.back(); }

  const FileAST &file_;
  DiagnosticEngine &diags_;
  Graph graph_;
  std::map<std::string, const BlockStmt *> blocks_;
  std::map<std::string, Value> globals_; // model parameters and symbols
  std::vector<std::unique_ptr<Frame>> frames_;
  std::map<std::string, Loc> outputNames_;
  std::set<std::string> nodeNames_;
  int64_t steps_ = 0;
  int64_t valueBytes_ = 0; // built by concatenations so far
  bool stepsReported_ = false;
};

} // namespace netc::dsl
