//===- Optimizers.cpp - Parameter updates as Halide kernels ---------------===//
//
// One kernel per optimizer updates a parameter and its state in place,
// elementwise over the flattened tensor, with PyTorch's formulas. Hyper-
// parameters are scalar arguments, so the learning-rate schedule and
// command-line flags change them without recompiling.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/OpLowering.h"

using namespace Halide;

namespace netc::halide {

LoweredOp lowerOptimizer(const std::string &kind) {
  LoweredOp k;
  k.opName = kind + "_update";
  ImageParam w(Float(32), 1, "weight"), g(Float(32), 1, "grad"),
      s1(Float(32), 1, "state1"), s2(Float(32), 1, "state2");
  Var i("i");
  k.vars = {i};
  k.outputShape = {-1};
  k.output = Func(k.opName);
  if (kind == "sgd") {
    // d = g + wd w; v = momentum v + d; w -= lr (nesterov ? d + momentum v : v)
    Param<float> lr("lr"), momentum("momentum"), decay("weight_decay"),
        nesterov("nesterov");
    k.args = {w, g, s1};
    k.scalars = {lr, momentum, decay, nesterov};
    Expr d = g(i) + decay * w(i);
    Expr v = momentum * s1(i) + d;
    Expr step = select(nesterov > 0.5f, d + momentum * v, v);
    k.output(i) = Tuple(w(i) - lr * step, v);
  } else if (kind == "adam" || kind == "adamw") {
    // m, v: moving averages of g and g^2; c1 = 1 / (1 - beta1^t), c2 the
    // same for beta2. AdamW decays the weight itself instead of adding to g.
    Param<float> lr("lr"), beta1("beta1"), beta2("beta2"), eps("eps"),
        decay("weight_decay"), c1("correction1"), c2("correction2");
    k.args = {w, g, s1, s2};
    k.scalars = {lr, beta1, beta2, eps, decay, c1, c2};
    bool decoupled = kind == "adamw";
    Expr d = decoupled ? g(i) : g(i) + decay * w(i);
    Expr m = beta1 * s1(i) + (1.0f - beta1) * d;
    Expr v = beta2 * s2(i) + (1.0f - beta2) * d * d;
    Expr w0 = decoupled ? w(i) * (1.0f - lr * decay) : w(i);
    k.output(i) = Tuple(w0 - lr * (m * c1) / (sqrt(v * c2) + eps), m, v);
  } else if (kind == "rmsprop") {
    // sq: moving average of g^2; with momentum, buf accumulates the steps.
    Param<float> lr("lr"), alpha("alpha"), eps("eps"), decay("weight_decay"),
        momentum("momentum");
    k.args = {w, g, s1, s2};
    k.scalars = {lr, alpha, eps, decay, momentum};
    Expr d = g(i) + decay * w(i);
    Expr sq = alpha * s1(i) + (1.0f - alpha) * d * d;
    Expr step = d / (sqrt(sq) + eps);
    Expr buf = momentum * s2(i) + step;
    k.output(i) =
        Tuple(w(i) - lr * select(momentum > 0.0f, buf, step), sq, buf);
  } else {
    throw std::runtime_error("unknown optimizer '" + kind + "'");
  }
  return k;
}

} // namespace netc::halide
