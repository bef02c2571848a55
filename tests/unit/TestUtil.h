//===- TestUtil.h - Running the front end on strings ------------*- C++ -*-===//
#pragma once

#include "dsl/Frontend.h"
#include "dsl/Lexer.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace netc::dsl::test {

/// The result of running the front end on source text.
struct FrontendRun {
  std::unique_ptr<SourceFile> file;
  std::optional<Graph> graph;
  std::string diagnostics;
  bool ok() const { return graph.has_value(); }

  const Node &node(const std::string &name) const {
    for (const Node &n : graph->nodes)
      if (n.name == name)
        return n;
    static Node none;
    ADD_FAILURE() << "no node named " << name;
    return none;
  }
};

inline FrontendRun elaborateText(const std::string &text,
                         const std::map<std::string, std::string> &params = {}) {
  FrontendRun run;
  run.file = std::make_unique<SourceFile>("test.nn", text);
  std::ostringstream os;
  DiagnosticEngine diags(os);
  if (checkText(*run.file, diags)) {
    FileAST ast = parseSource(*run.file, diags);
    if (!diags.hadError())
      run.graph = elaborate(ast, diags, params);
  }
  run.diagnostics = os.str();
  if (diags.hadError())
    run.graph.reset();
  return run;
}

/// A model whose body is `body`, with a 3x32x32 input named `image`.
inline std::string model(const std::string &body) {
  return "model m {\n  input image: f32[3, 32, 32]\n" + body + "\n}\n";
}

} // namespace netc::dsl::test
