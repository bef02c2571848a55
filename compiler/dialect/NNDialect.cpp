//===- NNDialect.cpp - The nn dialect -------------------------------------===//

#include "compiler/dialect/NNDialect.h"
#include "compiler/dialect/NNOps.h"

using namespace mlir;
using namespace netc::nn;

#include "compiler/dialect/NNDialect.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "compiler/dialect/NNOps.cpp.inc"
      >();
}
