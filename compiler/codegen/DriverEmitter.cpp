//===- DriverEmitter.cpp - The generated program's C++ --------------------===//
//
// The output should read like a careful person wrote it: one call per layer
// in model order, each with the layer's name and shapes in a comment.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Plan.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace netc::codegen {

namespace {

std::string shapeList(const std::vector<int64_t> &shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text;
}

} // namespace

std::string batchedShape(const std::vector<int64_t> &shape) {
  return "[N" + std::string(shape.empty() ? "" : ", ") + shapeList(shape) + "]";
}

std::string fullShape(const std::vector<int64_t> &shape) {
  return "[" + shapeList(shape) + "]";
}

std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

namespace {

void emitTensors(std::ostringstream &os, const char *field,
                 const std::vector<PlanTensor> &tensors, bool params = false) {
  os << "  spec." << field << " = {\n";
  for (const PlanTensor &t : tensors) {
    os << "      {" << quoted(t.name) << ", {" << shapeList(t.shape) << "}";
    if (params)
      os << ", /*unused=*/" << (t.used ? "false" : "true") << ", "
         << quoted(t.init) << ", /*fanIn=*/" << t.fanIn << ", /*trainable=*/"
         << (t.trainable ? "true" : "false");
    os << "},\n";
  }
  os << "  };\n";
}

/// For each step, the earlier steps whose results it reads.
std::vector<std::vector<int>> stepReads(const FunctionPlan &f) {
  std::map<std::string, int> writer;
  std::vector<std::vector<int>> reads(f.steps.size());
  for (size_t k = 0; k < f.steps.size(); ++k) {
    for (const std::string &arg : f.steps[k].args) {
      auto it = writer.find(arg);
      if (it != writer.end() && std::find(reads[k].begin(), reads[k].end(),
                                          it->second) == reads[k].end())
        reads[k].push_back(it->second);
    }
    writer[f.steps[k].result] = int(k);
  }
  return reads;
}

/// The step that writes each of the function's results (-1: none).
std::vector<int> resultSteps(const FunctionPlan &f) {
  std::vector<int> steps;
  for (const std::string &ref : f.outputRefs) {
    int writer = -1;
    for (size_t k = 0; k < f.steps.size(); ++k)
      if (f.steps[k].result == ref)
        writer = int(k);
    steps.push_back(writer);
  }
  return steps;
}

/// Steps that every result but parameter gradients depends on: they always
/// run.
std::vector<bool> alwaysNeeded(const FunctionPlan &f,
                               const std::vector<std::string> &results) {
  std::vector<std::vector<int>> reads = stepReads(f);
  std::vector<int> writers = resultSteps(f), pending;
  for (size_t r = 0; r < results.size(); ++r)
    if (results[r].rfind("grad:", 0) != 0 && writers[r] >= 0)
      pending.push_back(writers[r]);
  std::vector<bool> always(f.steps.size());
  while (!pending.empty()) {
    int k = pending.back();
    pending.pop_back();
    if (always[k])
      continue;
    always[k] = true;
    pending.insert(pending.end(), reads[k].begin(), reads[k].end());
  }
  return always;
}

/// `prepareName(p, q)`: the steps on parameters alone; `runName(p, q, in,
/// out)`: the steps of one run over a batch. With `always` (training), the
/// other kernels run only when `needed` says so.
void emitFunction(std::ostringstream &os, const char *prepareName,
                  const char *runName, const FunctionPlan &f,
                  const char *prepareComment, const char *runComment,
                  const std::vector<bool> &always = {}) {
  os << prepareComment << "static void " << prepareName
     << "(std::vector<Buffer> &p, std::vector<Buffer> &q) {\n"
     << "  q.clear();\n";
  for (const PlanStep &step : f.prepareSteps) {
    os << "  // " << step.layer << ": " << step.op << " " << step.argShapes[0]
       << " -> " << fullShape(step.shape) << "\n"
       << "  q.push_back(makeBuffer({" << shapeList(step.shape) << "}));\n"
       << "  run(" << quoted(step.layer) << ", " << quoted(step.op) << ", "
       << step.symbol;
    for (const std::string &arg : step.args)
      os << ", " << arg;
    os << ", " << step.result << ");\n";
  }
  os << "}\n\n"
     << runComment << "static void " << runName
     << "(std::vector<Buffer> &p, std::vector<Buffer> &q,\n"
     << std::string(13 + std::string(runName).size(), ' ')
     << "std::vector<Buffer> &in, std::vector<Buffer> &out"
     << (always.empty()
             ? ""
             : ",\n" + std::string(13 + std::string(runName).size(), ' ') +
                   "const std::vector<bool> &needed")
     << ") {\n"
     << "  const int64_t N = in[0].dim(in[0].dimensions() - 1).extent();\n\n"
     << "  // Activations share one arena by liveness: "
     << f.arenaFloatsPerSample << " floats per sample\n"
     << "  // (" << f.unplannedFloatsPerSample << " without sharing).\n"
     << "  float *arena = netc::rt::arena(N * "
     << std::max<int64_t>(f.arenaFloatsPerSample, 1) << ");\n";
  for (size_t k = 0; k < f.steps.size(); ++k) {
    const PlanStep &step = f.steps[k];
    os << "\n  // " << step.layer << ": " << step.op << " ";
    for (size_t i = 0; i < step.argShapes.size(); ++i)
      os << (i ? ", " : "") << step.argShapes[i];
    os << " -> "
       << (step.batched ? batchedShape(step.shape) : fullShape(step.shape))
       << "\n";
    switch (step.kind) {
    case PlanStep::Kind::Alias:
      os << "  Buffer " << step.result << " = " << step.args[0]
         << "; // the identity in inference\n";
      break;
    case PlanStep::Kind::Reshape:
      os << "  Buffer " << step.result << " = netc::rt::reshape("
         << step.args[0] << ", {" << shapeList(step.shape) << "}, N);\n";
      break;
    case PlanStep::Kind::Kernel:
      if (step.batched)
        os << "  Buffer " << step.result << " = view(arena + N * "
           << step.arenaOffset << ", {" << shapeList(step.shape) << "}, N);\n";
      else if (step.result.rfind("out[", 0) != 0)
        os << "  Buffer " << step.result << " = makeBuffer({"
           << shapeList(step.shape) << "});\n";
      if (!always.empty() && !always[k])
        os << "  if (needed[" << k << "])\n  ";
      os << "  run(" << quoted(step.layer) << ", " << quoted(step.op) << ", "
         << step.symbol;
      for (size_t i = 0; i < step.args.size(); ++i) {
        if (i < step.argViews.size() && !step.argViews[i].empty())
          os << ",\n      netc::rt::reshape(" << step.args[i] << ", {"
             << shapeList(step.argViews[i]) << "}, N)";
        else
          os << ", " << step.args[i];
      }
      if (step.resultView.empty())
        os << ", " << step.result << ");\n";
      else
        os << ",\n      netc::rt::reshape(" << step.result << ", {"
           << shapeList(step.resultView) << "}, N));\n";
      break;
    }
  }
  os << "\n";
  for (size_t i = 0; i < f.outputRefs.size(); ++i)
    if (f.outputRefs[i] != "out[" + std::to_string(i) + "]")
      os << "  out[" << i << "].copy_from(" << f.outputRefs[i] << ");\n";
  os << "}\n\n";
}

void emitTraining(std::ostringstream &os, const ProgramPlan &plan) {
  const TrainPlan &tp = plan.train;
  os << "\n  // Training: the train section of " << plan.source
     << " (flags override it).\n"
     << "  netc::rt::TrainSettings &t = spec.train;\n"
     << tp.settings << "  spec.trainResults = {\n";
  for (size_t i = 0; i < tp.results.size(); ++i)
    os << "      {" << quoted(tp.results[i]) << ", {"
       << shapeList(tp.resultShapes[i]) << "}},\n";
  os << "  };\n  spec.lossWeights = {";
  for (size_t i = 0; i < tp.lossWeights.size(); ++i)
    os << (i ? ", " : "") << tp.lossWeights[i];
  os << "};\n";
  for (size_t i = 0; i < tp.momentum.size(); ++i)
    os << "  spec.runningStats.push_back({" << quoted(tp.momentum[i].first)
       << ", " << tp.momentum[i].second << ", " << tp.perSample[i].second
       << "});\n";
  if (tp.takesRng)
    os << "  spec.trainTakesRng = true; // dropout masks: in.back() is (seed, "
          "step)\n";
  // What each step reads: the program skips the steps that only lead to
  // gradients of parameters frozen at run time.
  std::vector<std::vector<int>> reads = stepReads(tp.step);
  os << "  spec.trainStepReads = {";
  for (size_t k = 0; k < reads.size(); ++k) {
    os << (k % 8 ? " " : "\n      ") << "{";
    for (size_t j = 0; j < reads[k].size(); ++j)
      os << (j ? ", " : "") << reads[k][j];
    os << "},";
  }
  os << "\n  };\n  spec.trainResultSteps = {";
  std::vector<int> writers = resultSteps(tp.step);
  for (size_t r = 0; r < writers.size(); ++r)
    os << (r ? ", " : "") << writers[r];
  os << "};\n";
  os << "  spec.trainPrepare = train_prepare;\n"
     << "  spec.trainStep = train_step;\n"
     << "  spec.optimizerKernel = reinterpret_cast<void *>("
     << tp.optimizerSymbol << ");\n\n";
}

} // namespace

std::string emitDriver(const ProgramPlan &plan) {
  std::ostringstream os;
  os << "// " << plan.model << ": generated by netc " << plan.netcVersion
     << " from " << plan.source << ".\n"
     << "// Kernels compiled for " << plan.target << ".\n"
     << "// Rebuild with `netc build` rather than editing this file.\n\n"
     << "#include \"Program.h\"\n";
  for (const std::string &header : plan.kernelHeaders)
    os << "#include \"" << header << "\"\n";
  os << "\nusing netc::rt::Buffer;\n"
     << "using netc::rt::makeBuffer;\n"
     << "using netc::rt::run;\n"
     << "using netc::rt::view;\n\n"
     << "// Tensors are NCHW float32 (Halide buffers list the dimensions "
        "reversed);\n"
     << "// the batch N is chosen at run time. p[i] are the parameters in "
        "definition order.\n\n";
  emitFunction(os, "prepare", "forward", plan.forward,
               "// Weights rearranged for the kernels, once after loading.\n",
               "// The network, for inference.\n");
  if (plan.training)
    emitFunction(
        os, "train_prepare", "train_step", plan.train.step,
        "// Training: weights rearranged for the kernels, after each update.\n",
        "// One training step: the forward pass in training mode, the losses,\n"
        "// then the backward pass, layer by layer in reverse. Results: "
        "see spec.train.results.\n"
        "// Kernels that lead only to parameter gradients run when needed[k]:\n"
        "// not for parameters frozen at run time.\n",
        alwaysNeeded(plan.train.step, plan.train.results));
  os << "int main(int argc, char **argv) {\n"
     << "  netc::rt::ModelSpec spec;\n"
     << "  spec.name = " << quoted(plan.model) << ";\n"
     << "  spec.source = " << quoted(plan.source) << ";\n"
     << "  spec.target = " << quoted(plan.target) << ";\n";
  emitTensors(os, "params", plan.params, /*params=*/true);
  emitTensors(os, "inputs", plan.inputs);
  emitTensors(os, "outputs", plan.outputs);
  if (!plan.droppedOutputs.empty()) {
    os << "  spec.droppedOutputs = {";
    for (size_t i = 0; i < plan.droppedOutputs.size(); ++i)
      os << (i ? ", " : "") << quoted(plan.droppedOutputs[i]);
    os << "};\n";
  }
  if (!plan.mean.empty()) {
    os << "  spec.mean = {";
    for (size_t i = 0; i < plan.mean.size(); ++i)
      os << (i ? ", " : "") << plan.mean[i] << "f";
    os << "};\n  spec.std = {";
    for (size_t i = 0; i < plan.std.size(); ++i)
      os << (i ? ", " : "") << plan.std[i] << "f";
    os << "};\n";
  }
  if (plan.scoresAreDistances)
    os << "  spec.scoresAreDistances = true;\n";
  if (plan.training)
    emitTraining(os, plan);
  // Large batches run in chunks whose activations stay within about
  // 48 MiB, in the cache: ResNet-50 at batch 16 in chunks of 4 (10 MiB
  // per sample) took 4-9% less time than the whole batch at once.
  const int64_t chunkBytes = int64_t(48) << 20;
  int64_t sampleBytes =
      std::max<int64_t>(plan.forward.arenaFloatsPerSample, 1) * 4;
  os << "  spec.forwardChunk = "
     << std::max<int64_t>(1, chunkBytes / sampleBytes)
     << "; // samples per call of forward: activations within 48 MiB\n";
  os << "  spec.prepare = prepare;\n"
     << "  spec.forward = forward;\n"
     << "  return netc::rt::runProgram(argc, argv, spec);\n"
     << "}\n";
  return os.str();
}

} // namespace netc::codegen
