//===- Graph.cpp - The elaborated network ---------------------------------===//

#include "Graph.h"

namespace netc::dsl {

std::string formatShape(const Shape &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const char *opName(OpKind kind) {
  switch (kind) {
  case OpKind::Input:
    return "input";
  case OpKind::Conv:
    return "conv";
  case OpKind::Dense:
    return "dense";
  case OpKind::MaxPool:
    return "maxpool";
  case OpKind::AvgPool:
    return "avgpool";
  case OpKind::GlobalAvgPool:
    return "global_avgpool";
  case OpKind::BatchNorm:
    return "batchnorm";
  case OpKind::LRN:
    return "lrn";
  case OpKind::Dropout:
    return "dropout";
  case OpKind::Relu:
    return "relu";
  case OpKind::Tanh:
    return "tanh";
  case OpKind::Sigmoid:
    return "sigmoid";
  case OpKind::Softmax:
    return "softmax";
  case OpKind::Rbf:
    return "rbf";
  case OpKind::Flatten:
    return "flatten";
  case OpKind::Concat:
    return "concat";
  case OpKind::Add:
    return "add";
  case OpKind::ChannelPad:
    return "channel_pad";
  }
  return "?";
}

int64_t Graph::totalParams(bool trainableOnly) const {
  int64_t total = 0;
  for (const Node &node : nodes)
    for (const ParamTensor &param : node.params)
      if (param.trainable || !trainableOnly)
        total += numElements(param.shape);
  return total;
}

int64_t Graph::totalMacs() const {
  int64_t total = 0;
  for (const Node &node : nodes)
    total += node.macs;
  return total;
}

} // namespace netc::dsl
