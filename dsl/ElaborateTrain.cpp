//===- ElaborateTrain.cpp - The `train { … }` section ---------------------===//

#include "Elaborator.h"

#include "runtime/Names.h"
#include "runtime/TrainSettings.h"

#include <algorithm>
#include <climits>
#include <map>
#include <type_traits>
#include <variant>

namespace netc::dsl {

std::map<std::string, Value>
Elaborator::bindSettings(const CallExpr &call,
                         const std::vector<AttrSpec> &specs,
                         bool allowPositional) {
  if (call.label)
    fail(call.label->loc, call.label->length, "a label is not allowed here");
  if (call.piped)
    fail(*call.piped, "'->' is not allowed here");
  std::map<std::string, Value> values;
  size_t position = 0;
  for (const Argument &arg : call.args) {
    const AttrSpec *spec = nullptr;
    if (arg.name.empty()) {
      if (!allowPositional || position >= specs.size())
        fail(*arg.value, "'" + call.callee + "' takes named arguments only" +
                             std::string(allowPositional ? " here" : ""));
      spec = &specs[position++];
    } else {
      for (const AttrSpec &candidate : specs)
        if (arg.name == candidate.name)
          spec = &candidate;
      if (!spec) {
        std::vector<std::string> names;
        std::string known;
        for (const AttrSpec &s : specs) {
          names.push_back(s.name);
          known += (known.empty() ? "" : ", ") + std::string(s.name);
        }
        std::string hint = suggest(arg.name, names);
        fail(arg.nameLoc, static_cast<uint32_t>(arg.name.size()),
             "unknown argument '" + arg.name + "' for '" + call.callee + "'" +
                 (hint.empty() ? (known.empty() ? " (it takes none)"
                                                : " (arguments: " + known + ")")
                               : hint));
      }
    }
    if (values.count(spec->name))
      fail(*arg.value,
           "argument '" + std::string(spec->name) + "' given twice");
    values[spec->name] = convertAttr(*spec, eval(*arg.value), *arg.value,
                                     "'" + call.callee + "'");
  }
  for (const AttrSpec &spec : specs) {
    if (values.count(spec.name))
      continue;
    if (spec.required)
      fail(call, "'" + call.callee + "' needs argument '" + spec.name + "'");
    values[spec.name] = spec.defaultValue;
  }
  return values;
}

void Elaborator::evalLoss(const Expr &expr, double weight,
                          TrainConfig &config) {
  if (expr.kind == Expr::Kind::Binary) {
    const auto &binary = static_cast<const BinaryExpr &>(expr);
    if (binary.op == BinaryOp::Add) {
      evalLoss(*binary.lhs, weight, config);
      evalLoss(*binary.rhs, weight, config);
      return;
    }
    if (binary.op == BinaryOp::Mul) {
      // One side is the weight, the other a loss.
      bool lhsIsLoss = binary.lhs->kind == Expr::Kind::Call ||
                       binary.lhs->kind == Expr::Kind::Binary;
      const Expr &lossSide = lhsIsLoss ? *binary.lhs : *binary.rhs;
      const Expr &weightSide = lhsIsLoss ? *binary.rhs : *binary.lhs;
      Value w = eval(weightSide);
      if (!w.isNumber())
        fail(weightSide, std::string("loss weight must be a number, got ") +
                             kindName(w.kind));
      evalLoss(lossSide, weight * w.asDouble(), config);
      return;
    }
  }
  if (expr.kind != Expr::Kind::Call)
    fail(expr, "expected a loss such as 'cross_entropy(logits)', a weighted "
               "loss '0.3 * cross_entropy(aux)', or a sum of losses");
  const auto &call = static_cast<const CallExpr &>(expr);
  if (call.callee != "cross_entropy" && call.callee != "mse")
    fail(call, "unknown loss '" + call.callee +
                   "'; known losses: cross_entropy, mse");
  if (call.args.size() != 1 || !call.args[0].name.empty() || call.piped)
    fail(call, "'" + call.callee + "' takes one model output, as in " +
                   call.callee + "(logits)");
  const Expr *arg = call.args[0].value.get();
  bool negate = false;
  if (arg->kind == Expr::Kind::Unary &&
      static_cast<const UnaryExpr *>(arg)->op == UnaryOp::Neg) {
    negate = true;
    arg = static_cast<const UnaryExpr *>(arg)->operand.get();
  }
  if (arg->kind != Expr::Kind::Name)
    fail(*arg, "expected the name of a model output");
  const std::string &name = static_cast<const NameExpr *>(arg)->name;
  auto output =
      std::find_if(graph_.outputs.begin(), graph_.outputs.end(),
                   [&](const GraphOutput &o) { return o.name == name; });
  if (output == graph_.outputs.end()) {
    std::vector<std::string> names;
    for (const GraphOutput &o : graph_.outputs)
      names.push_back(o.name);
    fail(*arg, "'" + name + "' is not a model output" + suggest(name, names));
  }
  // The losses score one vector per sample: [classes].
  const Shape &shape = graph_.nodes[output->node].shape;
  if (shape.size() != 1)
    fail(*arg, "'" + call.callee + "' needs an output of class scores " +
                   "[classes]; '" + name + "' is " + formatShape(shape) +
                   " (flatten it, or add a dense layer)");
  for (const TrainConfig::LossTerm &term : config.loss)
    if (term.output == name)
      fail(*arg, "output '" + name +
                     "' already has a loss term; each output takes one");
  config.loss.push_back({call.callee, name, weight, negate});
}

namespace {

using rt::TrainSettingField;

/// The fields a setting sets (`optimizer`: lr, momentum, …).
std::vector<const TrainSettingField *> fieldsOf(const std::string &setting) {
  std::vector<const TrainSettingField *> fields;
  for (const TrainSettingField &field : rt::trainSettingFields())
    if (setting == field.setting)
      fields.push_back(&field);
  return fields;
}

/// "a, b or c" of the space-separated `words`.
std::string alternatives(const std::string &words) {
  std::vector<std::string> list;
  size_t pos = 0;
  while (pos < words.size()) {
    size_t end = words.find(' ', pos);
    if (end == std::string::npos)
      end = words.size();
    list.push_back(words.substr(pos, end - pos));
    pos = end + 1;
  }
  std::string text;
  for (size_t i = 0; i < list.size(); ++i)
    text += (i == 0 ? "" : i + 1 == list.size() ? " or " : ", ") + list[i];
  return text;
}

bool isChoice(const char *choices, const std::string &name) {
  return (" " + std::string(choices) + " ").find(" " + name + " ") !=
         std::string::npos;
}

/// The language's type of a field.
AttrType attrType(const TrainSettingField::Member &member) {
  struct {
    AttrType operator()(double rt::TrainSettings::*) { return AttrType::Float; }
    AttrType operator()(int64_t rt::TrainSettings::*) { return AttrType::Int; }
    AttrType operator()(bool rt::TrainSettings::*) { return AttrType::Bool; }
    AttrType operator()(std::string rt::TrainSettings::*) {
      return AttrType::String;
    }
    AttrType operator()(std::vector<int64_t> rt::TrainSettings::*) {
      return AttrType::IntList;
    }
    AttrType operator()(std::vector<std::string> rt::TrainSettings::*) {
      return AttrType::String;
    }
  } visitor;
  return std::visit(visitor, member);
}

Value defaultOf(AttrType type, const rt::SettingSyntax &syntax) {
  switch (type) {
  case AttrType::Int:
    return Value::ofInt(int64_t(syntax.defaultValue));
  case AttrType::Bool:
    return Value::ofBool(syntax.defaultValue != 0);
  case AttrType::IntList:
    return Value::ofSequence({}, Value::Kind::List);
  default:
    return Value::ofFloat(syntax.defaultValue);
  }
}

/// Stores a bound argument (converted to the field's type) in its field.
void assign(rt::TrainSettings &settings, const TrainSettingField &field,
            const Value &value) {
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(settings.*member)>;
        if constexpr (std::is_same_v<T, double>)
          settings.*member = value.f;
        else if constexpr (std::is_same_v<T, int64_t>)
          settings.*member = value.i;
        else if constexpr (std::is_same_v<T, bool>)
          settings.*member = value.b;
        else if constexpr (std::is_same_v<T, std::string>)
          settings.*member = value.s;
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
          for (const Value &item : value.items)
            (settings.*member).push_back(item.i);
        else
          for (const Value &item : value.items)
            (settings.*member).push_back(item.s);
      },
      field.member);
}

} // namespace

const CallExpr &Elaborator::settingCall(const Expr &value, const char *what,
                                        std::unique_ptr<CallExpr> &bare) {
  if (value.kind == Expr::Kind::Name) {
    // `schedule = constant`, `hflip`: a call without arguments.
    bare = std::make_unique<CallExpr>(
        value.loc, value.length, static_cast<const NameExpr &>(value).name);
    return *bare;
  }
  if (value.kind != Expr::Kind::Call)
    fail(value, std::string("expected ") + what);
  return static_cast<const CallExpr &>(value);
}

void Elaborator::bindCall(const std::string &setting, const CallExpr &call,
                          bool allowPositional) {
  // The arguments this call takes, from the fields it sets.
  std::vector<AttrSpec> specs;
  std::vector<const TrainSettingField *> targets;
  for (const TrainSettingField *field : fieldsOf(setting))
    for (const rt::SettingSyntax &syntax : field->syntax)
      if (syntax.call && call.callee == syntax.call && syntax.arg) {
        AttrType type = attrType(field->member);
        specs.push_back({syntax.arg, type, syntax.required,
                         syntax.required ? Value() : defaultOf(type, syntax),
                         field->doc});
        targets.push_back(field);
      }
  std::map<std::string, Value> args =
      bindSettings(call, specs, allowPositional);
  for (size_t i = 0; i < specs.size(); ++i)
    assign(graph_.train, *targets[i], args[specs[i].name]);
}

const CallExpr &Elaborator::bindChoice(const std::string &setting,
                                       const Expr &value, const char *what,
                                       std::unique_ptr<CallExpr> &bare) {
  const CallExpr &call = settingCall(value, what, bare);
  // The field named by the call (`optimizer`), then its arguments.
  const TrainSettingField &choice = *fieldsOf(setting)[0];
  if (!isChoice(choice.choices, call.callee))
    fail(call, "unknown " + setting + " '" + call.callee + "'; use " +
                   alternatives(choice.choices));
  assign(graph_.train, choice, Value::ofString(call.callee));
  bindCall(setting, call, false);
  return call;
}

void Elaborator::elaborateOptimizer(const Expr &value) {
  TrainConfig &config = graph_.train;
  std::unique_ptr<CallExpr> bare;
  const CallExpr &call =
      bindChoice("optimizer", value,
                 "an optimizer: sgd(…), adam(…), adamw(…) or rmsprop(…)", bare);
  if (config.nesterov && config.momentum <= 0)
    fail(call, "Nesterov momentum needs momentum > 0");
  if (!(config.beta1 >= 0 && config.beta1 < 1 && config.beta2 >= 0 &&
        config.beta2 < 1))
    fail(call, "beta1 and beta2 must be in [0, 1)");
  if (!(config.rmsAlpha >= 0 && config.rmsAlpha < 1))
    fail(call, "alpha must be in [0, 1)");
  if (!(config.lr > 0))
    fail(call, "learning rate must be positive");
  if (!(config.eps > 0))
    fail(call, "eps must be positive");
  if (config.momentum < 0 || config.momentum >= 1)
    fail(call, "momentum must be in [0, 1)");
  if (config.weightDecay < 0)
    fail(call, "weight decay must not be negative");
}

void Elaborator::elaborateSchedule(const Expr &value) {
  TrainConfig &config = graph_.train;
  std::unique_ptr<CallExpr> bare;
  const CallExpr &call = bindChoice(
      "schedule", value,
      "a schedule: constant, step(…), plateau(…) or cosine(…)", bare);
  if (call.callee == "step") {
    if (config.milestones.empty() == (config.stepEvery <= 0))
      fail(call, "'step' needs either at=[epochs…] or every=N");
    if (!std::is_sorted(config.milestones.begin(), config.milestones.end()))
      fail(call, "step milestones must be in increasing order");
    if (!config.milestones.empty() && config.milestones[0] < 0)
      fail(call, "step milestones are epochs, not negative");
  } else if (call.callee == "plateau") {
    if (!(config.gamma > 0 && config.gamma < 1))
      fail(call, "plateau factor must be in (0, 1)");
    if (config.patience < 0)
      fail(call, "patience must not be negative");
  }
}

void Elaborator::elaborateAugment(const Expr &value) {
  TrainConfig &config = graph_.train;
  if (value.kind != Expr::Kind::List)
    fail(value, "expected a list such as [random_crop(32, pad=4), hflip]");
  const Shape &in = graph_.nodes[graph_.inputs[0]].shape;
  for (const ExprPtr &item : static_cast<const ListExpr &>(value).elements) {
    std::unique_ptr<CallExpr> bare;
    const CallExpr &call = settingCall(
        *item, "an augmentation: random_crop(…), hflip or normalize(…)", bare);
    TrainConfig::Augment augment;
    augment.kind = call.callee;
    if (call.callee == "random_crop") {
      bindCall("augment", call, true);
      augment.size = config.cropSize;
      augment.pad = config.cropPad;
      if (augment.size <= 0 || augment.pad < 0)
        fail(call, "crop size must be positive and padding not negative");
      if (in.size() != 3 || in[1] != augment.size || in[2] != augment.size)
        fail(call, "crop size " + std::to_string(augment.size) +
                       " does not match the input shape " + formatShape(in));
    } else if (call.callee == "hflip") {
      bindCall("augment", call, false);
      config.hflip = true;
    } else if (call.callee == "normalize") {
      // Not a training setting: programs normalize images in inference too.
      auto args = bindSettings(call,
                               {{"mean", AttrType::FloatList, true, {}, ""},
                                {"std", AttrType::FloatList, true, {}, ""}},
                               false);
      for (const Value &v : args["mean"].items)
        augment.mean.push_back(v.f);
      for (const Value &v : args["std"].items) {
        if (!(v.f > 0))
          fail(call, "standard deviations must be positive");
        augment.std.push_back(v.f);
      }
      if (augment.mean.size() != augment.std.size() ||
          (int64_t)augment.mean.size() != in[0])
        fail(call, "normalize needs one mean and one std per input channel (" +
                       std::to_string(in[0]) + ")");
    } else {
      fail(call, "unknown augmentation '" + call.callee +
                     "'; use random_crop, hflip or normalize");
    }
    config.augment.push_back(std::move(augment));
  }
}

void Elaborator::elaborateFreeze(const Expr &value) {
  if (value.kind != Expr::Kind::List)
    fail(value, "expected a list of layer names such as [\"conv1\"]");
  for (const ExprPtr &item : static_cast<const ListExpr &>(value).elements) {
    Value v = eval(*item);
    if (v.kind != Value::Kind::String)
      fail(*item, "expected a layer name in quotes");
    bool matches = false;
    for (const Node &node : graph_.nodes)
      for (const ParamTensor &param : node.params)
        matches |= rt::underPrefix(param.name, v.s);
    if (!matches)
      fail(*item,
           "no parameter of the model is named '" + v.s + "' or starts with '" +
               (!v.s.empty() && v.s.back() == '.' ? v.s : v.s + ".") + "'");
    graph_.train.freeze.push_back(v.s);
  }
}

void Elaborator::elaborateCount(const TrainSettingField &field,
                                const Expr &value) {
  // `batch = 64` and the like: an integer, within these bounds.
  static const struct {
    const char *setting, *what;
    int64_t minimum, maximum;
  } counts[] = {{"warmup", "warm-up epochs", 0, INT32_MAX},
                {"batch", "batch size", 1, int64_t(1) << 16},
                {"epochs", "number of epochs", 1, INT32_MAX},
                {"seed", "seed", INT64_MIN, INT64_MAX}};
  const auto *count =
      std::find_if(std::begin(counts), std::end(counts), [&](const auto &c) {
        return field.setting == std::string(c.setting);
      });
  const char *what = count != std::end(counts) ? count->what : field.doc;
  int64_t minimum = count != std::end(counts) ? count->minimum : INT64_MIN;
  int64_t maximum = count != std::end(counts) ? count->maximum : INT64_MAX;
  int64_t n = expectInt(value, eval(value), what);
  if (n < minimum)
    fail(value, std::string(what) +
                    (minimum > 0 ? " must be positive, got "
                                 : " must not be negative, got ") +
                    std::to_string(n));
  if (n > maximum)
    fail(value, std::string(what) + " " + std::to_string(n) +
                    " is too large (at most " + std::to_string(maximum) + ")");
  assign(graph_.train, field, Value::ofInt(n));
}

void Elaborator::elaborateTrain(const TrainDecl &train) {
  TrainConfig &config = graph_.train;
  config.present = true;
  // The settings: the loss, then those of the fields, in the table's order.
  std::vector<std::string> keys = {"loss"};
  for (const TrainSettingField &field : rt::trainSettingFields())
    if (std::find(keys.begin(), keys.end(), field.setting) == keys.end())
      keys.push_back(field.setting);
  std::map<std::string, Loc> seen;
  for (const auto &setting : train.settings) {
    try {
      const std::string &key = setting->name;
      const Expr &value = *setting->value;
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string known;
        for (const std::string &k : keys)
          known += (known.empty() ? "" : ", ") + k;
        std::string hint = suggest(key, keys);
        fail(setting->loc, setting->nameLength,
             "unknown training setting '" + key + "'" +
                 (hint.empty() ? " (settings: " + known + ")" : hint));
      }
      auto [it, inserted] = seen.emplace(key, setting->loc);
      if (!inserted) {
        report(setting->loc, setting->nameLength,
               "training setting '" + key + "' given twice");
        diags_.note(it->second, "first given here", setting->nameLength);
        continue;
      }
      if (key == "loss")
        evalLoss(value, 1.0, config);
      else if (key == "optimizer")
        elaborateOptimizer(value);
      else if (key == "schedule")
        elaborateSchedule(value);
      else if (key == "augment")
        elaborateAugment(value);
      else if (key == "freeze")
        elaborateFreeze(value);
      else
        elaborateCount(*fieldsOf(key)[0], value);
    } catch (Abort &) {
    }
  }
  if (config.loss.empty() && !graph_.outputs.empty() && !diags_.hadError()) {
    // The default: cross-entropy on the first output, when it is scores.
    const GraphOutput &first = graph_.outputs[0];
    const Shape &shape = graph_.nodes[first.node].shape;
    if (shape.size() == 1)
      config.loss.push_back({"cross_entropy", first.name, 1.0, false});
    else
      report(train.loc, 5,
             "the train section needs a loss: the first output '" + first.name +
                 "' is " + formatShape(shape) +
                 ", not class scores for the default cross_entropy");
  }

  // Outputs the loss weighs below 1 are auxiliary heads, as long as some
  // output is not.
  std::map<std::string, double> weight;
  for (const auto &term : config.loss)
    weight[term.output] = std::max(weight[term.output], term.weight);
  bool main = false;
  for (const GraphOutput &output : graph_.outputs)
    main |= !weight.count(output.name) || weight[output.name] >= 1.0;
  if (main)
    for (GraphOutput &output : graph_.outputs)
      output.auxiliary = weight.count(output.name) && weight[output.name] < 1.0;
}

} // namespace netc::dsl
