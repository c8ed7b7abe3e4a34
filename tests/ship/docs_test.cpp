// docs/configuration.md names exactly the keys the binaries have: the code's keys come from
// `--check-config` (the effective configuration, every key printed), the doc's from its tables.
#include <gtest/gtest.h>

#include <regex>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {

std::set<std::string> code_keys(const std::string& binary) {
  const auto r = run_command({binary, "--check-config"}, std::chrono::seconds(30));
  EXPECT_EQ(r.status, 0) << binary << " --check-config failed:\n" << r.err;
  std::set<std::string> keys;
  for (std::string k : flatten_keys(r.out)) {
    // paths.<name>.x: the default config has one path; the doc writes its name as <name>.
    if (k.rfind("paths.", 0) == 0) {
      const auto dot = k.find('.', 6);
      k = "paths.<name>" + (dot == std::string::npos ? std::string() : k.substr(dot));
    }
    keys.insert(k);
  }
  return keys;
}

/// Keys in the first column of the tables of the "## <title>" section.
std::set<std::string> doc_keys(const std::string& section_title) {
  const std::string doc = read_text(std::string(VETER_SOURCE_DIR) + "/docs/configuration.md");
  std::set<std::string> keys;
  bool in_section = false;
  const std::regex row(R"(^\| `([^`]+)` \|)");
  for (const auto& line : lines(doc)) {
    if (line.rfind("## ", 0) == 0) {
      in_section = line.find(section_title) != std::string::npos;
      continue;
    }
    std::smatch m;
    if (in_section && std::regex_search(line, m, row)) {
      keys.insert(m[1]);
    }
  }
  return keys;
}

void expect_same(const std::set<std::string>& code, const std::set<std::string>& doc, const std::string& what) {
  ASSERT_FALSE(code.empty());
  for (const auto& k : code) {
    EXPECT_TRUE(doc.count(k) == 1) << what << ": key `" << k << "` is in the code but not in docs/configuration.md";
  }
  for (const auto& k : doc) {
    EXPECT_TRUE(code.count(k) == 1) << what << ": docs/configuration.md names `" << k << "`, which the code lacks";
  }
}

}  // namespace

TEST(ConfigurationDoc, RelayKeysMatchTheCode) {
  expect_same(code_keys(VETER_RELAY_BIN), doc_keys("veter-relay"), "veter-relay");
}

TEST(ConfigurationDoc, PublisherKeysMatchTheCode) {
  expect_same(code_keys(VETER_PUBLISHER_BIN), doc_keys("veter-publisher"), "veter-publisher");
}

TEST(ConfigurationDoc, ShippedConfigsNameOnlyDocumentedKeys) {
  // The example files are what operators copy: every key in them is in the doc too.
  for (const std::string c : {"relay", "publisher"}) {
    const auto doc = doc_keys("veter-" + c);
    for (std::string k : flatten_keys(read_text(std::string(VETER_SOURCE_DIR) + "/config/" + c + ".yml"))) {
      if (k.rfind("paths.", 0) == 0) {
        k = "paths.<name>" + k.substr(k.find('.', 6));
      }
      EXPECT_EQ(doc.count(k), 1U) << "config/" << c << ".yml: " << k;
    }
  }
}
