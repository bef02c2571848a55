//===- ProgramBuilder.cpp - From nn module to standalone program ----------===//
//
// The steps of `netc build`: the plan (Planner.cpp, which compiles the
// kernels), the driver's C++ (DriverEmitter.cpp), and the link (Link.cpp)
// or a project folder (Project.cpp).
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/ProgramBuilder.h"

#include "compiler/codegen/Link.h"
#include "compiler/codegen/Planner.h"
#include "compiler/codegen/Project.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <unistd.h>

namespace netc::codegen {

namespace {

PlanTensor tensor(const std::string &name, const std::vector<int64_t> &shape) {
  PlanTensor t;
  t.name = name;
  t.shape = shape;
  return t;
}

/// What the program knows of the model before any function is planned:
/// its parameters, inputs, outputs and image normalization.
ProgramPlan describeModel(const dsl::Graph &graph, const std::string &source,
                          const Halide::Target &target) {
  ProgramPlan plan;
  plan.model = graph.modelName;
  plan.source = source;
  plan.target = target.to_string();
  plan.netcVersion = NETC_VERSION;
  for (const dsl::Node &node : graph.nodes)
    for (const dsl::ParamTensor &param : node.params) {
      PlanTensor t = tensor(param.name, param.shape);
      t.init = param.init;
      t.fanIn = param.fanIn;
      t.trainable = param.trainable;
      plan.params.push_back(std::move(t));
    }
  for (int id : graph.inputs)
    plan.inputs.push_back(tensor(graph.nodes[id].name, graph.nodes[id].shape));
  for (const dsl::TrainConfig::Augment &a : graph.train.augment)
    if (a.kind == "normalize")
      plan.mean = a.mean, plan.std = a.std;
  for (const dsl::TrainConfig::LossTerm &term : graph.train.loss)
    if (term.negate && !graph.outputs.empty() &&
        term.output == graph.outputs[0].name)
      plan.scoresAreDistances = true;
  for (const dsl::GraphOutput &output : graph.outputs) {
    if (output.auxiliary)
      plan.droppedOutputs.push_back(output.name);
    else
      plan.outputs.push_back(
          tensor(output.name, graph.nodes[output.node].shape));
  }
  return plan;
}

/// Writes the driver and links it into options.output.
bool writeProgram(const ProgramPlan &plan, const Planner &planner,
                  halide::KernelCompiler &compiler, const BuildOptions &options,
                  std::ostream &log) {
  namespace fs = std::filesystem;
  std::string work = options.workDir;
  bool temporary = work.empty();
  std::error_code error;
  if (temporary) {
    char pattern[] = "/tmp/netc-build-XXXXXX";
    if (!mkdtemp(pattern)) {
      log << "netc: error: cannot create a temporary folder\n";
      return false;
    }
    work = pattern;
  } else {
    fs::create_directories(work, error);
  }
  // The program's folder, when it is new.
  fs::path parent = fs::path(options.output).parent_path();
  if (!parent.empty())
    fs::create_directories(parent, error);
  std::string mainFile = work + "/" + plan.model + "_main.cpp";
  std::ofstream(mainFile) << emitDriver(plan);
  if (!linkProgram(mainFile, planner.objects(), compiler.cacheDirectory(),
                   compiler.runtimeObject(), options.output, plan.mpi,
                   options.verbose, log)) {
    if (temporary)
      log << "netc: note: the driver is kept in " << work << "\n";
    return false;
  }
  if (temporary) {
    unlink(mainFile.c_str());
    rmdir(work.c_str());
  }
  log << "netc: wrote " << options.output << "\n";
  return true;
}

} // namespace

bool buildProgram(mlir::ModuleOp module, mlir::ModuleOp trainModule,
                  const dsl::Graph &graph, const BuildOptions &options,
                  std::ostream &log) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>("forward");
  if (!func) {
    log << "netc: error: the module has no @forward function\n";
    return false;
  }
  Halide::Target target = options.target == "host"
                              ? Halide::get_host_target()
                              : Halide::Target(options.target);
  if (options.mpi && target.has_gpu_feature()) {
    log << "netc: error: --mpi: data-parallel training runs on CPUs for now; "
           "build without --target "
        << options.target << " (one process trains on a GPU)\n";
    return false;
  }
  halide::KernelCompiler compiler(
      options.cacheDir.empty() ? halide::KernelCompiler::defaultCacheDir()
                               : options.cacheDir,
      target);

  ProgramPlan plan = describeModel(graph, options.source, target);
  plan.mpi = options.mpi;
  Planner planner(plan, compiler, options.verbose, log);
  auto start = std::chrono::steady_clock::now();
  if (!planner.planFunction(func, plan.forward))
    return false;
  if (trainModule && !planner.planTraining(trainModule, graph))
    return false;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  size_t layers = plan.forward.steps.size() +
                  (plan.training ? plan.train.step.steps.size() : 0);
  log << "netc: " << planner.kernelCount() << " kernels for " << layers
      << " steps (" << planner.compiled() << " compiled, " << planner.cached()
      << " from the cache) in " << std::fixed << std::setprecision(1) << seconds
      << " s\n";

  if (!options.projectDir.empty() &&
      !writeProject(options.projectDir, plan, planner.objects(),
                    compiler.runtimeObject(), compiler.cacheDirectory(), log))
    return false;
  return options.output.empty() ||
         writeProgram(plan, planner, compiler, options, log);
}

} // namespace netc::codegen
