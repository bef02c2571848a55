//===- Planner.cpp - From the nn module to a program plan -----------------===//

#include "compiler/codegen/Planner.h"

#include "compiler/dialect/NNOps.h"

#include "llvm/ADT/STLExtras.h"

namespace netc::codegen {

namespace {

using Kind = TensorRef::Kind;

std::vector<int64_t> perSample(mlir::Value value) {
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  return {type.getShape().begin() + 1, type.getShape().end()};
}

std::vector<int64_t> fullShapeOf(mlir::Value value) {
  return mlir::cast<mlir::RankedTensorType>(value.getType()).getShape().vec();
}

bool batchedValue(mlir::Value value) {
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  return type.getRank() > 0 && type.isDynamicDim(0);
}

std::string layerName(mlir::Operation *op) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(op->getLoc()))
    return name.getName().str();
  return op->getName().stripDialect().str();
}

bool isLoss(mlir::Operation *op) {
  return mlir::isa<nn::SoftmaxCrossEntropyOp, nn::MseLossOp>(op);
}

} // namespace

Planner::Planner(ProgramPlan &plan, halide::KernelCompiler &compiler,
                 bool verbose, std::ostream &log)
    : plan_(plan), compiler_(compiler), verbose_(verbose), log_(log) {
  for (size_t i = 0; i < plan.params.size(); ++i)
    paramIndex_[plan.params[i].name] = i;
}

std::string Planner::compileKernel(const std::string &key,
                                   halide::LoweredOp &lowered) {
  auto it = kernels_.find(key);
  if (it == kernels_.end()) {
    halide::Schedule schedule =
        halide::defaultSchedule(lowered, compiler_.target(), batch_);
    halide::CompiledKernel kernel = compiler_.compile(lowered, key, schedule);
    (kernel.fromCache ? cached_ : compiled_)++;
    if (verbose_)
      log_ << "netc: " << (kernel.fromCache ? "cached   " : "compiled ")
           << kernel.symbol << "\n";
    objects_.push_back(kernel.object);
    plan_.kernelHeaders.push_back(
        kernel.header.substr(kernel.header.rfind('/') + 1));
    it = kernels_.emplace(key, kernel).first;
  }
  return it->second.symbol;
}

bool Planner::planFunction(mlir::func::FuncOp func, FunctionPlan &fplan) {
  std::map<mlir::Value, TensorRef, bool (*)(mlir::Value, mlir::Value)> refs(
      [](mlir::Value a, mlir::Value b) {
        return a.getAsOpaquePointer() < b.getAsOpaquePointer();
      });
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    refs[arg] = TensorRef::of(Kind::Input, i);
  // Unbatched results that the function returns are written in place.
  mlir::Operation *ret = func.getBody().front().getTerminator();
  std::map<mlir::Operation *, TensorRef> writesResult;
  for (auto [i, value] : llvm::enumerate(ret->getOperands()))
    if (!batchedValue(value) && value.getDefiningOp() &&
        !mlir::isa<nn::ParamOp>(value.getDefiningOp()) &&
        !writesResult.count(value.getDefiningOp()))
      writesResult[value.getDefiningOp()] = TensorRef::of(Kind::Output, i);
  // Fusion groups (nn-fuse-epilogues) become one kernel each, emitted where
  // their last op stands: by then every tensor they read exists. The group
  // is named after its first op's layer, and so are the backward steps of
  // all its ops.
  std::map<int64_t, llvm::SmallVector<mlir::Operation *>> groups;
  std::map<std::string, std::string> groupLayer;
  func.walk([&](mlir::Operation *op) {
    if (auto id = op->getAttrOfType<mlir::IntegerAttr>("nn.group")) {
      groups[id.getInt()].push_back(op);
      groupLayer.emplace(layerName(op), layerName(groups[id.getInt()].front()));
    }
  });
  auto describe = [&](mlir::Value value) {
    return !batchedValue(value) ? fullShape(fullShapeOf(value))
                                : batchedShape(perSample(value));
  };

  bool backward = false;
  for (mlir::Operation &operation : func.getBody().front()) {
    mlir::Operation *op = &operation;
    if (mlir::isa<mlir::func::ReturnOp>(op))
      continue;
    if (auto param = mlir::dyn_cast<nn::ParamOp>(op)) {
      // By name: passes may have removed parameters that no output needs.
      auto it = paramIndex_.find(param.getName().str());
      if (it == paramIndex_.end()) {
        log_ << "netc: error: parameter '" << param.getName().str()
             << "' is not in the model\n";
        return false;
      }
      refs[op->getResult(0)] = TensorRef::of(Kind::Param, it->second);
      plan_.params[it->second].used = true;
      continue;
    }
    // In @train, what follows the first loss differentiates the layers.
    backward |= isLoss(op);
    llvm::SmallVector<mlir::Operation *> ops = {op};
    if (auto id = op->getAttrOfType<mlir::IntegerAttr>("nn.group")) {
      if (groups[id.getInt()].back() != op)
        continue; // computed inside the group's kernel
      ops = groups[id.getInt()];
    }
    mlir::Operation *root = ops.front();

    PlanStep step;
    step.layer = layerName(root);
    if (auto group = groupLayer.find(step.layer); group != groupLayer.end())
      step.layer = group->second;
    step.pass = isLoss(root) ? PlanStep::Pass::Loss
                : backward   ? PlanStep::Pass::Backward
                             : PlanStep::Pass::Forward;
    step.op = root->getName().stripDialect().str();
    for (mlir::Operation *tail : llvm::ArrayRef(ops).drop_front())
      step.op += "+" + tail->getName().stripDialect().str();
    // The kernel's arguments: the root's operands, then what each tail op
    // adds (a residual, batch-norm parameters), as lowerGroup expects.
    mlir::Value chain = root->getResult(0);
    std::vector<mlir::Value> operands(root->getOperands().begin(),
                                      root->getOperands().end());
    for (mlir::Operation *tail : llvm::ArrayRef(ops).drop_front()) {
      for (mlir::Value operand : tail->getOperands())
        if (operand != chain)
          operands.push_back(operand);
      chain = tail->getResult(0);
    }
    for (mlir::Value operand : operands) {
      step.args.push_back(refs.at(operand));
      step.argShapes.push_back(describe(operand));
    }
    bool prepare = llvm::all_of(
        step.args, [](const TensorRef &ref) { return ref.fromParams(); });
    step.shape = prepare || !batchedValue(op->getResult(0))
                     ? fullShapeOf(op->getResult(0))
                     : perSample(op->getResult(0));
    step.batched = prepare || batchedValue(op->getResult(0));
    if (mlir::isa<nn::DropoutOp>(op)) {
      step.kind = PlanStep::Kind::Alias;
    } else if (mlir::isa<nn::FlattenOp, nn::ReshapeOp>(op)) {
      step.kind = PlanStep::Kind::Reshape;
    } else {
      if (mlir::isa<nn::Conv2DOp>(root) && halide::convUsesPackedWeight(root)) {
        // The kernel reads its weight packed, prepared once at load time.
        mlir::Value weight = root->getOperand(1);
        PlanStep pack;
        pack.layer = step.layer;
        pack.op = "pack";
        pack.args = {refs.at(weight)};
        pack.argShapes = {step.argShapes[1]};
        halide::LoweredOp lowered = halide::lowerWeightPack(weight);
        pack.shape = lowered.outputShape;
        pack.symbol = compileKernel(halide::packKey(weight), lowered);
        pack.result = TensorRef::of(Kind::Prepared, fplan.prepareSteps.size());
        step.args[1] = pack.result;
        fplan.prepareSteps.push_back(std::move(pack));
      }
      halide::LoweredOp lowered = halide::lowerGroup(ops);
      step.symbol = compileKernel(halide::kernelKey(ops), lowered);
      if (!lowered.outputView.empty())
        step.resultView.assign(lowered.outputView.begin() + 1,
                               lowered.outputView.end());
      for (const std::vector<int64_t> &view : lowered.argViews)
        step.argViews.push_back(
            view.empty() ? view
                         : std::vector<int64_t>(view.begin() + 1, view.end()));
    }
    if (prepare) {
      step.result = TensorRef::of(Kind::Prepared, fplan.prepareSteps.size());
      refs[op->getResult(0)] = step.result;
      fplan.prepareSteps.push_back(std::move(step));
      continue;
    }
    auto result = writesResult.find(op);
    step.result = result != writesResult.end()
                      ? result->second
                      : TensorRef::of(Kind::Temp, fplan.steps.size());
    refs[op->getResult(0)] = step.result;
    fplan.steps.push_back(std::move(step));
  }
  for (mlir::Value value : ret->getOperands())
    fplan.results.push_back(refs.at(value));
  planMemory(fplan);
  return true;
}

bool Planner::planTraining(mlir::ModuleOp module, const dsl::Graph &graph) {
  auto train = module.lookupSymbol<mlir::func::FuncOp>("train");
  auto names = train ? train->getAttrOfType<mlir::ArrayAttr>("nn.results")
                     : mlir::ArrayAttr();
  if (!names) {
    log_ << "netc: error: the module has no @train function (nn-autodiff)\n";
    return false;
  }
  plan_.training = true;
  TrainPlan &tp = plan_.train;
  // Training steps run on batches: kernels with little work per sample
  // still spread over threads.
  batch_ = std::max<int64_t>(1, graph.train.batch);
  if (!planFunction(train, tp.step))
    return false;
  // nn-autodiff names each result "KIND:NAME"; from here on they are typed.
  static const std::pair<const char *, ResultKind> kinds[] = {
      {"loss", ResultKind::Loss},
      {"scores", ResultKind::Scores},
      {"grad", ResultKind::Gradient},
      {"mean", ResultKind::BatchMean},
      {"var", ResultKind::BatchVar}};
  for (auto [i, attr] : llvm::enumerate(names)) {
    std::string name = mlir::cast<mlir::StringAttr>(attr).str();
    size_t colon = name.find(':');
    TrainResult result;
    auto kind = llvm::find_if(kinds, [&](const auto &k) {
      return name.compare(0, colon, k.first) == 0;
    });
    if (colon == std::string::npos || kind == std::end(kinds)) {
      log_ << "netc: error: @train has a result named '" << name
           << "', not KIND:NAME\n";
      return false;
    }
    result.kind = kind->second;
    result.of = name.substr(colon + 1);
    if (result.kind != ResultKind::Loss && result.kind != ResultKind::Scores) {
      auto param = paramIndex_.find(result.of);
      if (param == paramIndex_.end()) {
        log_ << "netc: error: @train's result '" << name
             << "' names no parameter of the model\n";
        return false;
      }
      result.param = int(param->second);
    }
    mlir::Value value = train.getBody().front().getTerminator()->getOperand(i);
    result.shape = batchedValue(value) ? perSample(value) : fullShapeOf(value);
    tp.results.push_back(std::move(result));
  }
  for (unsigned i = 0; i < train.getNumArguments(); ++i)
    if (auto name = train.getArgAttrOfType<mlir::StringAttr>(i, "nn.name"))
      tp.takesRng |= name.getValue() == "rng";
  for (const dsl::TrainConfig::LossTerm &term : graph.train.loss)
    tp.lossWeights.push_back(term.weight);
  // Running statistics: each batch norm's momentum and per-sample count.
  for (const dsl::Node &node : graph.nodes)
    if (node.op == dsl::OpKind::BatchNorm && node.params.size() == 4) {
      int64_t perSample = 1;
      for (size_t d = 1; d < node.shape.size(); ++d)
        perSample *= node.shape[d];
      for (size_t i = 2; i < 4; ++i)
        tp.runningStats.push_back(
            {node.params[i].name, node.attrs.momentum, perSample});
    }
  halide::LoweredOp update = halide::lowerOptimizer(graph.train.optimizer);
  tp.optimizer.kind = graph.train.optimizer;
  tp.optimizer.symbol =
      compileKernel("optimizer " + graph.train.optimizer, update);
  tp.optimizer.states = int(update.args.size()) - 2;
  for (const Halide::Param<float> &scalar : update.scalars)
    tp.optimizer.scalars.push_back(scalar.name());
  tp.settings = graph.train;
  return true;
}

} // namespace netc::codegen
