//===- FuseEpilogues.cpp - Group layers with their elementwise tails ------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace netc::nn {
#define GEN_PASS_DEF_NNFUSEEPILOGUES
#include "compiler/passes/Passes.h.inc"
} // namespace netc::nn

using namespace mlir;
using namespace netc::nn;

namespace {

/// Ops that can be computed on each output element of a layer as it is
/// produced, when the layer's result is their only tensor input from it.
bool isEpilogue(Operation *op, Value from) {
  if (isa<ReluOp, TanhOp, SigmoidOp>(op))
    return true;
  // An activation's gradient applied to a gradient as it is produced.
  if (isa<ReluGradOp, TanhGradOp, SigmoidGradOp>(op))
    return op->getOperand(0) == from && op->getOperand(1) != from;
  if (auto bn = dyn_cast<BatchNormOp>(op))
    return bn.getInput() == from;
  if (auto add = dyn_cast<AddOp>(op))
    return add.getLhs() != add.getRhs(); // x + x would read the tile twice
  return false;
}

struct FuseEpiloguesPass
    : netc::nn::impl::NNFuseEpiloguesBase<FuseEpiloguesPass> {
  using NNFuseEpiloguesBase::NNFuseEpiloguesBase;

  bool isRoot(Operation *op) {
    if (isa<Conv2DOp, DenseOp, Conv2DGradInputOp>(op))
      return true;
    return elementwiseRoots && isa<BatchNormOp, AddOp>(op);
  }

  void runOnOperation() override {
    OpBuilder builder(&getContext());
    int64_t next = 0;
    getOperation().walk([&](Operation *root) {
      if (!isRoot(root) || root->hasAttr("nn.group"))
        return;
      SmallVector<Operation *> chain = {root};
      Value current = root->getResult(0);
      while (current.hasOneUse()) {
        Operation *user = *current.getUsers().begin();
        if (!isEpilogue(user, current) || user->hasAttr("nn.group"))
          break;
        chain.push_back(user);
        current = user->getResult(0);
      }
      if (chain.size() < 2)
        return;
      auto id = builder.getI64IntegerAttr(next++);
      for (Operation *op : chain)
        op->setAttr("nn.group", id);
    });
  }
};

} // namespace
