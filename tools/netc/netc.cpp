//===- netc.cpp - The netc command line -----------------------------------===//
//
//   netc check   FILE            parse and verify
//   netc summary FILE [--json]   layer table with shapes, parameters, MACs
//   netc emit    FILE --ast|--mlir
//   netc build   FILE -o OUT     a standalone inference program (--train:
//                                a training program)
//
// The tool only parses flags; the pipeline is compiler/Driver.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

namespace {

struct Common {
  std::string file;
  std::vector<std::string> params;
};

void addCommon(CLI::App &cmd, Common &common) {
  cmd.add_option("file", common.file, "Model file (.nn)")->required();
  cmd.add_option("-p,--param", common.params,
                 "Set a model parameter, e.g. -p classes=10 (repeatable)");
}

/// The model file and its -p NAME=VALUE settings.
std::optional<netc::ModelRequest> request(const Common &common) {
  netc::ModelRequest model;
  model.file = common.file;
  for (const std::string &param : common.params) {
    size_t eq = param.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "netc: error: --param expects NAME=VALUE, got '" << param
                << "'\n";
      return std::nullopt;
    }
    model.params[param.substr(0, eq)] = param.substr(eq + 1);
  }
  return model;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"netc: compiles neural networks written in the .nn language "
               "into standalone programs"};
  app.set_version_flag("--version", netc::version());
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
        return netc::isKnownTarget(target)
                   ? std::string()
                   : "unknown Halide target '" + target + "'";
      });
  build->add_option("--cache", buildOptions.cacheDir,
                    "Kernel cache folder (default: $NETC_CACHE_DIR, else "
                    "~/.cache/netc)");
  build->add_option("--keep", buildOptions.workDir,
                    "Keep the generated driver source in this folder");
  build->add_flag("--train", buildOptions.training,
                  "Build a training program: `OUT train` runs the train "
                  "section, and infer, eval, bench and info work as in "
                  "inference programs");
  build
      ->add_flag("--mpi", buildOptions.mpi,
                 "With --train: link Open MPI, so that `mpirun -np N OUT train "
                 "...` trains data-parallel over N processes (docs/"
                 "distributed.md)")
      ->needs("--train");
  build->add_flag("-v,--verbose", buildOptions.verbose,
                  "Print each kernel and the compiler command");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  const Common &common = *build     ? buildArgs
                         : *check   ? checkArgs
                         : *summary ? summaryArgs
                                    : emitArgs;
  std::optional<netc::ModelRequest> model = request(common);
  if (!model)
    return 1;
  if (*build)
    return netc::build(*model, buildOptions, std::cerr);
  if (*check)
    return netc::check(*model, std::cerr);
  if (*summary)
    return netc::summarize(*model, json, std::cout, std::cerr);
  netc::Form form = ast         ? netc::Form::Ast
                    : inference ? netc::Form::Inference
                    : training  ? netc::Form::Training
                                : netc::Form::Nn;
  return netc::emit(*model, form, locations, std::cout, std::cerr);
}
