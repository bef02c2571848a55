//===- Autodiff.cpp - The backward graph of a model -----------------------===//
//
// @train = @forward in training mode + losses + gradients, walking the ops
// in reverse and summing gradients where a value has several uses.
//
//===----------------------------------------------------------------------===//

#include "compiler/dialect/NNOps.h"
#include "compiler/passes/GradientRules.h"
#include "compiler/passes/Passes.h"
#include "runtime/Names.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace netc::nn {
#define GEN_PASS_DEF_NNAUTODIFF
#include "compiler/passes/Passes.h.inc"
} // namespace netc::nn

using namespace mlir;
using namespace netc::nn;

namespace {

struct LossTerm {
  unsigned result;  // of @forward
  std::string kind; // cross_entropy, mse
  std::string name;
  double weight;
  bool negate;
};

struct AutodiffPass : netc::nn::impl::NNAutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError("nn-autodiff needs a @forward function");
      return signalPassFailure();
    }
    if (module.lookupSymbol("train")) {
      module.emitError("the module already has a @train function");
      return signalPassFailure();
    }
    std::vector<LossTerm> terms;
    for (unsigned i = 0; i < forward.getNumResults(); ++i) {
      auto kind = forward.getResultAttrOfType<StringAttr>(i, "nn.loss");
      if (!kind)
        continue;
      if (kind.getValue() != "cross_entropy" && kind.getValue() != "mse") {
        forward.emitError() << "loss '" << kind.getValue()
                            << "' is not supported in training yet";
        return signalPassFailure();
      }
      auto name = forward.getResultAttrOfType<StringAttr>(i, "nn.name");
      auto weight = forward.getResultAttrOfType<FloatAttr>(i, "nn.loss_weight");
      terms.push_back({i, kind.str(),
                       name ? name.str() : "output" + std::to_string(i),
                       weight ? weight.getValueAsDouble() : 1.0,
                       forward.getResultAttr(i, "nn.loss_negate") != nullptr});
    }
    if (terms.empty()) {
      forward.emitError("no result of @forward is marked as a loss (nn.loss)");
      return signalPassFailure();
    }
    std::vector<std::string> frozen;
    if (auto list = module->getAttrOfType<ArrayAttr>("nn.freeze"))
      for (Attribute prefix : list)
        frozen.push_back(cast<StringAttr>(prefix).str());
    if (failed(buildTrain(module, forward, terms, frozen)))
      signalPassFailure();
  }

  LogicalResult buildTrain(ModuleOp module, func::FuncOp forward,
                           const std::vector<LossTerm> &terms,
                           const std::vector<std::string> &frozen) {
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    auto labelType =
        RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
    SmallVector<Type> argTypes(forward.getArgumentTypes());
    argTypes.append(terms.size(), labelType);
    auto train = b.create<func::FuncOp>(forward.getLoc(), "train",
                                        b.getFunctionType(argTypes, {}));
    Block *entry = train.addEntryBlock();
    for (unsigned i = 0; i < forward.getNumArguments(); ++i)
      if (Attribute name = forward.getArgAttr(i, "nn.name"))
        train.setArgAttr(i, "nn.name", name);
    for (size_t t = 0; t < terms.size(); ++t)
      train.setArgAttr(forward.getNumArguments() + t, "nn.name",
                       b.getStringAttr("labels:" + terms[t].name));

    // The forward ops, batch norm switched to the batch's statistics.
    IRMapping map;
    for (unsigned i = 0; i < forward.getNumArguments(); ++i)
      map.map(forward.getArgument(i), entry->getArgument(i));
    b.setInsertionPointToEnd(entry);
    SmallVector<Value> results;
    SmallVector<Attribute> names;
    SmallVector<std::pair<std::string, Value>> statistics;
    Value rng; // the dropout masks' seed, step and first sample, if any
    int64_t salt = 0;
    for (Operation &op : forward.getBody().front().without_terminator()) {
      if (auto drop = dyn_cast<DropoutOp>(op)) {
        if (!rng) {
          rng = entry->addArgument(RankedTensorType::get({3}, b.getF32Type()),
                                   drop.getLoc());
          argTypes.push_back(rng.getType());
        }
        Value masked = b.create<DropoutTrainOp>(
            drop.getLoc(), drop.getType(), map.lookup(drop.getInput()), rng,
            drop.getPAttr(), b.getI64IntegerAttr(salt++));
        map.map(drop.getResult(), masked);
        continue;
      }
      Operation *copy = b.clone(op, map);
      if (auto bn = dyn_cast<BatchNormOp>(copy)) {
        auto channels = bn.getRunningMean().getType();
        b.setInsertionPoint(bn);
        Value mean =
            b.create<BatchMeanOp>(bn.getLoc(), channels, bn.getInput());
        Value var =
            b.create<BatchVarOp>(bn.getLoc(), channels, bn.getInput(), mean);
        statistics.push_back({"mean:" + paramName(bn.getRunningMean()), mean});
        statistics.push_back({"var:" + paramName(bn.getRunningVar()), var});
        bn->setOperand(3, mean);
        bn->setOperand(4, var);
        b.setInsertionPointToEnd(entry);
      }
    }
    auto forwardResult = [&](unsigned i) {
      return map.lookup(
          forward.getBody().front().getTerminator()->getOperand(i));
    };

    // Which values depend on a trained parameter.
    DenseSet<Value> active;
    SmallVector<std::pair<std::string, Value>> trained; // definition order
    for (Operation &op : entry->getOperations()) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        std::string name = param.getName().str();
        if (!param.getBuffer() && !netc::rt::underAnyPrefix(name, frozen)) {
          active.insert(param);
          trained.push_back({name, param});
        }
        continue;
      }
      if (isGradientStop(&op))
        continue;
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return active.contains(v); }))
        for (Value result : op.getResults())
          active.insert(result);
    }

    // Losses, and the gradient each contributes to its scores.
    DenseMap<Value, Value> grads;
    auto accumulate = [&](Value value, Value grad, Location loc) {
      auto it = grads.find(value);
      if (it == grads.end()) {
        grads[value] = grad;
        return;
      }
      it->second =
          b.create<AddOp>(loc, value.getType(), it->second, grad).getResult();
    };
    for (size_t t = 0; t < terms.size(); ++t) {
      Value scores = forwardResult(terms[t].result);
      Value labels = entry->getArgument(forward.getNumArguments() + t);
      auto type = cast<RankedTensorType>(scores.getType());
      if (type.getRank() != 2)
        return forward.emitError()
               << "loss output '" << terms[t].name << "' must be [N, classes]";
      Location loc = scores.getDefiningOp() ? scores.getDefiningOp()->getLoc()
                                            : forward.getLoc();
      bool mse = terms[t].kind == "mse";
      if (mse)
        results.push_back(b.create<MseLossOp>(loc, labelType, scores, labels));
      else
        results.push_back(b.create<SoftmaxCrossEntropyOp>(
            loc, labelType, scores, labels, b.getBoolAttr(terms[t].negate)));
      names.push_back(b.getStringAttr("loss:" + terms[t].name));
      if (!active.contains(scores))
        continue;
      Value grad =
          mse ? b.create<MseLossGradOp>(loc, type, scores, labels,
                                        b.getF64FloatAttr(terms[t].weight))
                    .getResult()
              : b.create<SoftmaxCrossEntropyGradOp>(
                     loc, type, scores, labels, b.getBoolAttr(terms[t].negate),
                     b.getF64FloatAttr(terms[t].weight))
                    .getResult();
      accumulate(scores, grad, loc);
    }
    results.push_back(forwardResult(terms[0].result));
    names.push_back(b.getStringAttr("scores:" + terms[0].name));

    // The backward walk.
    SmallVector<Operation *> ops;
    for (Operation &op : entry->getOperations())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops)) {
      if (isa<ParamOp>(op) || op->getNumResults() != 1 || !op->getDialect() ||
          op->getDialect()->getNamespace() != "nn")
        continue;
      auto it = grads.find(op->getResult(0));
      if (it == grads.end())
        continue;
      SmallVector<bool> wanted;
      for (Value operand : op->getOperands())
        wanted.push_back(active.contains(operand));
      if (llvm::none_of(wanted, [](bool w) { return w; }))
        continue;
      FailureOr<SmallVector<Value>> operandGrads =
          emitGradients(b, op, it->second, wanted);
      if (failed(operandGrads))
        return failure();
      for (auto [operand, grad] : llvm::zip(op->getOperands(), *operandGrads))
        if (grad)
          accumulate(operand, grad, op->getLoc());
    }

    for (auto &[name, param] : trained) {
      auto it = grads.find(param);
      if (it == grads.end())
        continue; // reaches no loss
      results.push_back(it->second);
      names.push_back(b.getStringAttr("grad:" + name));
    }
    for (auto &[name, value] : statistics) {
      results.push_back(value);
      names.push_back(b.getStringAttr(name));
    }
    b.create<func::ReturnOp>(train.getLoc(), results);
    train.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
    if (rng)
      train.setArgAttr(cast<BlockArgument>(rng).getArgNumber(), "nn.name",
                       b.getStringAttr("rng"));
    train->setAttr("nn.results", b.getArrayAttr(names));
    return success();
  }

  static std::string paramName(Value value) {
    if (auto param = value.getDefiningOp<ParamOp>())
      return param.getName().str();
    return "?";
  }
};

} // namespace
