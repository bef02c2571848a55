//===- Layers.cpp - The layer library of the .nn language -----------------===//

#include "Layers.h"

#include "ShapeRules.h"

namespace netc::dsl {

namespace {

Value sym(const char *s) { return Value::ofString(s, Value::Kind::Symbol); }
Value pairOf(int64_t a) {
  return Value::ofSequence({Value::ofInt(a), Value::ofInt(a)},
                           Value::Kind::Tuple);
}

/// Sizes beyond this are rejected so that element and MAC counts stay exact
/// in 64-bit integers.
constexpr int64_t kMaxDim = int64_t(1) << 24;
constexpr int64_t kMaxCount = int64_t(1) << 50;

std::string dims2(int64_t h, int64_t w) {
  return std::to_string(h) + "x" + std::to_string(w);
}

/// A pair as the user most likely wrote it: "2" for (2, 2).
std::string showPair(const Value &v) {
  if (v.items.size() == 2 && v.items[0].i == v.items[1].i)
    return std::to_string(v.items[0].i);
  return showValue(v);
}

std::array<int64_t, 2> getPair(LayerContext &ctx, const char *attr) {
  const Value &v = ctx.attr(attr);
  return {v.items[0].i, v.items[1].i};
}

bool checkPositive(LayerContext &ctx, const char *attr, const char *what) {
  const Value &v = ctx.attr(attr);
  if (v.kind == Value::Kind::Int) {
    if (v.i <= 0) {
      ctx.error(attr, std::string(what) + " must be positive, got " +
                          std::to_string(v.i));
      return false;
    }
    if (v.i > kMaxDim) {
      ctx.error(attr, std::string(what) + " " + std::to_string(v.i) +
                          " is too large (at most " + std::to_string(kMaxDim) +
                          ")");
      return false;
    }
    return true;
  }
  for (const Value &item : v.items) {
    if (item.i <= 0) {
      ctx.error(attr,
                std::string(what) + " must be positive, got " + showPair(v));
      return false;
    }
    if (item.i > kMaxDim) {
      ctx.error(attr, std::string(what) + " " + showPair(v) + " is too large");
      return false;
    }
  }
  return true;
}

/// A weight [out, in, …] and optionally a bias [out], initialized as
/// PyTorch's conv and linear layers are: uniform in +-1/sqrt(fan_in), fan_in
/// being the weight's elements per output. RBF prototypes start the same
/// way, near the origin where the tanh features start.
void addWeightAndBias(Node &node, const Shape &weight, bool bias) {
  int64_t fanIn = 1;
  for (size_t i = 1; i < weight.size(); ++i)
    fanIn *= weight[i];
  node.params.push_back({"weight", weight, true, ParamInit::Uniform, fanIn});
  if (bias)
    node.params.push_back(
        {"bias", {weight[0]}, true, ParamInit::Uniform, fanIn});
}

bool requireImage(LayerContext &ctx, const char *layer, size_t i = 0) {
  const Shape &shape = ctx.inputShape(i);
  if (shape.size() == 3)
    return true;
  ctx.error(nullptr, std::string(layer) +
                         " expects an image input [channels, height, width], "
                         "got " +
                         formatShape(shape));
  return false;
}

bool requireFlat(LayerContext &ctx, const char *layer) {
  const Shape &shape = ctx.inputShape(0);
  if (shape.size() == 1)
    return true;
  ctx.error(nullptr, std::string(layer) +
                         " expects a flat input [features], got " +
                         formatShape(shape) + "; add 'flatten' before it");
  return false;
}

/// Resolves a padding attribute to (top, bottom, left, right).
bool resolvePadding(LayerContext &ctx, const char *attr, const Shape &in,
                    std::array<int64_t, 2> k, std::array<int64_t, 2> stride,
                    std::array<int64_t, 2> dilation, bool allowFull,
                    std::array<int64_t, 4> &pad) {
  const Value &v = ctx.attr(attr);
  if (v.kind == Value::Kind::Symbol) {
    if (v.s == "valid") {
      pad = {0, 0, 0, 0};
    } else if (v.s == "same") {
      auto [t, b] = shape::samePadding(in[1], k[0], stride[0], dilation[0]);
      auto [l, r] = shape::samePadding(in[2], k[1], stride[1], dilation[1]);
      pad = {t, b, l, r};
    } else if (v.s == "full" && allowFull) {
      int64_t ph = shape::fullPadding(k[0], dilation[0]);
      int64_t pw = shape::fullPadding(k[1], dilation[1]);
      pad = {ph, ph, pw, pw};
    } else {
      ctx.error(attr, "padding '" + v.s + "' is not supported here; use " +
                          (allowFull ? "valid, same, full" : "valid, same") +
                          " or explicit sizes");
      return false;
    }
    return true;
  }
  for (size_t i = 0; i < 4; ++i) {
    pad[i] = v.items[i].i;
    if (pad[i] < 0) {
      ctx.error(attr, "padding must not be negative, got " + showValue(v));
      return false;
    }
    if (pad[i] > kMaxDim) {
      ctx.error(attr, "padding " + showValue(v) + " is too large");
      return false;
    }
  }
  return true;
}

struct ConvSpec {
  int64_t out;
  std::array<int64_t, 2> k, stride, dilation;
  std::array<int64_t, 4> pad;
  int64_t groups;
  bool bias;
};

/// Checks a convolution against its input and adds its node.
int addConv(LayerContext &ctx, int input, const Shape &in, const ConvSpec &c,
            const std::string &suffix, const char *groupsAttr) {
  int64_t channels = in[0];
  if (channels % c.groups != 0) {
    ctx.error(groupsAttr, "groups " + std::to_string(c.groups) +
                              " does not divide the " +
                              std::to_string(channels) + " input channels");
    return -1;
  }
  if (c.out % c.groups != 0) {
    ctx.error(groupsAttr, "groups " + std::to_string(c.groups) +
                              " does not divide the " + std::to_string(c.out) +
                              " output channels");
    return -1;
  }
  int64_t paddedH = in[1] + c.pad[0] + c.pad[1];
  int64_t paddedW = in[2] + c.pad[2] + c.pad[3];
  int64_t kh = shape::dilatedKernel(c.k[0], c.dilation[0]);
  int64_t kw = shape::dilatedKernel(c.k[1], c.dilation[1]);
  if (kh > paddedH || kw > paddedW) {
    ctx.error(
        "k",
        "kernel " + dims2(kh, kw) +
            (c.dilation[0] > 1 || c.dilation[1] > 1 ? " (with dilation)" : "") +
            " is larger than the padded input " + dims2(paddedH, paddedW));
    return -1;
  }
  Node node;
  node.op = OpKind::Conv;
  node.inputs = {input};
  node.attrs.channels = c.out;
  node.attrs.kernel = c.k;
  node.attrs.stride = c.stride;
  node.attrs.dilation = c.dilation;
  node.attrs.pad = c.pad;
  node.attrs.groups = c.groups;
  node.attrs.bias = c.bias;
  int64_t oh = shape::convOutput(in[1], c.k[0], c.stride[0], c.pad[0], c.pad[1],
                                 c.dilation[0]);
  int64_t ow = shape::convOutput(in[2], c.k[1], c.stride[1], c.pad[2], c.pad[3],
                                 c.dilation[1]);
  node.shape = {c.out, oh, ow};
  long double weights =
      (long double)c.out * (channels / c.groups) * c.k[0] * c.k[1];
  long double macs = weights * oh * ow;
  if (weights > kMaxCount || macs > kMaxCount ||
      (long double)c.out * oh * ow > kMaxCount) {
    ctx.error(nullptr, "convolution is too large to represent");
    return -1;
  }
  addWeightAndBias(node, {c.out, channels / c.groups, c.k[0], c.k[1]}, c.bias);
  node.macs = static_cast<int64_t>(macs);
  return ctx.addNode(std::move(node), suffix);
}

bool readConvCommon(LayerContext &ctx, ConvSpec &c) {
  if (!checkPositive(ctx, "k", "kernel size") ||
      !checkPositive(ctx, "stride", "stride") ||
      !checkPositive(ctx, "dilation", "dilation"))
    return false;
  c.k = getPair(ctx, "k");
  c.stride = getPair(ctx, "stride");
  c.dilation = getPair(ctx, "dilation");
  c.bias = ctx.attr("bias").b;
  return resolvePadding(ctx, "pad", ctx.inputShape(0), c.k, c.stride,
                        c.dilation, /*allowFull=*/true, c.pad);
}

int buildConv(LayerContext &ctx) {
  if (!requireImage(ctx, "conv"))
    return -1;
  ConvSpec c;
  if (!checkPositive(ctx, "out", "number of output channels") ||
      !checkPositive(ctx, "groups", "groups") || !readConvCommon(ctx, c))
    return -1;
  c.out = ctx.attr("out").i;
  c.groups = ctx.attr("groups").i;
  return addConv(ctx, ctx.input(0), ctx.inputShape(0), c, "", "groups");
}

int buildDepthwiseConv(LayerContext &ctx) {
  if (!requireImage(ctx, "depthwise_conv"))
    return -1;
  ConvSpec c;
  if (!checkPositive(ctx, "multiplier", "channel multiplier") ||
      !readConvCommon(ctx, c))
    return -1;
  c.groups = ctx.inputShape(0)[0];
  c.out = c.groups * ctx.attr("multiplier").i;
  return addConv(ctx, ctx.input(0), ctx.inputShape(0), c, "", "multiplier");
}

int buildSeparableConv(LayerContext &ctx) {
  if (!requireImage(ctx, "separable_conv"))
    return -1;
  ConvSpec dw;
  if (!checkPositive(ctx, "out", "number of output channels") ||
      !checkPositive(ctx, "multiplier", "channel multiplier") ||
      !readConvCommon(ctx, dw))
    return -1;
  // Depthwise without bias, then a 1x1 pointwise conv that carries the bias
  // (Keras' SeparableConv2D).
  dw.groups = ctx.inputShape(0)[0];
  dw.out = dw.groups * ctx.attr("multiplier").i;
  bool bias = dw.bias;
  dw.bias = false;
  int depthwise =
      addConv(ctx, ctx.input(0), ctx.inputShape(0), dw, ".depthwise", "k");
  if (depthwise < 0)
    return -1;
  ConvSpec pw{ctx.attr("out").i, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1, bias};
  Shape mid = {dw.out,
               shape::convOutput(ctx.inputShape(0)[1], dw.k[0], dw.stride[0],
                                 dw.pad[0], dw.pad[1], dw.dilation[0]),
               shape::convOutput(ctx.inputShape(0)[2], dw.k[1], dw.stride[1],
                                 dw.pad[2], dw.pad[3], dw.dilation[1])};
  return addConv(ctx, depthwise, mid, pw, ".pointwise", "out");
}

int buildDenseLike(LayerContext &ctx, OpKind op, const char *name) {
  if (!requireFlat(ctx, name) ||
      !checkPositive(ctx, "out", "number of outputs"))
    return -1;
  int64_t in = ctx.inputShape(0)[0];
  int64_t out = ctx.attr("out").i;
  if ((long double)in * out > kMaxCount) {
    ctx.error("out", std::string(name) + " layer is too large to represent");
    return -1;
  }
  Node node;
  node.op = op;
  node.inputs = {ctx.input(0)};
  node.shape = {out};
  node.attrs.channels = out;
  node.attrs.bias = op == OpKind::Dense && ctx.attr("bias").b;
  addWeightAndBias(node, {out, in}, node.attrs.bias);
  node.macs = in * out;
  return ctx.addNode(std::move(node), "");
}

int buildDense(LayerContext &ctx) {
  return buildDenseLike(ctx, OpKind::Dense, "dense");
}
int buildRbf(LayerContext &ctx) {
  return buildDenseLike(ctx, OpKind::Rbf, "rbf");
}

int buildPool(LayerContext &ctx, OpKind op, const char *name) {
  if (!requireImage(ctx, name) || !checkPositive(ctx, "k", "window size"))
    return -1;
  std::array<int64_t, 2> k = getPair(ctx, "k");
  std::array<int64_t, 2> stride = k;
  if (ctx.given("stride")) {
    if (!checkPositive(ctx, "stride", "stride"))
      return -1;
    stride = getPair(ctx, "stride");
  }
  const Shape &in = ctx.inputShape(0);
  std::array<int64_t, 4> pad;
  if (!resolvePadding(ctx, "pad", in, k, stride, {1, 1}, /*allowFull=*/false,
                      pad))
    return -1;
  for (int i = 0; i < 4; ++i) {
    if (pad[i] > k[i / 2] / 2) {
      ctx.error("pad", "padding " + std::to_string(pad[i]) +
                           " is more than half the " + dims2(k[0], k[1]) +
                           " window");
      return -1;
    }
  }
  int64_t paddedH = in[1] + pad[0] + pad[1];
  int64_t paddedW = in[2] + pad[2] + pad[3];
  if (k[0] > paddedH || k[1] > paddedW) {
    ctx.error("k", "window " + dims2(k[0], k[1]) +
                       " is larger than the padded input " +
                       dims2(paddedH, paddedW));
    return -1;
  }
  bool ceil = ctx.attr("ceil").b;
  Node node;
  node.op = op;
  node.inputs = {ctx.input(0)};
  node.attrs.kernel = k;
  node.attrs.stride = stride;
  node.attrs.pad = pad;
  node.attrs.ceilMode = ceil;
  if (op == OpKind::AvgPool)
    node.attrs.countPad = ctx.attr("count_pad").b;
  node.shape = {
      in[0], shape::poolOutput(in[1], k[0], stride[0], pad[0], pad[1], ceil),
      shape::poolOutput(in[2], k[1], stride[1], pad[2], pad[3], ceil)};
  return ctx.addNode(std::move(node), "");
}

int buildMaxPool(LayerContext &ctx) {
  return buildPool(ctx, OpKind::MaxPool, "maxpool");
}
int buildAvgPool(LayerContext &ctx) {
  return buildPool(ctx, OpKind::AvgPool, "avgpool");
}

int buildGlobalAvgPool(LayerContext &ctx) {
  if (!requireImage(ctx, "global_avgpool"))
    return -1;
  Node node;
  node.op = OpKind::GlobalAvgPool;
  node.inputs = {ctx.input(0)};
  node.shape = {ctx.inputShape(0)[0], 1, 1};
  return ctx.addNode(std::move(node), "");
}

int buildBatchNorm(LayerContext &ctx) {
  const Shape &in = ctx.inputShape(0);
  if (in.size() != 3 && in.size() != 1) {
    ctx.error(nullptr, "batchnorm expects [channels, height, width] or "
                       "[features], got " +
                           formatShape(in));
    return -1;
  }
  double eps = ctx.attr("eps").f, momentum = ctx.attr("momentum").f;
  if (!(eps > 0)) {
    ctx.error("eps", "eps must be positive");
    return -1;
  }
  if (!(momentum >= 0 && momentum <= 1)) {
    ctx.error("momentum", "momentum must be between 0 and 1");
    return -1;
  }
  Node node;
  node.op = OpKind::BatchNorm;
  node.inputs = {ctx.input(0)};
  node.shape = in;
  node.attrs.eps = eps;
  node.attrs.momentum = momentum;
  int64_t c = in[0];
  node.params = {{"weight", {c}, true, ParamInit::Ones},
                 {"bias", {c}, true, ParamInit::Zeros},
                 {"running_mean", {c}, false, ParamInit::Zeros},
                 {"running_var", {c}, false, ParamInit::Ones}};
  return ctx.addNode(std::move(node), "");
}

int buildLRN(LayerContext &ctx) {
  if (!requireImage(ctx, "lrn") || !checkPositive(ctx, "size", "window size"))
    return -1;
  Node node;
  node.op = OpKind::LRN;
  node.inputs = {ctx.input(0)};
  node.shape = ctx.inputShape(0);
  node.attrs.size = ctx.attr("size").i;
  node.attrs.alpha = ctx.attr("alpha").f;
  node.attrs.beta = ctx.attr("beta").f;
  node.attrs.k = ctx.attr("k").f;
  if (!(node.attrs.k > 0)) {
    ctx.error("k", "k must be positive");
    return -1;
  }
  if (!(node.attrs.alpha >= 0) || !(node.attrs.beta >= 0)) {
    ctx.error(node.attrs.alpha >= 0 ? "beta" : "alpha",
              "alpha and beta must not be negative");
    return -1;
  }
  return ctx.addNode(std::move(node), "");
}

int buildDropout(LayerContext &ctx) {
  double p = ctx.attr("p").f;
  if (!(p >= 0 && p < 1)) {
    ctx.error("p", "dropout probability must be in [0, 1), got " +
                       showValue(ctx.attr("p")));
    return -1;
  }
  Node node;
  node.op = OpKind::Dropout;
  node.inputs = {ctx.input(0)};
  node.shape = ctx.inputShape(0);
  node.attrs.p = p;
  return ctx.addNode(std::move(node), "");
}

int buildElementwise(LayerContext &ctx, OpKind op) {
  Node node;
  node.op = op;
  node.inputs = {ctx.input(0)};
  node.shape = ctx.inputShape(0);
  return ctx.addNode(std::move(node), "");
}

int buildFlatten(LayerContext &ctx) {
  Node node;
  node.op = OpKind::Flatten;
  node.inputs = {ctx.input(0)};
  node.shape = {numElements(ctx.inputShape(0))};
  return ctx.addNode(std::move(node), "");
}

int buildConcat(LayerContext &ctx) {
  const Shape &first = ctx.inputShape(0);
  Shape shape = first;
  for (size_t i = 1; i < ctx.numInputs(); ++i) {
    const Shape &other = ctx.inputShape(i);
    bool ok = other.size() == first.size() && !first.empty();
    for (size_t d = 1; ok && d < first.size(); ++d)
      ok = other[d] == first[d];
    if (!ok) {
      ctx.error(nullptr, "cannot concatenate tensors of shapes " +
                             formatShape(first) + " and " + formatShape(other) +
                             ": all dimensions but channels must agree");
      return -1;
    }
    shape[0] += other[0];
  }
  Node node;
  node.op = OpKind::Concat;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    node.inputs.push_back(ctx.input(i));
  node.shape = shape;
  return ctx.addNode(std::move(node), "");
}

int buildAdd(LayerContext &ctx) {
  const Shape &a = ctx.inputShape(0), &b = ctx.inputShape(1);
  if (a != b) {
    ctx.error(nullptr, "cannot add tensors of shapes " + formatShape(a) +
                           " and " + formatShape(b));
    return -1;
  }
  Node node;
  node.op = OpKind::Add;
  node.inputs = {ctx.input(0), ctx.input(1)};
  node.shape = a;
  return ctx.addNode(std::move(node), "");
}

int buildChannelPad(LayerContext &ctx) {
  if (!requireImage(ctx, "channel_pad"))
    return -1;
  int64_t before = ctx.attr("before").i, after = ctx.attr("after").i;
  if (before < 0 || after < 0) {
    ctx.error(before < 0 ? "before" : "after",
              "channel padding must not be negative");
    return -1;
  }
  if (before > kMaxDim || after > kMaxDim) {
    ctx.error(before > kMaxDim ? "before" : "after",
              "channel padding is too large");
    return -1;
  }
  Node node;
  node.op = OpKind::ChannelPad;
  node.inputs = {ctx.input(0)};
  node.shape = ctx.inputShape(0);
  node.shape[0] += before + after;
  node.attrs.channelPad = {before, after};
  return ctx.addNode(std::move(node), "");
}

using Builder = int (*)(LayerContext &);

struct Entry {
  LayerSpec spec;
  Builder build;
};

const std::vector<Entry> &entries() {
  const Value one = pairOf(1);
  const AttrSpec stride{"stride", AttrType::Pair, false, one,
                        "step between windows: n or (h, w)"};
  const AttrSpec pad{"pad", AttrType::Padding, false, sym("valid"),
                     "valid, same, full, n, (h, w) or (top, bottom, left, "
                     "right)"};
  const AttrSpec dilation{"dilation", AttrType::Pair, false, one,
                          "spacing of kernel taps"};
  const AttrSpec kernel{
      "k", AttrType::Pair, true, {}, "kernel size: n or (h, w)"};
  const AttrSpec bias{"bias", AttrType::Bool, false, Value::ofBool(true),
                      "learn an additive bias"};
  const AttrSpec out{"out", AttrType::Int, true, {}, "output channels"};
  const AttrSpec multiplier{"multiplier", AttrType::Int, false, Value::ofInt(1),
                            "output channels per input channel"};
  const AttrSpec poolStride{
      "stride", AttrType::Pair, false, {}, "step between windows (default: k)"};
  const AttrSpec poolPad{
      "pad", AttrType::Padding, false, sym("valid"),
      "valid, same, n, (h, w) or (top, bottom, left, right)"};
  const AttrSpec ceil{"ceil", AttrType::Bool, false, Value::ofBool(false),
                      "keep a last partial window (PyTorch ceil_mode)"};
  static const std::vector<Entry> all = {
      {{"conv",
        {out,
         kernel,
         stride,
         pad,
         dilation,
         {"groups", AttrType::Int, false, Value::ofInt(1),
          "channel groups (must divide in and out channels)"},
         bias},
        1,
        1,
        "2-D convolution"},
       buildConv},
      {{"depthwise_conv",
        {kernel, stride, pad, dilation, multiplier, bias},
        1,
        1,
        "convolution of each channel on its own (groups = channels)"},
       buildDepthwiseConv},
      {{"separable_conv",
        {out, kernel, stride, pad, dilation, multiplier, bias},
        1,
        1,
        "depthwise convolution, then a 1x1 convolution"},
       buildSeparableConv},
      {{"dense",
        {{"out", AttrType::Int, true, {}, "output features"}, bias},
        1,
        1,
        "fully connected layer"},
       buildDense},
      {{"maxpool",
        {kernel, poolStride, poolPad, ceil},
        1,
        1,
        "maximum over each window"},
       buildMaxPool},
      {{"avgpool",
        {kernel,
         poolStride,
         poolPad,
         ceil,
         {"count_pad", AttrType::Bool, false, Value::ofBool(true),
          "count padding in the divisor"}},
        1,
        1,
        "average over each window"},
       buildAvgPool},
      {{"global_avgpool", {}, 1, 1, "average over height and width"},
       buildGlobalAvgPool},
      {{"batchnorm",
        {{"eps", AttrType::Float, false, Value::ofFloat(1e-5),
          "added to the variance"},
         {"momentum", AttrType::Float, false, Value::ofFloat(0.1),
          "update rate of the running statistics"}},
        1,
        1,
        "batch normalization"},
       buildBatchNorm},
      {{"lrn",
        {{"size", AttrType::Int, false, Value::ofInt(5),
          "channels in the window"},
         {"alpha", AttrType::Float, false, Value::ofFloat(1e-4),
          "scale (divided by size, as PyTorch)"},
         {"beta", AttrType::Float, false, Value::ofFloat(0.75), "exponent"},
         {"k", AttrType::Float, false, Value::ofFloat(2.0), "additive term"}},
        1,
        1,
        "local response normalization across channels"},
       buildLRN},
      {{"dropout",
        {{"p", AttrType::Float, false, Value::ofFloat(0.5),
          "probability of zeroing an element"}},
        1,
        1,
        "dropout (training only)"},
       buildDropout},
      {{"relu", {}, 1, 1, "max(x, 0)"},
       [](LayerContext &c) { return buildElementwise(c, OpKind::Relu); }},
      {{"tanh", {}, 1, 1, "hyperbolic tangent"},
       [](LayerContext &c) { return buildElementwise(c, OpKind::Tanh); }},
      {{"sigmoid", {}, 1, 1, "1 / (1 + exp(-x))"},
       [](LayerContext &c) { return buildElementwise(c, OpKind::Sigmoid); }},
      {{"softmax", {}, 1, 1, "softmax over channels"},
       [](LayerContext &c) { return buildElementwise(c, OpKind::Softmax); }},
      {{"rbf",
        {{"out", AttrType::Int, true, {}, "output units"}},
        1,
        1,
        "Euclidean radial basis units: sum_j (x_j - w_ij)^2"},
       buildRbf},
      {{"flatten", {}, 1, 1, "to one dimension"}, buildFlatten},
      {{"concat", {}, 2, -1, "join along channels"}, buildConcat},
      {{"add", {}, 2, 2, "elementwise sum"}, buildAdd},
      {{"channel_pad",
        {{"before", AttrType::Int, false, Value::ofInt(0),
          "zero channels in front"},
         {"after", AttrType::Int, false, Value::ofInt(0),
          "zero channels behind"}},
        1,
        1,
        "pad with zero channels"},
       buildChannelPad},
  };
  return all;
}

} // namespace

const std::vector<LayerSpec> &layerSpecs() {
  static const std::vector<LayerSpec> specs = [] {
    std::vector<LayerSpec> list;
    for (const Entry &entry : entries())
      list.push_back(entry.spec);
    return list;
  }();
  return specs;
}

const LayerSpec *findLayer(std::string_view name) {
  for (const LayerSpec &spec : layerSpecs())
    if (name == spec.name)
      return &spec;
  return nullptr;
}

int buildLayer(const LayerSpec &spec, LayerContext &ctx) {
  for (const Entry &entry : entries())
    if (std::string_view(entry.spec.name) == spec.name)
      return entry.build(ctx);
  return -1;
}

} // namespace netc::dsl
