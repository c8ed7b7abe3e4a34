// Helpers for the shipping tests: files, programs on PATH, YAML flattening, installs.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace veter::test::ship {

std::string read_text(const std::string& path);
bool file_exists(const std::string& path);
/// Absolute path of `program` found on PATH, or "".
std::string which(const std::string& program);
/// Leaf keys of a YAML mapping as dotted paths ("rtsp.listen"); sequences are leaves.
std::set<std::string> flatten_keys(const std::string& yaml_text);
/// Lines of `text`.
std::vector<std::string> lines(const std::string& text);
/// `cmake --install` of the relay and publisher components into DESTDIR `destdir` with `prefix`;
/// returns the combined output, fails the current test on error.
std::string install_tree(const std::string& destdir, const std::string& prefix);

}  // namespace veter::test::ship
