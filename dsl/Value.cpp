//===- Value.cpp - Values computed during elaboration ---------------------===//

#include "Value.h"

#include <sstream>

namespace netc::dsl {

const char *kindName(Value::Kind kind) {
  switch (kind) {
  case Value::Kind::None:
    return "nothing";
  case Value::Kind::Int:
    return "integer";
  case Value::Kind::Float:
    return "number";
  case Value::Kind::Bool:
    return "boolean";
  case Value::Kind::String:
    return "string";
  case Value::Kind::Symbol:
    return "symbol";
  case Value::Kind::Tuple:
    return "tuple";
  case Value::Kind::List:
    return "list";
  case Value::Kind::Tensor:
    return "tensor";
  }
  return "value";
}

std::string showValue(const Value &value) {
  switch (value.kind) {
  case Value::Kind::None:
    return "nothing";
  case Value::Kind::Int:
    return std::to_string(value.i);
  case Value::Kind::Float: {
    std::ostringstream os;
    os << value.f;
    return os.str();
  }
  case Value::Kind::Bool:
    return value.b ? "true" : "false";
  case Value::Kind::String:
    return "\"" + value.s + "\"";
  case Value::Kind::Symbol:
    return value.s;
  case Value::Kind::Tuple:
  case Value::Kind::List: {
    bool tuple = value.kind == Value::Kind::Tuple;
    std::string text = tuple ? "(" : "[";
    for (size_t i = 0; i < value.items.size(); ++i) {
      if (i)
        text += ", ";
      if (i == 8 && value.items.size() > 10) {
        text += "…";
        break;
      }
      text += showValue(value.items[i]);
    }
    if (tuple && value.items.size() == 1)
      text += ",";
    return text + (tuple ? ")" : "]");
  }
  case Value::Kind::Tensor:
    return "tensor";
  }
  return "?";
}

} // namespace netc::dsl
