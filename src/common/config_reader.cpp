#include "veter/common/config_reader.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace veter::common {

std::string format_config_error(const std::string& origin, const YAML::Mark& mark,
                                const std::string& key_path, const std::string& reason) {
  std::string where = origin;
  if (!mark.is_null()) {
    where += fmt::format(":{}:{}", mark.line + 1, mark.column + 1);
  }
  if (key_path.empty()) {
    return fmt::format("{}: {}", where, reason);
  }
  return fmt::format("{}: {}: {}", where, key_path, reason);
}

namespace {
// yaml-cpp keeps both entries of a key written twice in one mapping, and a lookup finds the first:
// `log_level: debug` then `log_level: error` would silently mean debug. A duplicate is an error
// naming both places.
void reject_duplicate_keys(const YAML::Node& node, const std::string& path, const std::string& origin) {
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      const std::string key_path = path.empty() ? key : path + "." + key;
      if (it->first.IsScalar()) {
        const auto [at, inserted] = seen.emplace(key, it->first.Mark());
        if (!inserted) {
          const YAML::Mark& first = at->second;
          throw ConfigError(format_config_error(
              origin, it->first.Mark(), key_path,
              first.is_null() ? std::string("duplicate key")
                              : fmt::format("duplicate key (first at line {}, column {})", first.line + 1,
                                            first.column + 1)));
        }
      }
      reject_duplicate_keys(it->second, key_path, origin);
    }
  } else if (node.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : node) {
      reject_duplicate_keys(item, fmt::format("{}[{}]", path, i++), origin);
    }
  }
}
}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(format_config_error(origin, e.mark, "", "YAML syntax error: " + e.msg));
  }
  reject_duplicate_keys(root, "", origin);
  return root;
}

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError(fmt::format("{}: cannot read config file", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_yaml(ss.str(), path);
}

namespace {
const std::string& scalar(const YAML::Node& n) {
  if (!n.IsScalar()) {
    throw ValueError(n.IsSequence() ? "expected a single value, found a list"
                     : n.IsMap()    ? "expected a single value, found a mapping"
                                    : "expected a value");
  }
  return n.Scalar();
}
}  // namespace

void from_yaml(const YAML::Node& n, std::string& out) {
  if (n.IsNull()) {
    out.clear();
    return;
  }
  out = scalar(n);
}

void from_yaml(const YAML::Node& n, int& out) {
  out = static_cast<int>(parse_int(scalar(n), -2'000'000'000, 2'000'000'000));
}

void from_yaml(const YAML::Node& n, bool& out) {
  const auto& s = scalar(n);
  if (s == "true" || s == "yes" || s == "on") {
    out = true;
  } else if (s == "false" || s == "no" || s == "off") {
    out = false;
  } else {
    throw ValueError(fmt::format("\"{}\" is not a boolean (true/false)", s));
  }
}

void from_yaml(const YAML::Node& n, Endpoint& out) { out = parse_endpoint(scalar(n)); }
void from_yaml(const YAML::Node& n, Duration& out) { out = parse_duration(scalar(n)); }
void from_yaml(const YAML::Node& n, VideoSize& out) { out = parse_video_size(scalar(n)); }

void from_yaml(const YAML::Node& n, std::vector<Cidr>& out) {
  out.clear();
  if (n.IsNull()) {
    return;
  }
  if (!n.IsSequence()) {
    throw ValueError("expected a list of CIDRs, e.g. [203.0.113.0/24]");
  }
  for (const auto& item : n) {
    out.push_back(parse_cidr(scalar(item)));
  }
}

void from_yaml(const YAML::Node& n, std::vector<std::string>& out) {
  out.clear();
  if (n.IsNull()) {
    return;
  }
  if (!n.IsSequence()) {
    throw ValueError("expected a list");
  }
  for (const auto& item : n) {
    out.push_back(scalar(item));
  }
}

MapReader::MapReader(const YAML::Node& node, std::string key_path, std::string origin)
    : node_(node), path_(std::move(key_path)), origin_(std::move(origin)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    throw ConfigError(format_config_error(origin_, node_.Mark(), path_.empty() ? "(top level)" : path_,
                                          "expected a mapping of keys"));
  }
}

std::string MapReader::join(std::string_view key) const {
  if (path_.empty()) {
    return std::string(key);
  }
  if (key.empty()) {
    return path_;
  }
  return path_ + "." + std::string(key);
}

bool MapReader::present(std::string_view key) const {
  if (!node_.IsDefined() || !node_.IsMap()) {
    return false;
  }
  return static_cast<bool>(node_[std::string(key)]);
}

ConfigError MapReader::error(std::string_view key, const std::string& reason) const {
  YAML::Mark mark = YAML::Mark::null_mark();
  if (node_.IsDefined() && node_.IsMap()) {
    if (!key.empty() && node_[std::string(key)]) {
      mark = node_[std::string(key)].Mark();
    } else {
      mark = node_.Mark();
    }
  }
  return ConfigError(format_config_error(origin_, mark, join(key), reason));
}

MapReader& MapReader::read_with(std::string_view key,
                                const std::function<void(const YAML::Node&)>& fn) {
  used_.emplace(key);
  if (!present(key)) {
    return *this;
  }
  const YAML::Node value = node_[std::string(key)];
  try {
    fn(value);
  } catch (const ValueError& e) {
    throw ConfigError(format_config_error(origin_, value.Mark(), join(key), e.what()));
  }
  return *this;
}

MapReader MapReader::child(std::string_view key) {
  used_.emplace(key);
  if (!present(key)) {
    return MapReader(YAML::Node(YAML::NodeType::Undefined), join(key), origin_);
  }
  return MapReader(node_[std::string(key)], join(key), origin_);
}

void MapReader::for_each(std::string_view key,
                         const std::function<void(const std::string&, MapReader&)>& fn) {
  used_.emplace(key);
  if (!present(key)) {
    return;
  }
  const YAML::Node map = node_[std::string(key)];
  if (map.IsNull()) {
    return;
  }
  if (!map.IsMap()) {
    throw ConfigError(format_config_error(origin_, map.Mark(), join(key), "expected a mapping"));
  }
  for (const auto& kv : map) {
    const auto name = kv.first.Scalar();
    MapReader entry(kv.second, join(key) + "." + name, origin_);
    fn(name, entry);
    entry.finish();
  }
}

void MapReader::finish() const {
  if (!node_.IsDefined() || !node_.IsMap()) {
    return;
  }
  for (const auto& kv : node_) {
    const auto& k = kv.first.Scalar();
    if (used_.find(k) == used_.end()) {
      throw ConfigError(format_config_error(origin_, kv.first.Mark(), join(k), "unknown key"));
    }
  }
}

}  // namespace veter::common
