#include "veter/probe/run.hpp"

int main(int argc, char** argv) { return veter::probe::run(argc, argv); }
