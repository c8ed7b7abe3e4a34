# SRTCP received by both daemons (common::SrtcpContext, libsrtp2).
veter_fuzz_target(fuzz_srtcp fuzz_srtcp.cpp LIBS veter_common)
