//===- NNDialect.h - The nn dialect -----------------------------*- C++ -*-===//
#pragma once

#include "mlir/IR/Dialect.h"

#include "compiler/dialect/NNDialect.h.inc"
