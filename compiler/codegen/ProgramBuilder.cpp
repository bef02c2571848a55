//===- ProgramBuilder.cpp - From nn module to standalone program ----------===//

#include "compiler/codegen/ProgramBuilder.h"

#include "compiler/codegen/Plan.h"
#include "compiler/dialect/NNOps.h"
#include "compiler/halide/KernelCompiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLExtras.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace netc::codegen {

namespace {

std::vector<int64_t> perSample(mlir::Value value) {
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  return {type.getShape().begin() + 1, type.getShape().end()};
}

std::string layerName(mlir::Operation *op) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(op->getLoc()))
    return name.getName().str();
  return op->getName().stripDialect().str();
}

std::string shellQuote(const std::string &text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

} // namespace

bool buildProgram(mlir::ModuleOp module, const dsl::Graph &graph,
                  const BuildOptions &options, std::ostream &log) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>("forward");
  if (!func) {
    log << "netc: error: the module has no @forward function\n";
    return false;
  }
  Halide::Target target = options.target == "host"
                              ? Halide::get_host_target()
                              : Halide::Target(options.target);
  halide::KernelCompiler compiler(options.cacheDir.empty()
                                      ? halide::KernelCompiler::defaultCacheDir()
                                      : options.cacheDir,
                                  target);

  ProgramPlan plan;
  plan.model = graph.modelName;
  plan.source = options.source;
  plan.target = target.to_string();
  plan.netcVersion = "0.1.0";
  std::map<std::string, size_t> paramIndex;
  for (const dsl::Node &node : graph.nodes)
    for (const dsl::ParamTensor &param : node.params) {
      paramIndex[param.name] = plan.params.size();
      plan.params.push_back({param.name, param.shape});
    }
  for (int id : graph.inputs)
    plan.inputs.push_back({graph.nodes[id].name, graph.nodes[id].shape});
  for (const dsl::GraphOutput &output : graph.outputs)
    plan.outputs.push_back({output.name, graph.nodes[output.node].shape});

  std::map<mlir::Value, std::string, bool (*)(mlir::Value, mlir::Value)> refs(
      [](mlir::Value a, mlir::Value b) {
        return a.getAsOpaquePointer() < b.getAsOpaquePointer();
      });
  for (auto [i, arg] : llvm::enumerate(func.getArguments()))
    refs[arg] = "in[" + std::to_string(i) + "]";

  std::vector<std::string> objects;
  std::map<std::string, halide::CompiledKernel> kernels; // by key
  int temps = 0, compiled = 0, cached = 0;
  auto start = std::chrono::steady_clock::now();
  // Compiles a kernel unless one with the same key was already compiled in
  // this build; returns its symbol.
  auto compileKernel = [&](const std::string &key,
                           halide::LoweredOp &lowered) -> std::string {
    auto it = kernels.find(key);
    if (it == kernels.end()) {
      halide::Schedule schedule = halide::defaultSchedule(lowered, target);
      halide::CompiledKernel kernel = compiler.compile(lowered, key, schedule);
      (kernel.fromCache ? cached : compiled)++;
      if (options.verbose)
        log << "netc: " << (kernel.fromCache ? "cached   " : "compiled ")
            << kernel.symbol << "\n";
      objects.push_back(kernel.object);
      plan.kernelHeaders.push_back(
          kernel.header.substr(kernel.header.rfind('/') + 1));
      it = kernels.emplace(key, kernel).first;
    }
    return it->second.symbol;
  };
  // Fusion groups (nn-fuse-epilogues) become one kernel each, emitted where
  // their last op stands: by then every tensor they read exists.
  std::map<int64_t, llvm::SmallVector<mlir::Operation *>> groups;
  func.walk([&](mlir::Operation *op) {
    if (auto id = op->getAttrOfType<mlir::IntegerAttr>("nn.group"))
      groups[id.getInt()].push_back(op);
  });
  // Operations on parameters alone run once, in prepare().
  auto isPrepared = [&](mlir::Value value) {
    const std::string &ref = refs.at(value);
    return ref[0] == 'p' || ref[0] == 'q';
  };
  auto describe = [&](mlir::Value value) {
    auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
    return isPrepared(value) ? fullShape(type.getShape().vec())
                             : batchedShape(perSample(value));
  };

  for (mlir::Operation &operation : func.getBody().front()) {
    mlir::Operation *op = &operation;
    if (mlir::isa<mlir::func::ReturnOp>(op))
      continue;
    if (auto param = mlir::dyn_cast<nn::ParamOp>(op)) {
      // By name: passes may have removed parameters that no output needs.
      auto it = paramIndex.find(param.getName().str());
      if (it == paramIndex.end()) {
        log << "netc: error: parameter '" << param.getName().str()
            << "' is not in the model\n";
        return false;
      }
      refs[op->getResult(0)] = "p[" + std::to_string(it->second) + "]";
      continue;
    }
    llvm::SmallVector<mlir::Operation *> ops = {op};
    if (auto id = op->getAttrOfType<mlir::IntegerAttr>("nn.group")) {
      if (groups[id.getInt()].back() != op)
        continue; // computed inside the group's kernel
      ops = groups[id.getInt()];
    }
    mlir::Operation *root = ops.front();

    PlanStep step;
    step.layer = layerName(root);
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
    bool prepare = llvm::all_of(operands, isPrepared);
    step.shape = prepare ? mlir::cast<mlir::RankedTensorType>(
                               op->getResult(0).getType())
                               .getShape()
                               .vec()
                         : perSample(op->getResult(0));

    if (mlir::isa<nn::DropoutOp>(op)) {
      step.kind = PlanStep::Kind::Alias;
    } else if (mlir::isa<nn::FlattenOp>(op)) {
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
        pack.result = "q[" + std::to_string(plan.prepareSteps.size()) + "]";
        step.args[1] = pack.result;
        plan.prepareSteps.push_back(std::move(pack));
      }
      halide::LoweredOp lowered = halide::lowerGroup(ops);
      step.symbol = compileKernel(halide::kernelKey(ops), lowered);
    }
    if (prepare) {
      step.result = "q[" + std::to_string(plan.prepareSteps.size()) + "]";
      refs[op->getResult(0)] = step.result;
      plan.prepareSteps.push_back(std::move(step));
      continue;
    }
    step.result = "t" + std::to_string(temps++);
    refs[op->getResult(0)] = step.result;
    plan.steps.push_back(std::move(step));
  }
  mlir::Operation *ret = func.getBody().front().getTerminator();
  for (mlir::Value value : ret->getOperands())
    plan.outputRefs.push_back(refs.at(value));
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  log << "netc: " << kernels.size() << " kernels for " << plan.steps.size()
      << " layers (" << compiled << " compiled, " << cached
      << " from the cache) in " << std::fixed << std::setprecision(1)
      << seconds << " s\n";

  // The driver and the link.
  std::string work = options.workDir;
  bool temporary = work.empty();
  if (temporary) {
    char pattern[] = "/tmp/netc-build-XXXXXX";
    if (!mkdtemp(pattern)) {
      log << "netc: error: cannot create a temporary folder\n";
      return false;
    }
    work = pattern;
  } else {
    mkdir(work.c_str(), 0755);
  }
  std::string mainFile = work + "/" + plan.model + "_main.cpp";
  std::ofstream(mainFile) << emitDriver(plan);

  const char *cxx = std::getenv("CXX");
  std::string command = std::string(cxx && *cxx ? cxx : "c++") +
                        " -std=c++17 -O2 -I" + shellQuote(compiler.cacheDirectory()) +
                        " -I" + shellQuote(NETC_RUNTIME_INCLUDE_DIR) +
                        " -isystem " + shellQuote(NETC_HALIDE_INCLUDE_DIR) + " " +
                        shellQuote(mainFile);
  for (const std::string &object : objects)
    command += " " + shellQuote(object);
  command += " " + shellQuote(compiler.runtimeObject()) + " " +
             shellQuote(NETC_RUNTIME_LIBRARY) + " -lpthread -ldl -lm -o " +
             shellQuote(options.output);
  if (options.verbose)
    log << "netc: " << command << "\n";
  int status = std::system(command.c_str());
  if (temporary && status == 0) {
    unlink(mainFile.c_str());
    rmdir(work.c_str());
  }
  if (status != 0) {
    log << "netc: error: the C++ compiler failed (exit "
        << (WIFEXITED(status) ? WEXITSTATUS(status) : status) << ")"
        << (temporary ? "; the driver is kept in " + work : "") << "\n";
    return false;
  }
  log << "netc: wrote " << options.output << "\n";
  return true;
}

} // namespace netc::codegen
