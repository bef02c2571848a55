//===- DocsTest.cpp - docs/language.md describes every layer --------------===//

#include "dsl/Layers.h"
#include "runtime/TrainSettings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

std::string readDoc(const char *name) {
  std::ifstream in(std::string(NETC_SOURCE_DIR "/docs/") + name);
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
  std::string doc = readDoc("language.md");
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

TEST(Docs, EveryTrainingSettingIsDocumented) {
  std::string doc = readDoc("training.md");
  ASSERT_FALSE(doc.empty());
  for (const netc::rt::TrainSettingField &field :
       netc::rt::trainSettingFields()) {
    // Its row: "| `name` |" or "| `name`, `other` |".
    size_t row = doc.find("| `" + std::string(field.name) + "`");
    if (row == std::string::npos)
      row = doc.find(", `" + std::string(field.name) + "` |");
    ASSERT_NE(row, std::string::npos) << field.name << " has no row";
    size_t start = doc.rfind('\n', row) + 1;
    std::string line = doc.substr(start, doc.find('\n', row) - start);
    if (field.flag) {
      EXPECT_NE(line.find(std::string("`") + field.flag + "`"),
                std::string::npos)
          << field.name << "'s row does not name " << field.flag;
    }
    for (const netc::rt::SettingSyntax &syntax : field.syntax) {
      if (syntax.arg) {
        EXPECT_NE(line.find(std::string("`") + syntax.arg + "`"),
                  std::string::npos)
            << field.name << "'s row does not name `" << syntax.arg << "`";
      }
    }
  }
}

} // namespace
