//===- DriverEmitter.cpp - The generated program's C++ --------------------===//
//
// The output should read like a careful person wrote it: every tensor named
// after the model file's own names (parameters as `conv1_weight`,
// activations after their layer, gradients as `grad_conv1_weight`), one call
// per layer in model order with the layer's name and shapes in a comment,
// then in training programs the backward pass, layer by layer in reverse,
// and the optimizer's update.
//
// This is the only place where tensors of the plan become text.
//
//===----------------------------------------------------------------------===//

#include "compiler/codegen/Plan.h"

#include "runtime/StepGraph.h"
#include "runtime/TrainSettings.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

namespace netc::codegen {

namespace {

std::string shapeList(const std::vector<int64_t> &shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text;
}

/// The shortest text that reads back as `value` ("0.05", not
/// "0.050000000000000003").
std::string number(double value) {
  char text[32];
  auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
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

using Kind = TensorRef::Kind;

/// C++ identifiers for the model's names, unique within a function.
class Namer {
public:
  Namer() {
    // The driver's own names, and C++ keywords a layer could be called.
    for (const char *word :
         {"p",        "q",        "in",        "out",      "N",
          "arena",    "needed",   "run",       "view",     "makeBuffer",
          "Buffer",   "netc",     "results",   "state",    "h",
          "trained",  "updates",  "u",         "w",        "g",
          "std",      "auto",     "bool",      "break",    "case",
          "char",     "class",    "const",     "continue", "default",
          "delete",   "do",       "double",    "else",     "enum",
          "false",    "float",    "for",       "goto",     "if",
          "int",      "long",     "namespace", "new",      "operator",
          "private",  "public",   "return",    "short",    "signed",
          "sizeof",   "static",   "struct",    "switch",   "template",
          "this",     "throw",    "true",      "try",      "typedef",
          "union",    "unsigned", "using",     "virtual",  "void",
          "volatile", "while"})
      taken_.insert(word);
  }

  /// `name` as an identifier ("layer1.0.conv1" -> "layer1_0_conv1"), with
  /// a number appended when another tensor has it.
  std::string unique(const std::string &name) {
    std::string id;
    for (char c : name)
      id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
      id = "t" + id;
    std::string candidate = id;
    for (int n = 2; taken_.count(candidate); ++n)
      candidate = id + "_" + std::to_string(n);
    taken_.insert(candidate);
    return candidate;
  }

private:
  std::set<std::string> taken_;
};

/// One generated function's view of the plan: the name and the C++
/// container of every tensor it touches.
class FunctionText {
public:
  FunctionText(const ProgramPlan &plan, const FunctionPlan &f,
               const std::vector<std::string> &inputNames,
               const std::vector<std::string> &resultNames)
      : f_(f) {
    for (size_t i = 0; i < inputNames.size(); ++i)
      names_[TensorRef::of(Kind::Input, i)] = namer_.unique(inputNames[i]);
    for (size_t i = 0; i < resultNames.size(); ++i)
      names_[TensorRef::of(Kind::Output, i)] = namer_.unique(resultNames[i]);
    for (size_t i = 0; i < plan.params.size(); ++i)
      names_[TensorRef::of(Kind::Param, i)] =
          namer_.unique(plan.params[i].name);
    for (size_t i = 0; i < f.prepareSteps.size(); ++i) {
      const PlanStep &step = f.prepareSteps[i];
      std::string name = step.op == "pack" && step.args[0].kind == Kind::Param
                             ? plan.params[step.args[0].index].name + "_packed"
                             : step.layer + "_" + step.op;
      names_[TensorRef::of(Kind::Prepared, i)] = namer_.unique(name);
    }
    for (size_t i = 0; i < f.steps.size(); ++i) {
      const PlanStep &step = f.steps[i];
      if (step.result.kind != Kind::Temp)
        continue;
      std::string op = step.op;
      std::replace(op.begin(), op.end(), '+', '_');
      names_[step.result] = namer_.unique(step.pass == PlanStep::Pass::Forward
                                              ? step.layer
                                              : step.layer + "_" + op);
    }
  }

  const std::string &name(const TensorRef &ref) const { return names_.at(ref); }

  /// Where the function's arguments hold `ref`: "p[3]", "in[0]", …
  static std::string slot(const TensorRef &ref) {
    static const char *containers[] = {"", "in", "p", "q", "", "out"};
    return std::string(containers[int(ref.kind)]) + "[" +
           std::to_string(ref.index) + "]";
  }

  /// `Buffer &conv1_weight = p[0]; // [6, 1, 5, 5]` for each tensor of
  /// `kind` that `steps` read or write (and every result of the function).
  void declare(std::ostringstream &os, Kind kind, const char *comment,
               const std::vector<std::string> &shapes,
               const std::vector<PlanStep> &steps) const {
    std::set<TensorRef> used;
    for (const PlanStep &step : steps) {
      used.insert(step.args.begin(), step.args.end());
      used.insert(step.result);
    }
    if (kind == Kind::Output)
      for (size_t i = 0; i < f_.results.size(); ++i)
        used.insert(TensorRef::of(Kind::Output, i));
    bool first = true;
    for (const TensorRef &ref : used) {
      if (ref.kind != kind)
        continue;
      if (first)
        os << "  // " << comment << "\n";
      first = false;
      os << "  Buffer &" << name(ref) << " = " << slot(ref) << ";";
      if (size_t(ref.index) < shapes.size() && !shapes[ref.index].empty())
        os << " // " << shapes[ref.index];
      os << "\n";
    }
  }

private:
  const FunctionPlan &f_;
  Namer namer_;
  std::map<TensorRef, std::string> names_;
};

/// For each step, the earlier steps whose results it reads.
std::vector<std::vector<int>> stepReads(const FunctionPlan &f) {
  std::map<TensorRef, int> writer;
  std::vector<std::vector<int>> reads(f.steps.size());
  for (size_t k = 0; k < f.steps.size(); ++k) {
    for (const TensorRef &arg : f.steps[k].args) {
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
  for (const TensorRef &ref : f.results) {
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
std::vector<bool> alwaysNeeded(const TrainPlan &tp) {
  std::vector<bool> wanted;
  for (const TrainResult &r : tp.results)
    wanted.push_back(r.kind != ResultKind::Gradient);
  return rt::stepsLeadingTo(stepReads(tp.step), resultSteps(tp.step), wanted);
}

/// A generated function pair: its names, comments, and what its inputs and
/// results are called.
struct Signature {
  const char *prepareName, *runName;
  const char *prepareComment, *runComment;
  std::vector<std::string> inputNames, inputShapes;
  std::vector<std::string> resultNames, resultShapes;
  const char *resultComment;
  std::vector<bool> always; // training: steps that run whatever is frozen
};

std::string stepComment(const PlanStep &step, bool prepared = false) {
  static const char *passes[] = {": ", " (loss): ", " (backward): "};
  std::string text = "  // " + step.layer + passes[int(step.pass)] + step.op;
  for (size_t i = 0; i < step.argShapes.size(); ++i)
    text += (i ? ", " : " ") + step.argShapes[i];
  return text + " -> " +
         (step.batched && !prepared ? batchedShape(step.shape)
                                    : fullShape(step.shape)) +
         "\n";
}

/// `head(args…);` within 80 columns: arguments that do not fit go on the
/// next lines, four spaces further in.
std::string callText(const std::string &indent, const std::string &head,
                     const std::vector<std::string> &args) {
  std::string text = indent + head + "(", line = text;
  std::string more = indent + "    ";
  for (size_t i = 0; i < args.size(); ++i) {
    std::string piece = args[i] + (i + 1 < args.size() ? "," : ");");
    if (line.size() + 1 + piece.size() > 80 && line.size() > more.size() &&
        i > 0) {
      text += "\n" + more + piece;
      line = more + piece;
    } else {
      std::string gap = i == 0 ? "" : " ";
      text += gap + piece;
      line += gap + piece;
    }
  }
  if (args.empty())
    text += ");";
  return text + "\n";
}

void emitCall(std::ostringstream &os, const FunctionText &names,
              const PlanStep &step, const char *indent) {
  std::vector<std::string> args = {quoted(step.layer), quoted(step.op),
                                   step.symbol};
  auto viewed = [&](const TensorRef &ref, const std::vector<int64_t> &view,
                    const char *how) {
    return view.empty() ? names.name(ref)
                        : std::string(how) + "(" + names.name(ref) + ", {" +
                              shapeList(view) + "}, N)";
  };
  for (size_t i = 0; i < step.args.size(); ++i)
    args.push_back(viewed(step.args[i],
                          i < step.argViews.size() ? step.argViews[i]
                                                   : std::vector<int64_t>(),
                          "netc::rt::reshape"));
  args.push_back(viewed(step.result, step.resultView, "netc::rt::ResultView"));
  os << callText(indent, "run", args);
}

/// What follows training step k: the results it wrote that other tensors
/// hold are copied out at once, and done(k) tells the caller that step k's
/// results are final (distributed training starts reducing them).
std::vector<std::string> afterStep(const FunctionText &names,
                                   const PlanStep &step, size_t k,
                                   const FunctionPlan &f) {
  std::vector<std::string> after;
  bool writesResult = false;
  for (size_t i = 0; i < f.results.size(); ++i) {
    TensorRef out = TensorRef::of(TensorRef::Kind::Output, i);
    if (f.results[i] == step.result && step.result != out)
      after.push_back("netc::rt::copyInto(" + names.name(out) + ", " +
                      names.name(step.result) + ");");
    writesResult |= f.results[i] == step.result;
  }
  if (writesResult)
    after.push_back("done(" + std::to_string(k) + ");");
  return after;
}

/// A kernel call; in training, run only when needed[k] unless it always
/// runs, and followed by afterStep's lines.
void emitKernelStep(std::ostringstream &os, const FunctionText &names,
                    const PlanStep &step, size_t k, const Signature &how,
                    const FunctionPlan &f) {
  bool training = !how.always.empty();
  std::vector<std::string> after;
  if (training)
    after = afterStep(names, step, k, f);
  bool guarded = training && !how.always[k];
  std::string indent = guarded ? "    " : "  ";
  if (guarded)
    os << "  if (needed[" << k << "])" << (after.empty() ? "\n" : " {\n");
  emitCall(os, names, step, indent.c_str());
  for (const std::string &line : after)
    os << indent << line << "\n";
  if (guarded && !after.empty())
    os << "  }\n";
}

/// `prepareName(p, q)`: the steps on parameters alone; `runName(p, q, in,
/// out)`: the steps of one run over a batch. With `always` (training), the
/// other kernels run only when `needed` says so.
void emitFunction(std::ostringstream &os, const ProgramPlan &plan,
                  const FunctionPlan &f, const Signature &how) {
  FunctionText names(plan, f, how.inputNames, how.resultNames);
  std::vector<std::string> paramShapes;
  for (const PlanTensor &t : plan.params)
    paramShapes.push_back(fullShape(t.shape));

  os << how.prepareComment << "static void " << how.prepareName
     << "(std::vector<Buffer> &p, std::vector<Buffer> &q) {\n";
  if (!f.prepareSteps.empty()) {
    names.declare(os, Kind::Param, "Parameters, by their names in the model.",
                  paramShapes, f.prepareSteps);
    os << "\n";
  }
  os << "  q.clear();\n  q.reserve(" << f.prepareSteps.size() << ");\n";
  for (const PlanStep &step : f.prepareSteps) {
    os << "\n"
       << stepComment(step, /*prepared=*/true) << "  Buffer &"
       << names.name(step.result) << " = q.emplace_back(makeBuffer({"
       << shapeList(step.shape) << "}));\n";
    emitCall(os, names, step, "  ");
  }
  os << "}\n\n";

  std::string pad(13 + std::string(how.runName).size(), ' ');
  os << how.runComment << "static void " << how.runName
     << "(std::vector<Buffer> &p, std::vector<Buffer> &q,\n"
     << pad << "std::vector<Buffer> &in, std::vector<Buffer> &out"
     << (how.always.empty()
             ? ""
             : ",\n" + pad + "const std::vector<bool> &needed,\n" + pad +
                   "const netc::rt::StepDone &done")
     << ") {\n"
     << "  const int64_t N = in[0].dim(in[0].dimensions() - 1).extent();\n";
  std::ostringstream declarations;
  names.declare(declarations, Kind::Param,
                "Parameters, by their names in the model.", paramShapes,
                f.steps);
  std::vector<std::string> preparedShapes;
  for (const PlanStep &step : f.prepareSteps)
    preparedShapes.push_back(fullShape(step.shape));
  {
    // Prepared tensors the steps read.
    std::set<int> used;
    for (const PlanStep &step : f.steps)
      for (const TensorRef &arg : step.args)
        if (arg.kind == Kind::Prepared)
          used.insert(arg.index);
    bool first = true;
    for (int i : used) {
      if (first)
        declarations << "  // Weights as the kernels read them (prepared "
                        "once).\n";
      first = false;
      TensorRef ref = TensorRef::of(Kind::Prepared, i);
      declarations << "  Buffer &" << names.name(ref) << " = "
                   << FunctionText::slot(ref) << "; // " << preparedShapes[i]
                   << "\n";
    }
  }
  names.declare(declarations, Kind::Input, "Inputs.", how.inputShapes, f.steps);
  names.declare(declarations, Kind::Output, how.resultComment, how.resultShapes,
                f.steps);
  os << "\n"
     << declarations.str() << "\n"
     << "  // Activations share one arena by liveness: "
     << f.arenaFloatsPerSample << " floats per sample\n"
     << "  // (" << f.unplannedFloatsPerSample << " without sharing).\n"
     << "  float *arena = netc::rt::arena(N * "
     << std::max<int64_t>(f.arenaFloatsPerSample, 1) << ");\n";
  bool backward = false;
  for (size_t k = 0; k < f.steps.size(); ++k) {
    const PlanStep &step = f.steps[k];
    if (step.pass == PlanStep::Pass::Backward && !backward)
      os << "\n  // The backward pass: the gradient of the loss flows back "
            "through\n  // the layers in reverse.\n";
    backward |= step.pass == PlanStep::Pass::Backward;
    os << "\n" << stepComment(step);
    const std::string &result = names.name(step.result);
    switch (step.kind) {
    case PlanStep::Kind::Alias:
      os << "  Buffer " << result << " = " << names.name(step.args[0])
         << "; // the identity in inference\n";
      break;
    case PlanStep::Kind::Reshape:
      os << "  Buffer " << result << " = netc::rt::reshape("
         << names.name(step.args[0]) << ", {" << shapeList(step.shape)
         << "}, N);\n";
      break;
    case PlanStep::Kind::Kernel:
      if (step.batched)
        os << "  Buffer " << result << " = view(arena + N * "
           << step.arenaOffset << ", {" << shapeList(step.shape) << "}, N);\n";
      else if (step.result.kind != Kind::Output)
        os << "  Buffer " << result << " = makeBuffer({"
           << shapeList(step.shape) << "});\n";
      emitKernelStep(os, names, step, k, how, f);
      break;
    }
    if (step.kind != PlanStep::Kind::Kernel && !how.always.empty())
      for (const std::string &line : afterStep(names, step, k, f))
        os << "  " << line << "\n";
  }
  os << "\n";
  for (size_t i = 0; i < f.results.size(); ++i)
    if (f.results[i] != TensorRef::of(Kind::Output, i) &&
        (how.always.empty() ||
         std::none_of(f.steps.begin(), f.steps.end(), [&](const PlanStep &s) {
           return s.result == f.results[i];
         })))
      os << "  netc::rt::copyInto("
         << names.name(TensorRef::of(Kind::Output, i)) << ", "
         << names.name(f.results[i]) << ");\n";
  os << "}\n\n";
}

/// "cuda" or "opencl" when the target runs kernels on a GPU, else null.
const char *deviceApi(const std::string &target) {
  if (target.find("-cuda") != std::string::npos)
    return "cuda";
  if (target.find("-opencl") != std::string::npos)
    return "opencl";
  return nullptr;
}

std::string resultName(const TrainResult &r) {
  switch (r.kind) {
  case ResultKind::Loss:
    return "loss_" + r.of;
  case ResultKind::Scores:
    return "scores_" + r.of;
  case ResultKind::Gradient:
    return "grad_" + r.of;
  case ResultKind::BatchMean:
  case ResultKind::BatchVar:
    return "batch_" + r.of;
  }
  return r.of;
}

const char *resultKindName(ResultKind kind) {
  switch (kind) {
  case ResultKind::Loss:
    return "Loss";
  case ResultKind::Scores:
    return "Scores";
  case ResultKind::Gradient:
    return "Gradient";
  case ResultKind::BatchMean:
    return "BatchMean";
  case ResultKind::BatchVar:
    return "BatchVar";
  }
  return "Loss";
}

/// The optimizer's update of each trained parameter: its kernel called on
/// the weight, its gradient and its state, in place.
void emitOptimizer(std::ostringstream &os, const ProgramPlan &plan) {
  const TrainPlan &tp = plan.train;
  const OptimizerPlan &o = tp.optimizer;
  os << "// The optimizer: " << o.kind
     << "'s update kernel on each trained parameter, in place:\n"
     << "// the weight, its gradient (a result of train_step) and " << o.states
     << " state tensor" << (o.states == 1 ? "" : "s") << ".\n"
     << "static void optimizer_update(std::vector<Buffer> &p, "
        "std::vector<Buffer> &results,\n"
     << "                             std::vector<std::vector<Buffer>> "
        "&state,\n"
     << "                             const netc::rt::OptimizerStep &h,\n"
     << "                             const std::vector<bool> &trained) {\n"
     << "  // Each parameter that has a gradient, and the result holding it.\n"
     << "  static const struct {\n    int param, gradient;\n"
     << "    const char *name;\n  } updates[] = {\n";
  for (size_t r = 0; r < tp.results.size(); ++r)
    if (tp.results[r].kind == ResultKind::Gradient)
      os << "      {" << tp.results[r].param << ", " << r << ", "
         << quoted(tp.results[r].of) << "},\n";
  os << "  };\n"
     << "  for (const auto &u : updates) {\n"
     << "    if (!trained[u.param])\n      continue;\n"
     << "    Buffer w = netc::rt::flat(p[u.param]);\n"
     << "    Buffer g = netc::rt::flat(results[u.gradient]);\n";
  for (int k = 0; k < o.states; ++k)
    os << "    Buffer s" << k + 1 << " = netc::rt::flat(state[u.param][" << k
       << "]);\n";
  // The kernel's arguments: buffers, scalars, then its outputs (the new
  // weight and state, written over the old).
  std::vector<std::string> args = {"u.name", quoted(o.kind + "_update"),
                                   o.symbol, "w", "g"};
  for (int k = 0; k < o.states; ++k)
    args.push_back("s" + std::to_string(k + 1));
  for (const std::string &scalar : o.scalars)
    args.push_back("h." + scalar);
  args.push_back("w");
  for (int k = 0; k < o.states; ++k)
    args.push_back("s" + std::to_string(k + 1));
  os << callText("    ", "run", args) << "  }\n}\n\n";
}

/// The train section as statements on `t`, one per field of
/// netc::rt::TrainSettings.
std::string trainSettings(const rt::TrainSettings &c) {
  std::ostringstream os;
  for (const rt::TrainSettingField &field : rt::trainSettingFields()) {
    os << "  t." << field.name << " = ";
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(c.*member)>;
          const T &value = c.*member;
          if constexpr (std::is_same_v<T, double>) {
            os << number(value);
          } else if constexpr (std::is_same_v<T, bool>) {
            os << (value ? "true" : "false");
          } else if constexpr (std::is_same_v<T, std::string>) {
            os << quoted(value);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            os << value;
          } else {
            os << "{";
            for (size_t i = 0; i < value.size(); ++i) {
              os << (i ? ", " : "");
              if constexpr (std::is_same_v<T, std::vector<std::string>>)
                os << quoted(value[i]);
              else
                os << value[i];
            }
            os << "}";
          }
        },
        field.member);
    os << ";\n";
  }
  return os.str();
}

const char *initName(dsl::ParamInit init) {
  switch (init) {
  case dsl::ParamInit::Uniform:
    return "Uniform";
  case dsl::ParamInit::Zeros:
    return "Zeros";
  case dsl::ParamInit::Ones:
    return "Ones";
  case dsl::ParamInit::Normal:
    return "Normal";
  }
  return "Normal";
}

void emitTensors(std::ostringstream &os, const char *field,
                 const std::vector<PlanTensor> &tensors, bool params = false) {
  os << "  spec." << field << " = {\n";
  for (const PlanTensor &t : tensors) {
    os << "      {" << quoted(t.name) << ", {" << shapeList(t.shape) << "}";
    if (params)
      os << ", /*unused=*/" << (t.used ? "false" : "true")
         << ", netc::rt::Init::" << initName(t.init) << ", /*fanIn=*/"
         << t.fanIn << ", /*trainable=*/" << (t.trainable ? "true" : "false");
    os << "},\n";
  }
  os << "  };\n";
}

void emitTraining(std::ostringstream &os, const ProgramPlan &plan) {
  const TrainPlan &tp = plan.train;
  os << "\n  // Training: the train section of " << plan.source
     << " (flags override it).\n"
     << "  netc::rt::TrainSettings &t = spec.train;\n"
     << trainSettings(tp.settings) << "  spec.trainResults = {\n";
  for (const TrainResult &r : tp.results)
    os << "      {netc::rt::TrainResultSpec::Kind::" << resultKindName(r.kind)
       << ", " << quoted(r.of) << ", " << r.param << ", {" << shapeList(r.shape)
       << "}},\n";
  os << "  };\n  spec.lossWeights = {";
  for (size_t i = 0; i < tp.lossWeights.size(); ++i)
    os << (i ? ", " : "") << number(tp.lossWeights[i]);
  os << "};\n";
  for (const TrainPlan::RunningStat &rs : tp.runningStats)
    os << "  spec.runningStats.push_back({" << quoted(rs.name) << ", "
       << number(rs.momentum) << ", " << rs.perSample << "});\n";
  if (tp.takesRng)
    os << "  spec.trainTakesRng = true; // dropout masks: in.back() is (seed, "
          "step, first sample)\n";
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
     << "  spec.optimizerStates = " << tp.optimizer.states << ";\n"
     << "  spec.optimizerUpdate = optimizer_update;\n\n";
}

} // namespace

std::string emitDriver(const ProgramPlan &plan) {
  std::ostringstream os;
  os << "// " << plan.model << ": generated by netc " << plan.netcVersion
     << " from " << plan.source << ".\n"
     << "// Kernels compiled for " << plan.target << ".\n"
     << "// Rebuild with `netc build` rather than editing this file.\n\n"
     << "#include \"Program.h\"\n";
  if (plan.mpi)
    os << "#include \"MpiComm.h\"\n";
  const char *device = deviceApi(plan.target);
  if (device)
    os << "#include <HalideRuntime"
       << (std::string(device) == "cuda" ? "Cuda" : "OpenCL") << ".h>\n";
  for (const std::string &header : plan.kernelHeaders)
    os << "#include \"" << header << "\"\n";
  os << "\nusing netc::rt::Buffer;\n"
     << "using netc::rt::makeBuffer;\n"
     << "using netc::rt::run;\n"
     << "using netc::rt::view;\n\n"
     << "// Tensors are NCHW float32 (Halide buffers list the dimensions "
        "reversed);\n"
     << "// the batch N is chosen at run time. p holds the parameters in "
        "definition\n"
     << "// order, as weight files list them; each function names those it "
        "uses.\n\n";

  Signature forward;
  forward.prepareName = "prepare";
  forward.runName = "forward";
  forward.prepareComment =
      "// Weights rearranged for the kernels, once after loading.\n";
  forward.runComment = "// The network, for inference.\n";
  for (const PlanTensor &t : plan.inputs) {
    forward.inputNames.push_back(t.name);
    forward.inputShapes.push_back(batchedShape(t.shape));
  }
  for (const PlanTensor &t : plan.outputs) {
    forward.resultNames.push_back(t.name);
    forward.resultShapes.push_back(batchedShape(t.shape));
  }
  forward.resultComment = "Outputs.";
  emitFunction(os, plan, plan.forward, forward);

  if (plan.training) {
    const TrainPlan &tp = plan.train;
    Signature train;
    train.prepareName = "train_prepare";
    train.runName = "train_step";
    train.prepareComment =
        "// Training: weights rearranged for the kernels, after each "
        "update.\n";
    train.runComment =
        "// One training step: the forward pass in training mode, the "
        "losses,\n"
        "// then the backward pass, layer by layer in reverse. Its results "
        "are\n"
        "// spec.trainResults: losses, scores, gradients, batch statistics.\n"
        "// Kernels that lead only to parameter gradients run when "
        "needed[k]:\n"
        "// not for parameters frozen at run time.\n";
    train.inputNames = forward.inputNames;
    train.inputShapes = forward.inputShapes;
    for (const dsl::TrainConfig::LossTerm &term : tp.settings.loss) {
      train.inputNames.push_back(
          tp.settings.loss.size() == 1 ? "labels" : "labels_" + term.output);
      train.inputShapes.push_back("[N] class indices (or targets: mse)");
    }
    if (tp.takesRng) {
      train.inputNames.push_back("dropout_key");
      train.inputShapes.push_back(
          "[3]: the seed, the step, the batch's first sample");
    }
    for (const TrainResult &r : tp.results) {
      train.resultNames.push_back(resultName(r));
      bool batched = r.kind == ResultKind::Loss || r.kind == ResultKind::Scores;
      train.resultShapes.push_back(batched ? batchedShape(r.shape)
                                           : fullShape(r.shape));
    }
    train.resultComment = "Results: losses, scores, gradients, batch "
                          "statistics.";
    train.always = alwaysNeeded(tp);
    emitFunction(os, plan, tp.step, train);
    emitOptimizer(os, plan);
  }

  os << "int main(int argc, char **argv) {\n";
  if (plan.mpi)
    os << "  // Under mpirun: one of the processes that train data-parallel.\n"
       << "  netc::rt::MpiSession mpi(argc, argv);\n";
  os << "  netc::rt::ModelSpec spec;\n"
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
  if (device)
    os << "  spec.device = halide_" << device
       << "_device_interface; // the kernels run on the GPU\n";
  os << "  spec.prepare = prepare;\n"
     << "  spec.forward = forward;\n"
     << (plan.mpi ? "  return mpi.finish(netc::rt::runProgram(argc, argv, "
                    "spec));\n"
                  : "  return netc::rt::runProgram(argc, argv, spec);\n")
     << "}\n";
  return os.str();
}

} // namespace netc::codegen
