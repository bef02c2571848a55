//===- Summary.cpp - Layer table and totals of a model --------------------===//

#include "Summary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace netc::dsl {

std::string withCommas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

static std::string humanCount(double n) {
  char buffer[32];
  if (n >= 1e9)
    std::snprintf(buffer, sizeof buffer, "%.2f G", n / 1e9);
  else if (n >= 1e6)
    std::snprintf(buffer, sizeof buffer, "%.2f M", n / 1e6);
  else if (n >= 1e3)
    std::snprintf(buffer, sizeof buffer, "%.2f k", n / 1e3);
  else
    std::snprintf(buffer, sizeof buffer, "%.0f", n);
  return buffer;
}

static int64_t nodeParams(const Node &node) {
  int64_t n = 0;
  for (const ParamTensor &param : node.params)
    if (param.trainable)
      n += numElements(param.shape);
  return n;
}

static bool isFrozen(const TrainConfig &train, const std::string &param) {
  for (const std::string &prefix : train.freeze)
    if (param == prefix ||
        param.compare(0, prefix.size() + 1, prefix + ".") == 0)
      return true;
  return false;
}

static std::string describeTrain(const TrainConfig &t) {
  std::ostringstream os;
  os << "  loss:       ";
  for (size_t i = 0; i < t.loss.size(); ++i) {
    if (i)
      os << " + ";
    if (t.loss[i].weight != 1.0)
      os << t.loss[i].weight << " * ";
    os << t.loss[i].kind << "(" << (t.loss[i].negate ? "-" : "")
       << t.loss[i].output << ")";
  }
  os << "\n  optimizer:  " << t.optimizer << "(lr=" << t.lr;
  if (t.optimizer == "sgd") {
    if (t.momentum)
      os << ", momentum=" << t.momentum;
    if (t.nesterov)
      os << ", nesterov";
  } else if (t.optimizer == "rmsprop") {
    os << ", alpha=" << t.rmsAlpha << ", eps=" << t.eps;
    if (t.momentum)
      os << ", momentum=" << t.momentum;
  } else {
    os << ", beta1=" << t.beta1 << ", beta2=" << t.beta2 << ", eps=" << t.eps;
  }
  if (t.weightDecay)
    os << ", weight_decay=" << t.weightDecay;
  os << ")\n  schedule:   " << t.schedule;
  if (t.schedule == "step") {
    if (t.stepEvery)
      os << " every " << t.stepEvery << " epochs";
    else {
      os << " at epochs";
      for (int64_t m : t.milestones)
        os << " " << m;
    }
    os << ", x" << t.gamma;
  } else if (t.schedule == "plateau") {
    os << ", x" << t.gamma << " after " << t.patience
       << " epochs without improvement";
  }
  if (t.warmup)
    os << ", " << t.warmup << " warm-up epochs";
  os << "\n  batch " << t.batch << ", " << t.epochs << " epochs, seed "
     << t.seed << "\n";
  if (!t.augment.empty()) {
    os << "  augment:   ";
    for (const auto &a : t.augment) {
      os << " " << a.kind;
      if (a.kind == "random_crop")
        os << "(" << a.size << ", pad=" << a.pad << ")";
    }
    os << "\n";
  }
  if (!t.freeze.empty()) {
    os << "  frozen:    ";
    for (const std::string &f : t.freeze)
      os << " " << f;
    os << "\n";
  }
  return os.str();
}

void printSummary(const Graph &graph, std::ostream &os) {
  struct Row {
    std::string name, op, shape, params, macs;
  };
  std::vector<Row> rows;
  for (const Node &node : graph.nodes) {
    int64_t params = nodeParams(node);
    rows.push_back({node.name, opName(node.op), formatShape(node.shape),
                    params ? withCommas(params) : "-",
                    node.macs ? withCommas(node.macs) : "-"});
  }
  Row header{"Layer", "Op", "Output shape", "Params", "MACs"};
  size_t w[5] = {header.name.size(), header.op.size(), header.shape.size(),
                 header.params.size(), header.macs.size()};
  for (const Row &row : rows) {
    w[0] = std::max(w[0], row.name.size());
    w[1] = std::max(w[1], row.op.size());
    w[2] = std::max(w[2], row.shape.size());
    w[3] = std::max(w[3], row.params.size());
    w[4] = std::max(w[4], row.macs.size());
  }
  w[0] = std::min<size_t>(w[0], 60);
  size_t total = w[0] + w[1] + w[2] + w[3] + w[4] + 8;
  auto printRow = [&](const Row &row) {
    os << std::left << std::setw(int(w[0])) << row.name << "  "
       << std::setw(int(w[1])) << row.op << "  " << std::setw(int(w[2]))
       << row.shape << "  " << std::right << std::setw(int(w[3])) << row.params
       << "  " << std::setw(int(w[4])) << row.macs << "\n";
  };
  os << "Model: " << graph.modelName << "\n";
  os << std::string(total, '=') << "\n";
  printRow(header);
  os << std::string(total, '-') << "\n";
  for (const Row &row : rows)
    printRow(row);
  os << std::string(total, '=') << "\n";

  int64_t params = graph.totalParams(true);
  int64_t buffers = graph.totalParams(false) - params;
  int64_t frozen = 0;
  for (const Node &node : graph.nodes)
    for (const ParamTensor &param : node.params)
      if (param.trainable && isFrozen(graph.train, param.name))
        frozen += numElements(param.shape);
  os << "Parameters:     " << withCommas(params) << " ("
     << humanCount(double(params)) << ", " << humanCount(double(params) * 4)
     << "B as f32)\n";
  if (frozen)
    os << "  frozen:       " << withCommas(frozen) << "\n";
  if (buffers)
    os << "Buffers:        " << withCommas(buffers)
       << " (batch-norm running statistics)\n";
  os << "Multiply-adds:  " << withCommas(graph.totalMacs()) << " ("
     << humanCount(double(graph.totalMacs())) << ") per sample\n";
  os << "Inputs:        ";
  for (int id : graph.inputs)
    os << " " << graph.nodes[id].name << " "
       << formatShape(graph.nodes[id].shape);
  os << "\nOutputs:       ";
  for (const GraphOutput &out : graph.outputs)
    os << " " << out.name << " " << formatShape(graph.nodes[out.node].shape);
  os << "\n";
  if (graph.train.present)
    os << "Training:\n" << describeTrain(graph.train);
}

std::string summaryJson(const Graph &graph) {
  using json = nlohmann::ordered_json;
  json j;
  j["model"] = graph.modelName;
  int64_t params = graph.totalParams(true);
  j["params"] = params;
  j["buffers"] = graph.totalParams(false) - params;
  j["macs"] = graph.totalMacs();
  j["inputs"] = json::array();
  for (int id : graph.inputs)
    j["inputs"].push_back(
        {{"name", graph.nodes[id].name}, {"shape", graph.nodes[id].shape}});
  j["outputs"] = json::array();
  for (const GraphOutput &out : graph.outputs)
    j["outputs"].push_back(
        {{"name", out.name}, {"shape", graph.nodes[out.node].shape}});
  j["layers"] = json::array();
  j["parameters"] = json::array();
  for (const Node &node : graph.nodes) {
    json inputs = json::array();
    for (int in : node.inputs)
      inputs.push_back(graph.nodes[in].name);
    j["layers"].push_back({{"name", node.name},
                           {"op", opName(node.op)},
                           {"shape", node.shape},
                           {"inputs", inputs},
                           {"params", nodeParams(node)},
                           {"macs", node.macs}});
    for (const ParamTensor &param : node.params)
      j["parameters"].push_back(
          {{"name", param.name},
           {"shape", param.shape},
           {"trainable", param.trainable},
           {"frozen", param.trainable && isFrozen(graph.train, param.name)}});
  }
  if (graph.train.present) {
    const TrainConfig &t = graph.train;
    json loss = json::array();
    for (const auto &term : t.loss)
      loss.push_back({{"kind", term.kind},
                      {"output", term.output},
                      {"weight", term.weight},
                      {"negate", term.negate}});
    json augment = json::array();
    for (const auto &a : t.augment) {
      json item = {{"kind", a.kind}};
      if (a.kind == "random_crop")
        item["size"] = a.size, item["pad"] = a.pad;
      if (a.kind == "normalize")
        item["mean"] = a.mean, item["std"] = a.std;
      augment.push_back(item);
    }
    j["train"] = {{"loss", loss},
                  {"optimizer", t.optimizer},
                  {"lr", t.lr},
                  {"momentum", t.momentum},
                  {"nesterov", t.nesterov},
                  {"beta1", t.beta1},
                  {"beta2", t.beta2},
                  {"alpha", t.rmsAlpha},
                  {"eps", t.eps},
                  {"weight_decay", t.weightDecay},
                  {"schedule", t.schedule},
                  {"milestones", t.milestones},
                  {"step_every", t.stepEvery},
                  {"gamma", t.gamma},
                  {"patience", t.patience},
                  {"min_lr", t.minLr},
                  {"warmup", t.warmup},
                  {"batch", t.batch},
                  {"epochs", t.epochs},
                  {"seed", t.seed},
                  {"augment", augment},
                  {"freeze", t.freeze}};
  }
  return j.dump(2);
}

} // namespace netc::dsl
