#include "veter/relay/run.hpp"

int main(int argc, char** argv) { return veter::relay::run(argc, argv); }
