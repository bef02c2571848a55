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
  int64_t channels = 0;                       // conv, dense, rbf: outputs
  std::array<int64_t, 2> kernel = {1, 1};     // conv, pools: [kh, kw]
  std::array<int64_t, 2> stride = {1, 1};     // conv, pools
  std::array<int64_t, 2> dilation = {1, 1};   // conv
  std::array<int64_t, 4> pad = {0, 0, 0, 0};  // conv, pools: top, bottom, left, right
  int64_t groups = 1;                         // conv
  bool bias = true;                           // conv, dense
  bool ceilMode = false;                      // pools
  bool countPad = true;                       // avgpool: padding in the divisor
  double eps = 1e-5;                          // batchnorm
  double momentum = 0.1;                      // batchnorm running statistics
  int64_t size = 5;                           // lrn: channels in the window
  double alpha = 1e-4, beta = 0.75, k = 2.0;  // lrn
  double p = 0.5;                             // dropout
  std::array<int64_t, 2> channelPad = {0, 0}; // channel_pad: before, after
};

struct ParamTensor {
  std::string name; // e.g. "layer1.0.conv1.weight"
  Shape shape;
  bool trainable = true; // batch-norm running statistics are buffers
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

/// The optional `train { … }` section, with defaults filled in.
struct TrainConfig {
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
  std::string optimizer = "sgd"; // sgd, adam, adamw, rmsprop
  double lr = 0.01, momentum = 0.0, weightDecay = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999; // adam, adamw
  double rmsAlpha = 0.99;             // rmsprop: squared-gradient decay
  double eps = 1e-8;                  // adam, adamw, rmsprop
  std::string schedule = "constant"; // constant, step, plateau, cosine
  std::vector<int64_t> milestones;   // step: epochs at which lr *= gamma
  int64_t stepEvery = 0;             // step: every N epochs instead
  double gamma = 0.1;                // step and plateau factor
  int64_t patience = 10;             // plateau
  double minLr = 0.0;                // cosine, plateau
  int64_t warmup = 0;                // epochs of linear warm-up
  int64_t batch = 32, epochs = 10, seed = 0;
  std::vector<Augment> augment;
  std::vector<std::string> freeze; // parameter-name prefixes kept fixed
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
