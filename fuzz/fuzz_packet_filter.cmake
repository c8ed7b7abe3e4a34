# The relay's ingest packet classifier (src/relay/ingest/packet_filter.*).
veter_fuzz_target(fuzz_packet_filter fuzz_packet_filter.cpp LIBS veter_relay_lib)
