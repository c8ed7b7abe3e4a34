#pragma once
#include <string_view>
namespace veter::common {
/// The project version, e.g. "0.1.0".
std::string_view version();
}  // namespace veter::common
