//===- Value.h - Values computed during elaboration -------------*- C++ -*-===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netc::dsl {

/// A compile-time value: numbers, booleans, strings, symbols such as `same`,
/// tuples and lists of values, or a tensor (a node of the graph).
struct Value {
  enum class Kind {
    None,
    Int,
    Float,
    Bool,
    String,
    Symbol,
    Tuple,
    List,
    Tensor
  };
  Kind kind = Kind::None;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s; // String and Symbol
  std::vector<Value> items;
  int node = -1; // Tensor

  static Value none() { return {}; }
  static Value ofInt(int64_t v) {
    Value x;
    x.kind = Kind::Int;
    x.i = v;
    return x;
  }
  static Value ofFloat(double v) {
    Value x;
    x.kind = Kind::Float;
    x.f = v;
    return x;
  }
  static Value ofBool(bool v) {
    Value x;
    x.kind = Kind::Bool;
    x.b = v;
    return x;
  }
  static Value ofString(std::string v, Kind kind = Kind::String) {
    Value x;
    x.kind = kind;
    x.s = std::move(v);
    return x;
  }
  static Value ofSequence(std::vector<Value> items, Kind kind) {
    Value x;
    x.kind = kind;
    x.items = std::move(items);
    return x;
  }
  static Value ofTensor(int node) {
    Value x;
    x.kind = Kind::Tensor;
    x.node = node;
    return x;
  }

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const { return kind == Kind::Int ? double(i) : f; }
  bool isSequence() const { return kind == Kind::Tuple || kind == Kind::List; }
};

/// "integer", "tensor", … for messages.
const char *kindName(Value::Kind kind);
/// The value as source text, e.g. "(3, 3)" or "same"; tensors print as such.
std::string showValue(const Value &value);

} // namespace netc::dsl
