// Strict YAML reading for the daemons' configuration files.
//
// Every error names the file, the line and column (1-based) and the key path:
//   relay.yml:12:5: paths.camera.ingest.listen: "90000" is not a valid port
// Unknown keys are errors. Missing keys keep the value already in the target
// (the built-in default), so loading is "defaults -> file -> CLI overrides".
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "veter/common/values.hpp"

namespace veter::common {

/// A configuration error with its full, printable message.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parse a YAML document from text; `origin` is the name used in messages.
YAML::Node parse_yaml(const std::string& text, const std::string& origin);
/// Read and parse a file; a missing/unreadable file or a syntax error is a ConfigError.
YAML::Node load_yaml_file(const std::string& path);

/// Scalar conversions used by MapReader::read. Throw ValueError on bad input.
void from_yaml(const YAML::Node& n, std::string& out);
void from_yaml(const YAML::Node& n, int& out);
void from_yaml(const YAML::Node& n, bool& out);
void from_yaml(const YAML::Node& n, Endpoint& out);
void from_yaml(const YAML::Node& n, Duration& out);
void from_yaml(const YAML::Node& n, VideoSize& out);
void from_yaml(const YAML::Node& n, std::vector<Cidr>& out);
void from_yaml(const YAML::Node& n, std::vector<std::string>& out);

/// Reads one YAML mapping, tracking which keys were consumed.
class MapReader {
 public:
  /// `node` may be null/undefined (then nothing is read). A non-map is an error.
  MapReader(const YAML::Node& node, std::string key_path, std::string origin);

  /// Read `key` into `out` if present.
  template <typename T>
  MapReader& read(std::string_view key, T& out) {
    return read_with(key, [&out](const YAML::Node& n) { from_yaml(n, out); });
  }
  /// Read `key` with a custom converter (which throws ValueError on bad input).
  MapReader& read_with(std::string_view key, const std::function<void(const YAML::Node&)>& fn);
  /// Nested mapping at `key` (an empty reader when absent).
  MapReader child(std::string_view key);
  /// Every entry of the nested mapping at `key`, in file order.
  void for_each(std::string_view key,
                const std::function<void(const std::string& name, MapReader& entry)>& fn);
  /// Throw for any key that was not consumed.
  void finish() const;

  [[nodiscard]] bool present(std::string_view key) const;
  [[nodiscard]] const std::string& key_path() const { return path_; }
  /// Build the error for `key` (or the map itself when key is empty) at its position.
  [[nodiscard]] ConfigError error(std::string_view key, const std::string& reason) const;

 private:
  [[nodiscard]] std::string join(std::string_view key) const;
  YAML::Node node_;
  std::string path_;
  std::string origin_;
  std::set<std::string, std::less<>> used_;
};

/// "origin:line:col: key.path: reason" for a node (mark may be unknown).
std::string format_config_error(const std::string& origin, const YAML::Mark& mark,
                                const std::string& key_path, const std::string& reason);

}  // namespace veter::common
