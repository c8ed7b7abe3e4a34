#include "ship_support.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "process.hpp"

namespace veter::test::ship {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string which(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

std::set<std::string> flatten_keys(const std::string& yaml_text) {
  std::set<std::string> keys;
  const YAML::Node root = YAML::Load(yaml_text);
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                       const std::string& prefix) {
    for (const auto& kv : n) {
      const std::string key = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
      if (kv.second.IsMap()) {
        walk(kv.second, key);
      } else {
        keys.insert(key);
      }
    }
  };
  walk(root, "");
  return keys;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) {
    out.push_back(line);
  }
  return out;
}

std::string install_tree(const std::string& destdir, const std::string& prefix) {
  // The two packaged components (other tools in the tree have their own install rules).
  std::string out;
  for (const std::string component : {"relay", "publisher"}) {
    const auto r = run_command({VETER_CMAKE_COMMAND, "--install", VETER_BINARY_DIR, "--prefix", prefix,
                                "--component", component},
                               std::chrono::seconds(120), {"DESTDIR=" + destdir});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    out += r.out + r.err;
  }
  return out;
}

}  // namespace veter::test::ship
