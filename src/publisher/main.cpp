#include "veter/publisher/run.hpp"

int main(int argc, char** argv) { return veter::publisher::run(argc, argv); }
