//===- netc-opt.cpp - Run passes on nn dialect files ----------------------===//
//
// The usual MLIR driver with the nn dialect and its passes registered:
//   netc-opt model.mlir --nn-shape-inference --canonicalize
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<netc::nn::NNDialect, mlir::func::FuncDialect>();
  mlir::registerTransformsPasses();
  netc::nn::registerNNPasses();
  netc::nn::registerPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "netc optimizer driver\n", registry));
}
