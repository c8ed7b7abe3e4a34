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

}  // namespace veter::relay
