#pragma once
namespace veter::publisher {
/// veter-publisher's whole program; returns the process exit code.
int run(int argc, char** argv);
}  // namespace veter::publisher
