//===- InferencePasses.cpp - Rewrites of the nn graph for inference -------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace netc::nn {
#define GEN_PASS_DEF_NNREMOVEDROPOUT
#define GEN_PASS_DEF_NNFOLDBATCHNORM
#define GEN_PASS_DEF_NNSUBSAMPLESTRIDEDPOINTWISE
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

/// conv2d 1x1 at stride s, no padding  ==>  maxpool2d 1x1 at stride s (the
/// pixels the convolution reads), then the conv2d at stride 1.
struct SubsampleStridedPointwise : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    auto weight = cast<RankedTensorType>(conv.getWeight().getType());
    auto input = cast<RankedTensorType>(conv.getInput().getType());
    auto result = cast<RankedTensorType>(conv.getType());
    ArrayRef<int64_t> stride = conv.getStride();
    if (weight.getShape()[2] != 1 || weight.getShape()[3] != 1 ||
        (stride[0] == 1 && stride[1] == 1) ||
        llvm::any_of(conv.getPad(), [](int64_t p) { return p != 0; }))
      return failure();
    SmallVector<int64_t> shape(input.getShape());
    shape[2] = result.getShape()[2];
    shape[3] = result.getShape()[3];
    Location loc = conv.getLoc();
    Value picked = rewriter.create<MaxPool2DOp>(
        loc, RankedTensorType::get(shape, input.getElementType()),
        conv.getInput(), rewriter.getDenseI64ArrayAttr({1, 1}),
        conv.getStrideAttr(), rewriter.getDenseI64ArrayAttr({0, 0, 0, 0}),
        rewriter.getBoolAttr(false));
    rewriter.replaceOpWithNewOp<Conv2DOp>(
        conv, result, picked, conv.getWeight(), conv.getBias(),
        rewriter.getDenseI64ArrayAttr({1, 1}), conv.getPadAttr(),
        conv.getDilationAttr(), conv.getGroupsAttr());
    return success();
  }
};

/// Applies one rewrite pattern to a pass's function until nothing matches.
template <typename Pattern>
LogicalResult rewriteAll(Operation *op, GreedyRewriteConfig config = {}) {
  RewritePatternSet patterns(op->getContext());
  patterns.add<Pattern>(op->getContext());
  return applyPatternsAndFoldGreedily(op, std::move(patterns), config);
}

struct SubsampleStridedPointwisePass
    : netc::nn::impl::NNSubsampleStridedPointwiseBase<
          SubsampleStridedPointwisePass> {
  void runOnOperation() override {
    if (failed(rewriteAll<SubsampleStridedPointwise>(getOperation())))
      signalPassFailure();
  }
};

struct RemoveDropoutPass
    : netc::nn::impl::NNRemoveDropoutBase<RemoveDropoutPass> {
  void runOnOperation() override {
    if (failed(rewriteAll<RemoveDropout>(getOperation())))
      signalPassFailure();
  }
};

struct FoldBatchNormPass
    : netc::nn::impl::NNFoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(rewriteAll<FoldBatchNorm>(getOperation(), config)))
      signalPassFailure();
  }
};

} // namespace
