#pragma once
namespace veter::probe {
/// veter-probe's main.
int run(int argc, char** argv);
}  // namespace veter::probe
