// `veterrtpsrc`: an appsrc that carries ready RTP packets into a
// gst-rtsp-server media and answers the questions gst-rtsp-server asks its
// payloader (properties "pt", "stats", "seqnum", "timestamp"), so that PLAY
// gets a correct RTP-Info line (seq, rtptime) for every viewer, UDP and TCP,
// from the first packet on. Registered once per process as a static element.
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace veter::relay {

/// Register the element (idempotent). Returns false if registration failed.
bool register_rtp_appsrc();

/// Streaming thread: the last packet pushed into `src` (a veterrtpsrc).
void rtp_appsrc_note_packet(GstElement* src, std::uint16_t seq, std::uint32_t timestamp, GstClockTime running_time);

/// Any thread: the packet that will be pushed next into `src` has sequence
/// number `next_seq` and RTP timestamp `timestamp` at `running_time` (what a
/// viewer joining now is told in RTP-Info).
void rtp_appsrc_announce_next(GstElement* src, std::uint16_t next_seq, std::uint32_t timestamp,
                              GstClockTime running_time);

}  // namespace veter::relay
