//===- ElaborateTrain.cpp - The `train { … }` section ---------------------===//

#include "Elaborator.h"

#include <algorithm>
#include <map>

namespace netc::dsl {

namespace {
Value f(double v) { return Value::ofFloat(v); }
Value i(int64_t v) { return Value::ofInt(v); }
Value b(bool v) { return Value::ofBool(v); }
} // namespace

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
  for (const TrainConfig::LossTerm &term : config.loss)
    if (term.output == name)
      fail(*arg, "output '" + name +
                     "' already has a loss term; each output takes one");
  config.loss.push_back({call.callee, name, weight, negate});
}

void Elaborator::elaborateTrain(const TrainDecl &train) {
  TrainConfig &config = graph_.train;
  config.present = true;
  std::map<std::string, Loc> seen;
  static const std::vector<std::string> keys = {
      "loss",   "optimizer", "schedule", "warmup", "batch",
      "epochs", "seed",      "augment",  "freeze"};

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

      std::unique_ptr<CallExpr> bare;
      auto asCall = [&](const char *what) -> const CallExpr & {
        if (value.kind == Expr::Kind::Name) {
          // `schedule = constant`: a call without arguments.
          bare = std::make_unique<CallExpr>(
              value.loc, value.length,
              static_cast<const NameExpr &>(value).name);
          return *bare;
        }
        if (value.kind != Expr::Kind::Call)
          fail(value, std::string("expected ") + what);
        return static_cast<const CallExpr &>(value);
      };
      auto positiveInt = [&](const char *what) {
        int64_t n = expectInt(value, eval(value), what);
        if (n <= 0)
          fail(value, std::string(what) + " must be positive, got " +
                          std::to_string(n));
        return n;
      };

      if (key == "loss") {
        evalLoss(value, 1.0, config);
      } else if (key == "optimizer") {
        const CallExpr &call =
            asCall("an optimizer: sgd(…), adam(…), adamw(…) or rmsprop(…)");
        config.optimizer = call.callee;
        if (call.callee == "sgd") {
          auto args =
              bindSettings(call,
                           {{"lr", AttrType::Float, true, {}, ""},
                            {"momentum", AttrType::Float, false, f(0), ""},
                            {"weight_decay", AttrType::Float, false, f(0), ""},
                            {"nesterov", AttrType::Bool, false, b(false), ""}},
                           false);
          config.lr = args["lr"].f;
          config.momentum = args["momentum"].f;
          config.weightDecay = args["weight_decay"].f;
          config.nesterov = args["nesterov"].b;
          if (config.nesterov && config.momentum <= 0)
            fail(call, "Nesterov momentum needs momentum > 0");
        } else if (call.callee == "adam" || call.callee == "adamw") {
          auto args =
              bindSettings(call,
                           {{"lr", AttrType::Float, false, f(1e-3), ""},
                            {"beta1", AttrType::Float, false, f(0.9), ""},
                            {"beta2", AttrType::Float, false, f(0.999), ""},
                            {"eps", AttrType::Float, false, f(1e-8), ""},
                            {"weight_decay", AttrType::Float, false,
                             f(call.callee == "adamw" ? 1e-2 : 0), ""}},
                           false);
          config.lr = args["lr"].f;
          config.beta1 = args["beta1"].f;
          config.beta2 = args["beta2"].f;
          config.eps = args["eps"].f;
          config.weightDecay = args["weight_decay"].f;
          if (!(config.beta1 >= 0 && config.beta1 < 1 && config.beta2 >= 0 &&
                config.beta2 < 1))
            fail(call, "beta1 and beta2 must be in [0, 1)");
        } else if (call.callee == "rmsprop") {
          auto args =
              bindSettings(call,
                           {{"lr", AttrType::Float, false, f(1e-2), ""},
                            {"alpha", AttrType::Float, false, f(0.99), ""},
                            {"eps", AttrType::Float, false, f(1e-8), ""},
                            {"momentum", AttrType::Float, false, f(0), ""},
                            {"weight_decay", AttrType::Float, false, f(0), ""}},
                           false);
          config.lr = args["lr"].f;
          config.rmsAlpha = args["alpha"].f;
          config.eps = args["eps"].f;
          config.momentum = args["momentum"].f;
          config.weightDecay = args["weight_decay"].f;
          if (!(config.rmsAlpha >= 0 && config.rmsAlpha < 1))
            fail(call, "alpha must be in [0, 1)");
        } else {
          fail(call, "unknown optimizer '" + call.callee +
                         "'; use sgd, adam, adamw or rmsprop");
        }
        if (!(config.lr > 0))
          fail(call, "learning rate must be positive");
        if (!(config.eps > 0))
          fail(call, "eps must be positive");
        if (config.momentum < 0 || config.momentum >= 1)
          fail(call, "momentum must be in [0, 1)");
        if (config.weightDecay < 0)
          fail(call, "weight decay must not be negative");
      } else if (key == "schedule") {
        const CallExpr &call =
            asCall("a schedule: constant, step(…), plateau(…) or cosine(…)");
        config.schedule = call.callee;
        if (call.callee == "constant") {
          bindSettings(call, {}, false);
        } else if (call.callee == "step") {
          auto args =
              bindSettings(call,
                           {{"at", AttrType::IntList, false,
                             Value::ofSequence({}, Value::Kind::List), ""},
                            {"every", AttrType::Int, false, i(0), ""},
                            {"gamma", AttrType::Float, false, f(0.1), ""}},
                           false);
          for (const Value &epoch : args["at"].items)
            config.milestones.push_back(epoch.i);
          config.stepEvery = args["every"].i;
          config.gamma = args["gamma"].f;
          if (config.milestones.empty() == (config.stepEvery <= 0))
            fail(call, "'step' needs either at=[epochs…] or every=N");
          if (!std::is_sorted(config.milestones.begin(),
                              config.milestones.end()))
            fail(call, "step milestones must be in increasing order");
        } else if (call.callee == "plateau") {
          auto args =
              bindSettings(call,
                           {{"factor", AttrType::Float, false, f(0.1), ""},
                            {"patience", AttrType::Int, false, i(10), ""},
                            {"min_lr", AttrType::Float, false, f(0), ""}},
                           false);
          config.gamma = args["factor"].f;
          config.patience = args["patience"].i;
          config.minLr = args["min_lr"].f;
          if (!(config.gamma > 0 && config.gamma < 1))
            fail(call, "plateau factor must be in (0, 1)");
          if (config.patience < 0)
            fail(call, "patience must not be negative");
        } else if (call.callee == "cosine") {
          auto args = bindSettings(
              call, {{"min_lr", AttrType::Float, false, f(0), ""}}, false);
          config.minLr = args["min_lr"].f;
        } else {
          fail(call, "unknown schedule '" + call.callee +
                         "'; use constant, step, plateau or cosine");
        }
      } else if (key == "warmup") {
        Value v = eval(value);
        config.warmup = expectInt(value, v, "warm-up epochs");
        if (config.warmup < 0)
          fail(value, "warm-up epochs must not be negative");
      } else if (key == "batch") {
        config.batch = positiveInt("batch size");
      } else if (key == "epochs") {
        config.epochs = positiveInt("number of epochs");
      } else if (key == "seed") {
        config.seed = expectInt(value, eval(value), "seed");
      } else if (key == "augment") {
        if (value.kind != Expr::Kind::List)
          fail(value, "expected a list such as [random_crop(32, pad=4), "
                      "hflip]");
        for (const ExprPtr &item :
             static_cast<const ListExpr &>(value).elements) {
          const CallExpr *call;
          if (item->kind == Expr::Kind::Name) {
            bare = std::make_unique<CallExpr>(
                item->loc, item->length,
                static_cast<const NameExpr &>(*item).name);
            call = bare.get();
          } else if (item->kind == Expr::Kind::Call) {
            call = static_cast<const CallExpr *>(item.get());
          } else {
            fail(*item, "expected an augmentation: random_crop(…), hflip or "
                        "normalize(…)");
          }
          TrainConfig::Augment augment;
          augment.kind = call->callee;
          if (call->callee == "random_crop") {
            auto args = bindSettings(*call,
                                     {{"size", AttrType::Int, true, {}, ""},
                                      {"pad", AttrType::Int, false, i(0), ""}},
                                     true);
            augment.size = args["size"].i;
            augment.pad = args["pad"].i;
            if (augment.size <= 0 || augment.pad < 0)
              fail(*call, "crop size must be positive and padding not "
                          "negative");
            const Shape &in = graph_.nodes[graph_.inputs[0]].shape;
            if (in.size() != 3 || in[1] != augment.size ||
                in[2] != augment.size)
              fail(*call, "crop size " + std::to_string(augment.size) +
                              " does not match the input shape " +
                              formatShape(in));
          } else if (call->callee == "hflip") {
            bindSettings(*call, {}, false);
          } else if (call->callee == "normalize") {
            auto args =
                bindSettings(*call,
                             {{"mean", AttrType::FloatList, true, {}, ""},
                              {"std", AttrType::FloatList, true, {}, ""}},
                             false);
            for (const Value &v : args["mean"].items)
              augment.mean.push_back(v.f);
            for (const Value &v : args["std"].items) {
              if (!(v.f > 0))
                fail(*call, "standard deviations must be positive");
              augment.std.push_back(v.f);
            }
            const Shape &in = graph_.nodes[graph_.inputs[0]].shape;
            if (augment.mean.size() != augment.std.size() ||
                (int64_t)augment.mean.size() != in[0])
              fail(*call, "normalize needs one mean and one std per input "
                          "channel (" +
                              std::to_string(in[0]) + ")");
          } else {
            fail(*call, "unknown augmentation '" + call->callee +
                            "'; use random_crop, hflip or normalize");
          }
          config.augment.push_back(std::move(augment));
        }
      } else if (key == "freeze") {
        if (value.kind != Expr::Kind::List)
          fail(value, "expected a list of layer names such as [\"conv1\"]");
        for (const ExprPtr &item :
             static_cast<const ListExpr &>(value).elements) {
          Value v = eval(*item);
          if (v.kind != Value::Kind::String)
            fail(*item, "expected a layer name in quotes");
          bool matches = false;
          for (const Node &node : graph_.nodes)
            for (const ParamTensor &param : node.params)
              if (param.name == v.s ||
                  param.name.compare(0, v.s.size() + 1, v.s + ".") == 0)
                matches = true;
          if (!matches)
            fail(*item, "no parameter of the model is named '" + v.s +
                            "' or starts with '" + v.s + ".'");
          config.freeze.push_back(v.s);
        }
      }
    } catch (Abort &) {
    }
  }
  if (config.loss.empty() && !graph_.outputs.empty())
    config.loss.push_back(
        {"cross_entropy", graph_.outputs[0].name, 1.0, false});

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
