//===- Driver.cpp - netc's pipeline behind one entry point ----------------===//

#include "compiler/Driver.h"

#include "compiler/codegen/ProgramBuilder.h"
#include "compiler/mlirgen/MLIRGen.h"
#include "compiler/passes/Passes.h"
#include "dsl/Frontend.h"
#include "dsl/Summary.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_os_ostream.h"

#include <Halide.h>

namespace netc {

namespace {

/// A model through the front end: the syntax tree, and when asked the
/// elaborated graph.
struct Loaded {
  std::unique_ptr<dsl::SourceFile> source;
  dsl::FileAST ast;
  std::optional<dsl::Graph> graph;
};

bool load(const ModelRequest &model, bool elaborate, std::ostream &err,
          Loaded &out) {
  dsl::DiagnosticEngine diags(err);
  out.source = dsl::loadSource(model.file, diags);
  if (!out.source)
    return false;
  out.ast = dsl::parseSource(*out.source, diags);
  if (diags.hadError())
    return false;
  if (elaborate)
    out.graph = dsl::elaborate(out.ast, diags, model.params);
  return !diags.hadError();
}

/// The nn module of a graph, after the inference passes (dropout removed,
/// batch norm folded, fusion groups) or the training passes (@train
/// appended) when asked.
mlir::OwningOpRef<mlir::ModuleOp>
buildModule(mlir::MLIRContext &context, const dsl::Graph &graph, Form form) {
  auto module = buildShapedModule(context, graph, form == Form::Inference);
  if (!module || form == Form::Nn)
    return module;
  mlir::PassManager pm(&context);
  if (form == Form::Inference)
    nn::buildInferencePipeline(pm);
  else
    nn::buildTrainingPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return nullptr;
  return module;
}

/// An MLIR context whose diagnostics go to `err`.
struct MlirSession {
  explicit MlirSession(std::ostream &err) : errStream(err) {
    errStream.SetUnbuffered();
    // A diagnostic is a message, never a dump of the module it came from.
    context.printOpOnDiagnostic(false);
  }
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  llvm::raw_os_ostream errStream;
  mlir::SourceMgrDiagnosticHandler handler{sourceMgr, &context, errStream};
};

} // namespace

int check(const ModelRequest &model, std::ostream &err) {
  Loaded loaded;
  return load(model, true, err, loaded) ? 0 : 1;
}

int summarize(const ModelRequest &model, bool json, std::ostream &out,
              std::ostream &err) {
  Loaded loaded;
  if (!load(model, true, err, loaded))
    return 1;
  if (json)
    out << dsl::summaryJson(*loaded.graph) << "\n";
  else
    dsl::printSummary(*loaded.graph, out);
  return 0;
}

int emit(const ModelRequest &model, Form form, bool locations,
         std::ostream &out, std::ostream &err) {
  Loaded loaded;
  if (!load(model, form != Form::Ast, err, loaded))
    return 1;
  if (form == Form::Ast) {
    dsl::dumpAST(loaded.ast, out);
    return 0;
  }
  MlirSession session(err);
  auto module = buildModule(session.context, *loaded.graph, form);
  if (!module)
    return 1;
  mlir::OpPrintingFlags flags;
  flags.enableDebugInfo(locations, /*prettyForm=*/false);
  llvm::raw_os_ostream outStream(out);
  module->print(outStream, flags);
  outStream << "\n";
  return 0;
}

int build(const ModelRequest &model, codegen::BuildOptions options,
          std::ostream &err) {
  Loaded loaded;
  if (!load(model, true, err, loaded))
    return 1;
  if (options.training && !loaded.graph->train.present) {
    err << model.file
        << ": error: --train needs a train { … } section naming the loss\n";
    return 1;
  }
  MlirSession session(err);
  auto module = buildModule(session.context, *loaded.graph, Form::Inference);
  if (!module)
    return 1;
  mlir::OwningOpRef<mlir::ModuleOp> trainModule;
  if (options.training) {
    trainModule = buildModule(session.context, *loaded.graph, Form::Training);
    if (!trainModule)
      return 1;
  }
  options.source = model.file;
  try {
    return codegen::buildProgram(*module,
                                 trainModule ? *trainModule : mlir::ModuleOp(),
                                 *loaded.graph, options, err)
               ? 0
               : 1;
  } catch (const Halide::CompileError &e) {
    err << "netc: error: Halide could not compile a kernel: " << e.what()
        << "\n";
  } catch (const Halide::Error &e) {
    err << "netc: error: " << e.what() << "\n";
  }
  return 1;
}

bool isKnownTarget(const std::string &target) {
  return target == "host" || Halide::Target::validate_target_string(target);
}

const char *version() { return NETC_VERSION; }

} // namespace netc
