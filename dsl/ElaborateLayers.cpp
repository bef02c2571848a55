//===- ElaborateLayers.cpp - Layer calls, attributes and names ------------===//

#include "Elaborator.h"

#include <algorithm>
#include <cctype>

namespace netc::dsl {

/// One layer call being built: the bound attributes and the inputs, seen by
/// the layer's builder through the LayerContext interface.
class LayerCall : public LayerContext {
public:
  LayerCall(Elaborator &elab, const LayerSpec &spec, const CallExpr &call,
            std::string name)
      : elab_(elab), spec_(spec), call_(call), name_(std::move(name)) {}

  size_t numInputs() const override { return inputs_.size(); }
  int input(size_t i) const override { return inputs_[i]; }
  const Shape &inputShape(size_t i) const override {
    return elab_.graph_.nodes[inputs_[i]].shape;
  }
  bool given(const char *attr) const override { return args_.count(attr) != 0; }
  const Value &attr(const char *attr) const override {
    auto it = args_.find(attr);
    if (it != args_.end())
      return it->second.value;
    for (const AttrSpec &spec : spec_.attrs)
      if (std::string_view(spec.name) == attr)
        return spec.defaultValue;
    static const Value none;
    return none;
  }
  void error(const char *attr, const std::string &message) override {
    if (attr) {
      auto it = args_.find(attr);
      if (it != args_.end()) {
        elab_.report(it->second.at->loc, it->second.at->length, message);
        return;
      }
    }
    elab_.report(call_.loc, call_.length, message);
  }
  int addNode(Node node, const std::string &suffix) override {
    node.name = name_ + suffix;
    node.loc = call_.loc;
    node.locLength = call_.length;
    return elab_.addNode(std::move(node));
  }

  struct Arg {
    Value value;
    const Expr *at;
  };
  std::vector<int> inputs_;
  std::map<std::string, Arg> args_;

private:
  Elaborator &elab_;
  const LayerSpec &spec_;
  const CallExpr &call_;
  std::string name_;
};

Value Elaborator::convertAttr(const AttrSpec &spec, const Value &value,
                              const Expr &at, const std::string &owner) {
  using K = Value::Kind;
  auto bad = [&](const std::string &expected) -> Value {
    fail(at, "attribute '" + std::string(spec.name) + "' of " + owner +
                 " expects " + expected + ", got " + kindName(value.kind) +
                 (value.kind == K::Tensor ? "" : " " + showValue(value)));
  };
  auto intPair = [&](const Value &v) -> std::optional<Value> {
    if (v.kind == K::Int)
      return Value::ofSequence({v, v}, K::Tuple);
    if (v.isSequence() && v.items.size() == 2 && v.items[0].kind == K::Int &&
        v.items[1].kind == K::Int)
      return Value::ofSequence(v.items, K::Tuple);
    return std::nullopt;
  };
  switch (spec.type) {
  case AttrType::Int:
    if (value.kind != K::Int)
      return bad("an integer");
    return value;
  case AttrType::Bool:
    if (value.kind != K::Bool)
      return bad("true or false");
    return value;
  case AttrType::Float:
    if (!value.isNumber())
      return bad("a number");
    return Value::ofFloat(value.asDouble());
  case AttrType::String:
    if (value.kind != K::String)
      return bad("a string");
    return value;
  case AttrType::Pair:
    if (auto pair = intPair(value))
      return *pair;
    return bad("an integer or a pair (h, w)");
  case AttrType::Padding: {
    if (value.kind == K::Symbol)
      return value;
    if (auto pair = intPair(value))
      return Value::ofSequence(
          {pair->items[0], pair->items[0], pair->items[1], pair->items[1]},
          K::Tuple);
    if (value.isSequence() && value.items.size() == 4 &&
        std::all_of(value.items.begin(), value.items.end(),
                    [](const Value &v) { return v.kind == K::Int; }))
      return Value::ofSequence(value.items, K::Tuple);
    return bad("valid, same, full, n, (h, w) or (top, bottom, left, right)");
  }
  case AttrType::IntList:
  case AttrType::FloatList: {
    bool ints = spec.type == AttrType::IntList;
    if (!value.isSequence())
      return bad(ints ? "a list of integers" : "a list of numbers");
    std::vector<Value> items;
    for (const Value &item : value.items) {
      if (ints ? item.kind != K::Int : !item.isNumber())
        return bad(ints ? "a list of integers" : "a list of numbers");
      items.push_back(ints ? item : Value::ofFloat(item.asDouble()));
    }
    return Value::ofSequence(std::move(items), K::List);
  }
  }
  return bad("a value");
}

Value Elaborator::callLayer(const LayerSpec &spec, const CallExpr &call,
                            std::vector<int> inputs) {

  // Tensor inputs: the piped value, then leading positional tensors (or a
  // list of tensors, as in concat([a, b])).
  if (call.piped) {
    Value value = eval(*call.piped);
    tensorNode(*call.piped, value);
    inputs.push_back(value.node);
  }
  size_t argIndex = 0;
  std::vector<Value> argValues;
  for (const Argument &arg : call.args)
    argValues.push_back(eval(*arg.value));
  for (; argIndex < call.args.size(); ++argIndex) {
    const Argument &arg = call.args[argIndex];
    const Value &value = argValues[argIndex];
    if (!arg.name.empty())
      break;
    if (value.kind == Value::Kind::Tensor) {
      inputs.push_back(value.node);
    } else if (value.kind == Value::Kind::List && !value.items.empty() &&
               std::all_of(value.items.begin(), value.items.end(),
                           [](const Value &v) {
                             return v.kind == Value::Kind::Tensor;
                           })) {
      for (const Value &item : value.items)
        inputs.push_back(item.node);
    } else {
      break;
    }
  }
  // Named after its inputs, so a pipeline numbers its layers in order.
  std::string local = localName(spec.name, call);
  LayerCall layer(*this, spec, call, frame().names.prefix + local);
  layer.inputs_ = inputs;

  int maxInputs = spec.maxInputs < 0 ? INT32_MAX : spec.maxInputs;
  if (static_cast<int>(inputs.size()) < spec.minInputs ||
      static_cast<int>(inputs.size()) > maxInputs) {
    std::string expected =
        spec.maxInputs < 0
            ? "at least " + std::to_string(spec.minInputs) + " tensor inputs"
        : spec.minInputs == 1
            ? std::string("one tensor input")
            : std::to_string(spec.minInputs) + " tensor inputs";
    std::string hint = inputs.empty() && spec.minInputs == 1
                           ? "; write 'x -> " + std::string(spec.name) +
                                 (call.hasParens ? "(…)" : "") + "'"
                           : "";
    fail(call, "'" + std::string(spec.name) + "' takes " + expected + ", got " +
                   std::to_string(inputs.size()) + hint);
  }

  // Attributes: remaining positional arguments in declaration order, then
  // named ones.
  size_t position = 0;
  for (; argIndex < call.args.size(); ++argIndex) {
    const Argument &arg = call.args[argIndex];
    const AttrSpec *attr = nullptr;
    if (arg.name.empty()) {
      if (argValues[argIndex].kind == Value::Kind::Tensor)
        fail(*arg.value, "tensor inputs of '" + std::string(spec.name) +
                             "' must come before its attributes");
      if (position >= spec.attrs.size())
        fail(*arg.value, "too many arguments for '" + std::string(spec.name) +
                             "'" +
                             (spec.attrs.empty()
                                  ? ", which takes no attributes"
                                  : " (attributes: " +
                                        [&] {
                                          std::string list;
                                          for (const AttrSpec &a : spec.attrs)
                                            list += (list.empty() ? "" : ", ") +
                                                    std::string(a.name);
                                          return list;
                                        }() +
                                        ")"));
      attr = &spec.attrs[position++];
    } else {
      for (const AttrSpec &candidate : spec.attrs)
        if (arg.name == candidate.name)
          attr = &candidate;
      if (!attr) {
        std::vector<std::string> names;
        for (const AttrSpec &a : spec.attrs)
          names.push_back(a.name);
        std::string known;
        for (const std::string &n : names)
          known += (known.empty() ? "" : ", ") + n;
        fail(arg.nameLoc, static_cast<uint32_t>(arg.name.size()),
             "unknown attribute '" + arg.name + "' for '" +
                 std::string(spec.name) + "'" +
                 (names.empty() ? " (it takes none)"
                  : suggest(arg.name, names).empty()
                      ? " (attributes: " + known + ")"
                      : suggest(arg.name, names)));
      }
    }
    if (layer.args_.count(attr->name))
      fail(arg.name.empty() ? arg.value->loc : arg.nameLoc,
           arg.name.empty() ? arg.value->length
                            : static_cast<uint32_t>(arg.name.size()),
           "attribute '" + std::string(attr->name) + "' given twice");
    layer.args_[attr->name] = {
        convertAttr(*attr, argValues[argIndex], *arg.value, spec.name),
        arg.value.get()};
  }
  for (const AttrSpec &attr : spec.attrs)
    if (attr.required && !layer.args_.count(attr.name))
      fail(call, "'" + std::string(spec.name) + "' needs attribute '" +
                     attr.name + "' (" + attr.doc + ")");

  int node = buildLayer(spec, layer);
  if (node < 0)
    throw Abort();
  return Value::ofTensor(node);
}

int Elaborator::addNode(Node node) {
  if (static_cast<int64_t>(graph_.nodes.size()) >= kMaxNodes)
    fail(node.loc, node.locLength,
         "the model has more than " + std::to_string(kMaxNodes) + " layers");
  node.id = static_cast<int>(graph_.nodes.size());
  if (!nodeNames_.insert(node.name).second) {
    // A label with dots can spell the path of a layer in a block ("a.b"
    // and block `a`'s layer `b`): their parameters would share names.
    report(node.loc, node.locLength,
           "layer name '" + node.name + "' is already the full name of " +
               "another layer; their parameters would have the same names");
    for (const Node &other : graph_.nodes)
      if (other.name == node.name) {
        diags_.note(other.loc, "the other layer", other.locLength);
        break;
      }
    throw Abort();
  }
  for (ParamTensor &param : node.params)
    param.name = node.name + "." + param.name;
  graph_.nodes.push_back(std::move(node));
  return graph_.nodes.back().id;
}

static bool isNameComponent(const std::string &text) {
  if (text.empty())
    return false;
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

std::string Elaborator::interpolate(const Label &label) {
  if (!label.isString)
    return label.text;
  // The parser checked the braces and parsed each `{expr}` piece; a label
  // whose pieces did not parse was reported then.
  std::string_view text = label.loc.file->text();
  uint32_t at = label.loc.offset + 1;
  uint32_t end = label.loc.offset + label.length - 1;
  std::string result;
  for (const LabelPiece &piece : label.pieces) {
    result += text.substr(at, piece.open - at);
    Value value = eval(*piece.expr);
    if (value.kind == Value::Kind::Int)
      result += std::to_string(value.i);
    else if (value.kind == Value::Kind::String)
      result += value.s;
    else
      fail(*piece.expr, std::string("a label can only interpolate integers "
                                    "and strings, got ") +
                            kindName(value.kind));
    at = piece.close + 1;
  }
  if (text.substr(at, end - at).find_first_of("{}") != std::string_view::npos)
    throw Abort(); // a piece the parser reported
  result += text.substr(at, end - at);
  return result;
}

std::string Elaborator::localName(const std::string &kind,
                                  const CallExpr &call) {
  NameScope &scope = frame().names;
  if (call.label) {
    std::string name = interpolate(*call.label);
    // Each dotted component must be a plain name.
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      std::string part = name.substr(start, dot - start);
      if (!isNameComponent(part))
        fail(call.label->loc, call.label->length,
             "invalid layer name '" + name +
                 "': use letters, digits, '_' and '.' between parts");
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
    auto [it, inserted] = scope.used.emplace(name, call.label->loc);
    if (!inserted) {
      report(call.label->loc, call.label->length,
             "layer name '" + scope.prefix + name + "' is already used");
      diags_.note(it->second, "first used here", call.label->length);
      throw Abort();
    }
    return name;
  }
  int &counter = scope.counters[kind];
  std::string name;
  do {
    name = kind + std::to_string(++counter);
  } while (scope.used.count(name));
  scope.used.emplace(name, call.loc);
  return name;
}

} // namespace netc::dsl
