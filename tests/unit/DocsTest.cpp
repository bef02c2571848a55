//===- DocsTest.cpp - docs/language.md describes every layer --------------===//

#include "dsl/Layers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

std::string languageDoc() {
  std::ifstream in(NETC_SOURCE_DIR "/docs/language.md");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The text from the heading that names `layer` to the next heading.
std::string sectionOf(const std::string &doc, const std::string &layer) {
  size_t pos = 0;
  while ((pos = doc.find("\n### ", pos)) != std::string::npos) {
    size_t end = doc.find('\n', pos + 1);
    std::string heading = doc.substr(pos, end - pos);
    if (heading.find("`" + layer + "`") != std::string::npos) {
      size_t next = doc.find("\n#", end);
      return doc.substr(pos, next - pos);
    }
    pos = end;
  }
  return "";
}

TEST(Docs, EveryLayerAndAttributeIsDocumented) {
  std::string doc = languageDoc();
  ASSERT_FALSE(doc.empty());
  for (const netc::dsl::LayerSpec &spec : netc::dsl::layerSpecs()) {
    std::string section = sectionOf(doc, spec.name);
    EXPECT_FALSE(section.empty()) << "no section for " << spec.name;
    for (const netc::dsl::AttrSpec &attr : spec.attrs)
      EXPECT_NE(section.find(std::string("| `") + attr.name + "` |"),
                std::string::npos)
          << spec.name << "." << attr.name << " is not in its table";
  }
}

} // namespace
