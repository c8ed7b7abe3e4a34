# The WHEP endpoint's SDP offer / trickle fragment checks and its Authorization check (src/relay/webrtc/).
veter_fuzz_target(fuzz_whep fuzz_whep.cpp LIBS veter_relay_lib)
