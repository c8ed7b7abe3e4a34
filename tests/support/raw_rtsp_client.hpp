// A blocking RTSP/1.0 client on a raw TCP socket to 127.0.0.1, for tests that
// need to see exact statuses and headers (malformed requests, auth, stalled readers).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace veter::test {

/// A blocking RTSP/1.0 client on a raw TCP socket.
class RawRtspClient {
 public:
  /// `rcvbuf` > 0 sets SO_RCVBUF before connecting (to make a stalled reader fill up fast).
  explicit RawRtspClient(int port, int rcvbuf = 0);
  ~RawRtspClient();
  RawRtspClient(const RawRtspClient&) = delete;
  RawRtspClient& operator=(const RawRtspClient&) = delete;

  struct Response {
    int status = 0;  // 0 = no response (timeout / closed)
    std::string headers;
    std::string body;
    [[nodiscard]] std::string header(const std::string& name) const;
  };
  Response request(const std::string& method, const std::string& url, const std::vector<std::string>& headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Send raw bytes (for malformed requests) and read one response.
  Response raw(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  struct Interleaved {
    int channel = -1;  // -1: nothing arrived in time
    std::vector<std::uint8_t> data;
  };
  /// The next interleaved frame ('$' channel length data) after the responses read so far.
  Interleaved read_interleaved(std::chrono::milliseconds timeout);
  /// Read and discard everything until the server closes the connection (true) or the timeout.
  bool drain_until_closed(std::chrono::milliseconds timeout);
  [[nodiscard]] int fd() const { return fd_; }
  /// Bytes read past the last response (e.g. interleaved RTP right after PLAY); clears them.
  std::string take_pending() { return std::exchange(buffer_, {}); }

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);
  Response read_response(std::chrono::milliseconds timeout);
  int fd_ = -1;
  int cseq_ = 0;
  std::string buffer_;
};

}  // namespace veter::test
