#include "veter/relay/serve/tcp_queue.hpp"

// linux/tcp.h (not netinet/tcp.h): glibc's struct tcp_info lacks tcpi_bytes_acked.
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace veter::relay {

std::optional<TcpQueueState> probe_tcp_queue(int fd) {
  if (fd < 0) {
    return std::nullopt;
  }
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, 6 /* IPPROTO_TCP */, TCP_INFO, &info, &len) != 0) {
    return std::nullopt;
  }
  int outq = 0;
  if (ioctl(fd, SIOCOUTQ, &outq) != 0) {
    return std::nullopt;
  }
  TcpQueueState s;
  s.bytes_acked = info.tcpi_bytes_acked;
  s.queued = outq > 0 ? static_cast<std::uint64_t>(outq) : 0;
  return s;
}

bool disable_nagle(int fd) {
  const int on = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0;
}

}  // namespace veter::relay
