#pragma once
namespace veter::relay {
/// veter-relay's whole program; returns the process exit code.
int run(int argc, char** argv);
}  // namespace veter::relay
