// How far a TCP peer is behind: kernel send-queue size and bytes acknowledged.
#pragma once

#include <cstdint>
#include <optional>

namespace veter::relay {

struct TcpQueueState {
  std::uint64_t bytes_acked = 0;  // total bytes the peer has acknowledged
  std::uint64_t queued = 0;       // bytes in the kernel send queue (unacked + unsent)
};
/// nullopt when the descriptor is not a TCP socket (or the kernel refuses).
std::optional<TcpQueueState> probe_tcp_queue(int fd);

/// Turns Nagle's algorithm off (TCP_NODELAY). Interleaved RTP is many small
/// writes; with Nagle on, a packet that follows an unacknowledged one waits for
/// the peer's ACK, which a player that sends nothing delays by up to 40 ms
/// (delayed ACK) -- exactly the packets a viewer needs right after PLAY.
/// Returns false when the descriptor is not a TCP socket.
bool disable_nagle(int fd);

}  // namespace veter::relay
