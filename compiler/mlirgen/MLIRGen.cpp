//===- MLIRGen.cpp - Elaborated graph to the nn dialect -------------------===//

#include "compiler/mlirgen/MLIRGen.h"

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using netc::dsl::Graph;
using netc::dsl::Node;
using netc::dsl::OpKind;

namespace netc {

void registerDialects(MLIRContext &context) {
  context.getOrLoadDialect<nn::NNDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
}

namespace {

class Generator {
public:
  Generator(MLIRContext &context, const Graph &graph, bool inference)
      : context_(context), graph_(graph), inference_(inference),
        builder_(&context) {}

  OwningOpRef<ModuleOp> run() {
    auto module = ModuleOp::create(builder_.getUnknownLoc());
    module->setAttr("nn.model", builder_.getStringAttr(graph_.modelName));

    SmallVector<Type> argTypes;
    for (int id : graph_.inputs)
      argTypes.push_back(batched(graph_.nodes[id].shape));
    builder_.setInsertionPointToEnd(module.getBody());
    auto func =
        builder_.create<func::FuncOp>(builder_.getUnknownLoc(), "forward",
                                      builder_.getFunctionType(argTypes, {}));
    Block *entry = func.addEntryBlock();
    for (size_t i = 0; i < graph_.inputs.size(); ++i) {
      const Node &input = graph_.nodes[graph_.inputs[i]];
      func.setArgAttr(i, "nn.name", builder_.getStringAttr(input.name));
      values_[input.id] = entry->getArgument(i);
    }

    builder_.setInsertionPointToEnd(entry);
    for (const Node &node : graph_.nodes)
      if (node.op != OpKind::Input)
        values_[node.id] = emit(node);

    SmallVector<Value> results;
    std::vector<const dsl::GraphOutput *> outputs;
    for (const auto &output : graph_.outputs)
      if (!inference_ || !output.auxiliary) {
        results.push_back(values_.at(output.node));
        outputs.push_back(&output);
      }
    builder_.create<func::ReturnOp>(builder_.getUnknownLoc(), results);
    func.setType(
        builder_.getFunctionType(argTypes, ValueRange(results).getTypes()));
    for (size_t i = 0; i < outputs.size(); ++i)
      func.setResultAttr(i, "nn.name",
                         builder_.getStringAttr(outputs[i]->name));
    if (!inference_)
      markLosses(module, func, outputs);
    return module;
  }

private:
  /// The train section for nn-autodiff: which results are losses, and the
  /// parameters kept fixed.
  void markLosses(ModuleOp module, func::FuncOp func,
                  const std::vector<const dsl::GraphOutput *> &outputs) {
    for (const dsl::TrainConfig::LossTerm &term : graph_.train.loss)
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i]->name != term.output)
          continue;
        func.setResultAttr(i, "nn.loss", builder_.getStringAttr(term.kind));
        func.setResultAttr(i, "nn.loss_weight",
                           builder_.getF64FloatAttr(term.weight));
        if (term.negate)
          func.setResultAttr(i, "nn.loss_negate", builder_.getUnitAttr());
      }
    if (!graph_.train.freeze.empty()) {
      SmallVector<Attribute> prefixes;
      for (const std::string &prefix : graph_.train.freeze)
        prefixes.push_back(builder_.getStringAttr(prefix));
      module->setAttr("nn.freeze", builder_.getArrayAttr(prefixes));
    }
  }

  /// tensor<?xC…xf32>: the per-sample shape behind a dynamic batch.
  RankedTensorType batched(const dsl::Shape &shape) {
    SmallVector<int64_t> dims = {ShapedType::kDynamic};
    dims.append(shape.begin(), shape.end());
    return RankedTensorType::get(dims, builder_.getF32Type());
  }

  Type unranked() { return UnrankedTensorType::get(builder_.getF32Type()); }

  Location locOf(const Node &node) {
    Location fileLoc = builder_.getUnknownLoc();
    if (node.loc.valid())
      fileLoc = FileLineColLoc::get(&context_, node.loc.file->name(),
                                    node.loc.line, node.loc.col);
    return NameLoc::get(builder_.getStringAttr(node.name), fileLoc);
  }

  SmallVector<Value> params(const Node &node, Location loc) {
    SmallVector<Value> values;
    for (const dsl::ParamTensor &param : node.params) {
      auto type = RankedTensorType::get(param.shape, builder_.getF32Type());
      auto op =
          builder_.create<nn::ParamOp>(loc, type, param.name, !param.trainable);
      values.push_back(op);
    }
    return values;
  }

  DenseI64ArrayAttr array(ArrayRef<int64_t> values) {
    return builder_.getDenseI64ArrayAttr(values);
  }

  Value emit(const Node &node) {
    Location loc = locOf(node);
    SmallVector<Value> p = params(node, loc);
    SmallVector<Value> in;
    for (int id : node.inputs)
      in.push_back(values_.at(id));
    const dsl::LayerAttrs &a = node.attrs;
    Type type = unranked();
    switch (node.op) {
    case OpKind::Conv:
      return builder_.create<nn::Conv2DOp>(
          loc, type, in[0], p[0], a.bias ? p[1] : Value(), array(a.stride),
          array(a.pad), array(a.dilation),
          builder_.getI64IntegerAttr(a.groups));
    case OpKind::Dense:
      return builder_.create<nn::DenseOp>(loc, type, in[0], p[0],
                                          a.bias ? p[1] : Value());
    case OpKind::Rbf:
      return builder_.create<nn::RbfOp>(loc, type, in[0], p[0]);
    case OpKind::BatchNorm:
      return builder_.create<nn::BatchNormOp>(
          loc, type, in[0], p[0], p[1], p[2], p[3],
          builder_.getF64FloatAttr(a.eps),
          builder_.getF64FloatAttr(a.momentum));
    case OpKind::MaxPool:
      return builder_.create<nn::MaxPool2DOp>(loc, type, in[0], array(a.kernel),
                                              array(a.stride), array(a.pad),
                                              builder_.getBoolAttr(a.ceilMode));
    case OpKind::AvgPool:
      return builder_.create<nn::AvgPool2DOp>(
          loc, type, in[0], array(a.kernel), array(a.stride), array(a.pad),
          builder_.getBoolAttr(a.ceilMode), builder_.getBoolAttr(a.countPad));
    case OpKind::GlobalAvgPool:
      return builder_.create<nn::GlobalAvgPoolOp>(loc, type, in[0]);
    case OpKind::LRN:
      return builder_.create<nn::LRNOp>(
          loc, type, in[0], builder_.getI64IntegerAttr(a.size),
          builder_.getF64FloatAttr(a.alpha), builder_.getF64FloatAttr(a.beta),
          builder_.getF64FloatAttr(a.k));
    case OpKind::Dropout:
      return builder_.create<nn::DropoutOp>(loc, type, in[0],
                                            builder_.getF64FloatAttr(a.p));
    case OpKind::Relu:
      return builder_.create<nn::ReluOp>(loc, type, in[0]);
    case OpKind::Tanh:
      return builder_.create<nn::TanhOp>(loc, type, in[0]);
    case OpKind::Sigmoid:
      return builder_.create<nn::SigmoidOp>(loc, type, in[0]);
    case OpKind::Softmax:
      return builder_.create<nn::SoftmaxOp>(loc, type, in[0]);
    case OpKind::Flatten:
      return builder_.create<nn::FlattenOp>(loc, type, in[0]);
    case OpKind::Add:
      return builder_.create<nn::AddOp>(loc, type, in[0], in[1]);
    case OpKind::Concat:
      return builder_.create<nn::ConcatOp>(loc, type, in);
    case OpKind::ChannelPad:
      return builder_.create<nn::ChannelPadOp>(
          loc, type, in[0], builder_.getI64IntegerAttr(a.channelPad[0]),
          builder_.getI64IntegerAttr(a.channelPad[1]));
    case OpKind::Input:
      break;
    }
    llvm_unreachable("input nodes are function arguments");
  }

  MLIRContext &context_;
  const Graph &graph_;
  bool inference_;
  OpBuilder builder_;
  std::map<int, Value> values_;
};

} // namespace

OwningOpRef<ModuleOp> mlirGen(MLIRContext &context, const Graph &graph,
                              bool inference) {
  registerDialects(context);
  return Generator(context, graph, inference).run();
}

OwningOpRef<ModuleOp> buildShapedModule(MLIRContext &context,
                                        const Graph &graph, bool inference) {
  OwningOpRef<ModuleOp> module = mlirGen(context, graph, inference);
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(nn::createNNShapeInference());
  if (failed(pm.run(*module)) || failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace netc
