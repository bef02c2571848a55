//===- Layers.h - The layer library of the .nn language ---------*- C++ -*-===//
//
// Each layer is described once: its attributes (with types and defaults, in
// positional order), how many tensor inputs it takes, and a builder that
// checks the attributes against the input shapes and produces graph nodes
// with their output shape, parameters and multiply-add count.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Graph.h"
#include "Value.h"

#include <string>
#include <string_view>
#include <vector>

namespace netc::dsl {

enum class AttrType {
  Int,     // 64
  Pair,    // 3 or (3, 5): height, width
  Padding, // valid | same | full | 1 | (1, 2) | (top, bottom, left, right)
  Bool,
  Float,
  String,
  IntList,   // [30, 60]
  FloatList, // [0.485, 0.456, 0.406]
};

struct AttrSpec {
  const char *name;
  AttrType type;
  bool required;
  Value defaultValue; // None when required or when derived (pool stride = k)
  const char *doc;
};

struct LayerSpec {
  const char *name;
  std::vector<AttrSpec> attrs;
  int minInputs;
  int maxInputs; // -1: any number
  const char *doc;
};

const std::vector<LayerSpec> &layerSpecs();
const LayerSpec *findLayer(std::string_view name);

/// What a layer builder sees; the elaborator implements it.
class LayerContext {
public:
  virtual ~LayerContext() = default;
  virtual size_t numInputs() const = 0;
  virtual int input(size_t i) const = 0;
  virtual const Shape &inputShape(size_t i) const = 0;
  /// True when the attribute was given in the call.
  virtual bool given(const char *attr) const = 0;
  /// The attribute's value, converted to its type (Pair: a 2-tuple of ints;
  /// Padding: a symbol or a 4-tuple of ints), or its default.
  virtual const Value &attr(const char *attr) const = 0;
  /// Reports an error at the attribute's argument (at the call if absent).
  virtual void error(const char *attr, const std::string &message) = 0;
  /// Adds a node named `<layer name><suffix>`; returns its id.
  virtual int addNode(Node node, const std::string &suffix) = 0;
};

/// Runs the layer's builder; returns the id of the node that produces the
/// layer's result, or -1 after reporting an error.
int buildLayer(const LayerSpec &spec, LayerContext &ctx);

} // namespace netc::dsl
