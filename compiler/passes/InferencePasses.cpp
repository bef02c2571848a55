//===- InferencePasses.cpp - Dropout removal and batch-norm folding -------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace netc::nn {
#define GEN_PASS_DEF_NNREMOVEDROPOUT
#define GEN_PASS_DEF_NNFOLDBATCHNORM
#include "compiler/passes/Passes.h.inc"
} // namespace netc::nn

using namespace mlir;
using namespace netc::nn;

namespace {

struct RemoveDropout : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInput().getType() != op.getType())
      return failure();
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

/// conv2d or dense (single use) -> batchnorm  ==>  one layer with folded
/// weight and bias.
struct FoldBatchNorm : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    Operation *layer = bn.getInput().getDefiningOp();
    if (!layer || !isa<Conv2DOp, DenseOp>(layer) || !layer->hasOneUse())
      return failure();
    Value weight = layer->getOperand(1);
    Value bias = layer->getNumOperands() > 2 ? layer->getOperand(2) : Value();
    rewriter.setInsertionPoint(bn);
    Location loc = layer->getLoc();
    auto channels = RankedTensorType::get(
        {cast<RankedTensorType>(weight.getType()).getShape()[0]},
        rewriter.getF32Type());
    Value foldedWeight = rewriter.create<FoldBatchNormWeightOp>(
        loc, weight.getType(), weight, bn.getWeight(), bn.getRunningVar(),
        bn.getEpsAttr());
    Value foldedBias = rewriter.create<FoldBatchNormBiasOp>(
        loc, channels, bn.getWeight(), bn.getBias(), bn.getRunningMean(),
        bn.getRunningVar(), bias, bn.getEpsAttr());
    Operation *folded;
    if (auto conv = dyn_cast<Conv2DOp>(layer))
      folded = rewriter.create<Conv2DOp>(
          loc, bn.getType(), conv.getInput(), foldedWeight, foldedBias,
          conv.getStrideAttr(), conv.getPadAttr(), conv.getDilationAttr(),
          conv.getGroupsAttr());
    else
      folded = rewriter.create<DenseOp>(loc, bn.getType(), layer->getOperand(0),
                                        foldedWeight, foldedBias);
    rewriter.replaceOp(bn, folded->getResults());
    rewriter.eraseOp(layer);
    return success();
  }
};

struct RemoveDropoutPass
    : netc::nn::impl::NNRemoveDropoutBase<RemoveDropoutPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RemoveDropout>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

struct FoldBatchNormPass
    : netc::nn::impl::NNFoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNorm>(&getContext());
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      signalPassFailure();
  }
};

} // namespace
