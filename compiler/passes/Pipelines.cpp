//===- Pipelines.cpp - The pass pipelines netc runs -----------------------===//

#include "compiler/passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace netc::nn {

void buildInferencePipeline(mlir::OpPassManager &pm) {
  mlir::OpPassManager &func = pm.nest<mlir::func::FuncOp>();
  func.addPass(createNNShapeInference());
  func.addPass(createNNRemoveDropout());
  func.addPass(createNNFoldBatchNorm());
  func.addPass(createNNSubsampleStridedPointwise());
  func.addPass(mlir::createCSEPass());
  // Removes what only left-out outputs (auxiliary heads) needed.
  func.addPass(mlir::createCanonicalizerPass());
  func.addPass(createNNFuseEpilogues());
}

void buildTrainingPipeline(mlir::OpPassManager &pm) {
  pm.nest<mlir::func::FuncOp>().addPass(createNNShapeInference());
  pm.addPass(createNNAutodiff());
  mlir::OpPassManager &func = pm.nest<mlir::func::FuncOp>();
  func.addPass(mlir::createCSEPass());
  func.addPass(mlir::createCanonicalizerPass());
  NNFuseEpiloguesOptions fuse;
  fuse.elementwiseRoots = true;
  func.addPass(createNNFuseEpilogues(fuse));
}

void registerPipelines() {
  mlir::PassPipelineRegistration<>(
      "nn-inference", "Prepare an nn module for an inference program",
      buildInferencePipeline);
  mlir::PassPipelineRegistration<>(
      "nn-training", "Append the backward graph for a training program",
      buildTrainingPipeline);
}

} // namespace netc::nn
