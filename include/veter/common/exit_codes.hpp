// Process exit codes (sysexits.h values).
#pragma once

namespace veter::common::exit_code {
inline constexpr int ok = 0;
inline constexpr int usage = 64;        // EX_USAGE: bad command line
inline constexpr int unavailable = 69;  // EX_UNAVAILABLE: a needed service/device/port is missing
inline constexpr int internal = 70;     // EX_SOFTWARE: internal error
inline constexpr int config = 78;       // EX_CONFIG: bad configuration
}  // namespace veter::common::exit_code
