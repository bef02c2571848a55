//===- Graph.h - The elaborated network -------------------------*- C++ -*-===//
//
// Elaboration turns the syntax tree into a flat, fully-shaped graph: blocks
// are instantiated, loops unrolled, conditions decided. Every node is one
// layer with concrete attributes, named by its dotted path in the source
// (`layer2.0.conv1`), and every parameter tensor has a stable name. This is
// what MLIRGen turns into the `nn` dialect and what `netc summary` prints.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Source.h"

#include "runtime/TrainSettings.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netc::dsl {

using Shape = std::vector<int64_t>; // per sample, without the batch dimension

std::string formatShape(const Shape &shape);
int64_t numElements(const Shape &shape);

enum class OpKind {
  Input,
  Conv,
  Dense,
  MaxPool,
  AvgPool,
  GlobalAvgPool,
  BatchNorm,
  LRN,
  Dropout,
  Relu,
  Tanh,
  Sigmoid,
  Softmax,
  Rbf,
  Flatten,
  Concat,
  Add,
  ChannelPad,
};

/// The op's name as it appears in the summary and the dialect (`conv`, …).
const char *opName(OpKind kind);

/// Attributes of a layer. Each op uses the fields its comment names.
struct LayerAttrs {
  int64_t channels = 0;                     // conv, dense, rbf: outputs
  std::array<int64_t, 2> kernel = {1, 1};   // conv, pools: [kh, kw]
  std::array<int64_t, 2> stride = {1, 1};   // conv, pools
  std::array<int64_t, 2> dilation = {1, 1}; // conv
  std::array<int64_t, 4> pad = {0, 0, 0,
                                0}; // conv, pools: top, bottom, left, right
  int64_t groups = 1;               // conv
  bool bias = true;                 // conv, dense
  bool ceilMode = false;            // pools
  bool countPad = true;             // avgpool: padding in the divisor
  double eps = 1e-5;                // batchnorm
  double momentum = 0.1;            // batchnorm running statistics
  int64_t size = 5;                 // lrn: channels in the window
  double alpha = 1e-4, beta = 0.75, k = 2.0;  // lrn
  double p = 0.5;                             // dropout
  std::array<int64_t, 2> channelPad = {0, 0}; // channel_pad: before, after
};

/// How a training program initializes a parameter: PyTorch's defaults,
/// chosen by the layer that declares it (Layers.cpp).
enum class ParamInit {
  Uniform, // uniform in +-1/sqrt(fanIn): conv, dense and rbf weights, biases
  Zeros,
  Ones,
  Normal, // N(0, 1)
};

struct ParamTensor {
  std::string name; // e.g. "layer1.0.conv1.weight"
  Shape shape;
  bool trainable = true; // batch-norm running statistics are buffers
  ParamInit init = ParamInit::Normal;
  int64_t fanIn = 1; // ParamInit::Uniform
};

struct Node {
  int id = 0;
  OpKind op = OpKind::Input;
  std::string name;        // dotted path, unique in the graph
  std::vector<int> inputs; // node ids
  Shape shape;             // output shape
  LayerAttrs attrs;
  std::vector<ParamTensor> params; // in PyTorch order (weight, bias, …)
  int64_t macs = 0;                // multiply-adds for one sample
  Loc loc;
  uint32_t locLength = 1;
};

struct GraphOutput {
  std::string name;
  int node = 0;
  Loc loc;
  /// Only the training loss uses it, with a weight below 1 (GoogLeNet's
  /// auxiliary classifiers): inference programs leave it out.
  bool auxiliary = false;
};

/// The optional `train { … }` section, with defaults filled in: the
/// settings programs run with (runtime/TrainSettings.h), and what only the
/// compiler needs (the loss terms, the augmentations as listed).
struct TrainConfig : rt::TrainSettings {
  struct LossTerm {
    std::string kind;   // cross_entropy, mse
    std::string output; // name of a model output
    double weight = 1.0;
    bool negate = false; // cross_entropy(-distances) for RBF outputs
  };
  struct Augment {
    std::string kind; // random_crop, hflip, normalize
    int64_t size = 0, pad = 0;
    std::vector<double> mean, std;
  };
  bool present = false;
  std::vector<LossTerm> loss;
  std::vector<Augment> augment;
};

struct Graph {
  std::string modelName;
  std::vector<Node> nodes; // topological order
  std::vector<int> inputs; // Input node ids, in declaration order
  std::vector<GraphOutput> outputs;
  TrainConfig train;

  int64_t totalParams(bool trainableOnly = true) const;
  int64_t totalMacs() const;
};

} // namespace netc::dsl
