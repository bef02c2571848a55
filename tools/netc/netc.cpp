//===- netc.cpp - The netc command line -----------------------------------===//
//
//   netc check   FILE            parse and verify
//   netc summary FILE [--json]   layer table with shapes, parameters, MACs
//   netc emit    FILE --ast|--mlir
//   netc build   FILE -o OUT     a standalone inference program
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/ProgramBuilder.h"
#include "compiler/mlirgen/MLIRGen.h"
#include "compiler/passes/Passes.h"
#include "dsl/Frontend.h"
#include "dsl/Summary.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>
#include <Halide.h>

#include <iostream>

namespace {

constexpr const char *kVersion = "0.1.0";

struct Common {
  std::string file;
  std::vector<std::string> params;
};

void addCommon(CLI::App &cmd, Common &common) {
  cmd.add_option("file", common.file, "Model file (.nn)")->required();
  cmd.add_option("-p,--param", common.params,
                 "Set a model parameter, e.g. -p classes=10 (repeatable)");
}

/// Loads, parses and elaborates; diagnostics go to stderr.
struct Loaded {
  std::unique_ptr<netc::dsl::SourceFile> source;
  netc::dsl::FileAST ast;
  std::optional<netc::dsl::Graph> graph;
};

std::optional<std::map<std::string, std::string>>
parseParams(const std::vector<std::string> &params) {
  std::map<std::string, std::string> overrides;
  for (const std::string &param : params) {
    size_t eq = param.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "netc: error: --param expects NAME=VALUE, got '" << param
                << "'\n";
      return std::nullopt;
    }
    overrides[param.substr(0, eq)] = param.substr(eq + 1);
  }
  return overrides;
}

bool load(const Common &common, bool elaborate, Loaded &out) {
  netc::dsl::DiagnosticEngine diags(std::cerr);
  auto overrides = parseParams(common.params);
  if (!overrides)
    return false;
  out.source = netc::dsl::loadSource(common.file, diags);
  if (!out.source)
    return false;
  out.ast = netc::dsl::parseSource(*out.source, diags);
  if (diags.hadError())
    return false;
  if (elaborate)
    out.graph = netc::dsl::elaborate(out.ast, diags, *overrides);
  return !diags.hadError();
}

enum class Passes { None, Inference, Training };

/// The nn module of a graph, after the inference passes (dropout removed,
/// batch norm folded, fusion groups) or the training passes (@train
/// appended) when asked.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const netc::dsl::Graph &graph,
                                              Passes passes) {
  auto module =
      netc::buildShapedModule(context, graph, passes == Passes::Inference);
  if (!module || passes == Passes::None)
    return module;
  mlir::PassManager pm(&context);
  if (passes == Passes::Inference)
    netc::nn::buildInferencePipeline(pm);
  else
    netc::nn::buildTrainingPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return nullptr;
  return module;
}

int runEmitMlir(const netc::dsl::Graph &graph, Passes passes, bool locations) {
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  auto module = buildModule(context, graph, passes);
  if (!module)
    return 1;
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(locations, /*prettyForm=*/false);
  module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"netc: compiles neural networks written in the .nn language "
               "into standalone programs"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.footer("Run 'netc COMMAND --help' for the options of a command.");

  Common checkArgs, summaryArgs, emitArgs;
  CLI::App *check =
      app.add_subcommand("check", "Parse and verify a model; exit 0 if valid");
  addCommon(*check, checkArgs);

  CLI::App *summary = app.add_subcommand(
      "summary", "Print each layer's output shape, parameters and "
                 "multiply-adds, with totals");
  addCommon(*summary, summaryArgs);
  bool json = false;
  summary->add_flag("--json", json, "Print one JSON object instead of a table");

  CLI::App *emit =
      app.add_subcommand("emit", "Print an intermediate form of the model");
  addCommon(*emit, emitArgs);
  bool ast = false, mlir = false, locations = false, inference = false,
       training = false;
  auto *astFlag = emit->add_flag("--ast", ast, "The syntax tree");
  auto *mlirFlag = emit->add_flag(
      "--mlir", mlir, "The nn dialect module after shape inference");
  astFlag->excludes(mlirFlag);
  emit->add_flag("--locations", locations,
                 "With --mlir: print source locations (layer names and "
                 "file:line:col)");
  auto *inferenceFlag = emit->add_flag(
      "--inference", inference,
      "With --mlir: after the inference passes (dropout removed, batch norm "
      "folded, fusion groups marked)");
  emit->add_flag("--train", training,
                 "With --mlir: after the training passes (the backward graph "
                 "appended as @train)")
      ->excludes(inferenceFlag);
  emit->callback([&] {
    if (!ast && !mlir)
      throw CLI::ValidationError("emit", "one of --ast or --mlir is required");
  });

  Common buildArgs;
  netc::codegen::BuildOptions buildOptions;
  CLI::App *build = app.add_subcommand(
      "build", "Compile the model into a standalone inference program, or "
               "with --train a training program");
  addCommon(*build, buildArgs);
  auto *outputOption = build->add_option("-o,--output", buildOptions.output,
                                         "The program to write");
  auto *projectOption = build->add_option(
      "--emit-project", buildOptions.projectDir,
      "Also (or instead) write a folder with the sources, kernel objects and "
      "a CMakeLists.txt that builds the program with a C++ compiler alone");
  build->callback([&] {
    if (outputOption->count() == 0 && projectOption->count() == 0)
      throw CLI::ValidationError("build",
                                 "-o OUT or --emit-project DIR is required");
  });
  build
      ->add_option("--target", buildOptions.target,
                   "Halide target, e.g. x86-64-linux-avx2-fma (default: host)")
      ->check([](const std::string &target) {
        return target == "host" ||
                       Halide::Target::validate_target_string(target)
                   ? std::string()
                   : "unknown Halide target '" + target + "'";
      });
  build->add_option("--cache", buildOptions.cacheDir,
                    "Kernel cache folder (default: $NETC_CACHE_DIR, else "
                    "~/.cache/netc)");
  build->add_option("--keep", buildOptions.workDir,
                    "Keep the generated driver source in this folder");
  bool trainProgram = false;
  build->add_flag("--train", trainProgram,
                  "Build a training program: `OUT train` runs the train "
                  "section, and infer, eval, bench and info work as in "
                  "inference programs");
  build->add_flag("-v,--verbose", buildOptions.verbose,
                  "Print each kernel and the compiler command");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  Loaded loaded;
  if (*build) {
    if (!load(buildArgs, true, loaded))
      return 1;
    mlir::MLIRContext context;
    llvm::SourceMgr sourceMgr;
    mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
    auto module = buildModule(context, *loaded.graph, Passes::Inference);
    if (!module)
      return 1;
    mlir::OwningOpRef<mlir::ModuleOp> trainModule;
    if (trainProgram) {
      if (!loaded.graph->train.present) {
        std::cerr << buildArgs.file
                  << ": error: --train needs a train { … } section naming "
                     "the loss\n";
        return 1;
      }
      trainModule = buildModule(context, *loaded.graph, Passes::Training);
      if (!trainModule)
        return 1;
    }
    buildOptions.source = buildArgs.file;
    try {
      return netc::codegen::buildProgram(
                 *module, trainModule ? *trainModule : mlir::ModuleOp(),
                 *loaded.graph, buildOptions, std::cerr)
                 ? 0
                 : 1;
    } catch (const Halide::CompileError &e) {
      std::cerr << "netc: error: Halide could not compile a kernel: "
                << e.what() << "\n";
    } catch (const Halide::Error &e) {
      std::cerr << "netc: error: " << e.what() << "\n";
    }
    return 1;
  }
  if (*check) {
    return load(checkArgs, true, loaded) ? 0 : 1;
  }
  if (*summary) {
    if (!load(summaryArgs, true, loaded))
      return 1;
    if (json)
      std::cout << netc::dsl::summaryJson(*loaded.graph) << "\n";
    else
      netc::dsl::printSummary(*loaded.graph, std::cout);
    return 0;
  }
  if (*emit) {
    if (!load(emitArgs, mlir, loaded))
      return 1;
    if (ast) {
      netc::dsl::dumpAST(loaded.ast, std::cout);
      return 0;
    }
    return runEmitMlir(*loaded.graph,
                       inference  ? Passes::Inference
                       : training ? Passes::Training
                                  : Passes::None,
                       locations);
  }
  return 2;
}
