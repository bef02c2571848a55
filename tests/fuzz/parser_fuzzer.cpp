//===- parser_fuzzer.cpp - libFuzzer entry for the whole front end --------===//
//
// Any input must end in a graph or in at least one diagnostic: never a
// crash, a hang, a sanitizer report or a silent failure.
//
//===----------------------------------------------------------------------===//

#include "dsl/Frontend.h"
#include "dsl/Summary.h"

#include <cstdint>
#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  netc::dsl::SourceFile file(
      "fuzz.nn", std::string(reinterpret_cast<const char *>(data), size));
  std::ostringstream os;
  netc::dsl::DiagnosticEngine diags(os);
  if (!netc::dsl::checkText(file, diags))
    return 0;
  netc::dsl::FileAST ast = netc::dsl::parseSource(file, diags);
  std::ostringstream dump;
  netc::dsl::dumpAST(ast, dump);
  if (diags.hadError())
    return 0;
  std::optional<netc::dsl::Graph> graph = netc::dsl::elaborate(ast, diags);
  if (!graph) {
    if (os.str().empty())
      std::abort(); // rejected without saying why
    return 0;
  }
  std::ostringstream table;
  netc::dsl::printSummary(*graph, table);
  (void)netc::dsl::summaryJson(*graph);
  return 0;
}
