//===- Summary.h - Layer table and totals of a model ------------*- C++ -*-===//
#pragma once

#include "Graph.h"

#include <ostream>
#include <string>

namespace netc::dsl {

/// A table like Keras' summary(): layer, op, output shape, parameters,
/// multiply-adds, then totals and the training settings.
void printSummary(const Graph &graph, std::ostream &os);

/// The same as one JSON object: params, buffers, macs, inputs, outputs,
/// layers, parameters (name, shape, trainable) and train.
std::string summaryJson(const Graph &graph);

/// 1234567 -> "1,234,567".
std::string withCommas(int64_t n);

} // namespace netc::dsl
