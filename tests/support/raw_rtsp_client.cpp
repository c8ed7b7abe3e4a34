#include "raw_rtsp_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace veter::test {

RawRtspClient::RawRtspClient(int port, int rcvbuf) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to the relay's RTSP port");
  }
}

RawRtspClient::~RawRtspClient() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool RawRtspClient::read_more(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  char buf[65536];
  const auto n = recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string RawRtspClient::Response::header(const std::string& name) const {
  std::istringstream in(headers);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
        line[name.size()] == ':') {
      auto v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ')) {
        v.erase(0, 1);
      }
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) {
        v.pop_back();
      }
      return v;
    }
  }
  return "";
}

RawRtspClient::Response RawRtspClient::request(const std::string& method, const std::string& url,
                                               const std::vector<std::string>& headers,
                                               std::chrono::milliseconds timeout) {
  std::string req = method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(++cseq_) + "\r\n";
  for (const auto& h : headers) {
    req += h + "\r\n";
  }
  req += "User-Agent: veter-test\r\n\r\n";
  return raw(req, timeout);
}

RawRtspClient::Response RawRtspClient::raw(const std::string& bytes, std::chrono::milliseconds timeout) {
  if (send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
    return {};
  }
  return read_response(timeout);
}

RawRtspClient::Response RawRtspClient::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Response r;
  while (true) {
    // Skip interleaved data ('$' channel len16 payload) that may precede the response.
    while (!buffer_.empty() && buffer_[0] == '$' && buffer_.size() >= 4) {
      const std::size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() < 4 + len) {
        break;
      }
      buffer_.erase(0, 4 + len);
    }
    const auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos && buffer_.rfind("RTSP/1.0 ", 0) == 0) {
      r.headers = buffer_.substr(0, end + 2);
      r.status = std::stoi(buffer_.substr(9, 3));
      const auto cl = r.header("Content-Length");
      const std::size_t body_len = cl.empty() ? 0 : std::stoul(cl);
      while (buffer_.size() < end + 4 + body_len) {
        if (!read_more(deadline)) {
          return r;
        }
      }
      r.body = buffer_.substr(end + 4, body_len);
      buffer_.erase(0, end + 4 + body_len);
      return r;
    }
    if (!read_more(deadline)) {
      return r;
    }
  }
}

RawRtspClient::Interleaved RawRtspClient::read_interleaved(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (buffer_.size() >= 4 && buffer_[0] == '$') {
      const std::size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() >= 4 + len) {
        Interleaved f;
        f.channel = static_cast<unsigned char>(buffer_[1]);
        f.data.assign(buffer_.begin() + 4, buffer_.begin() + static_cast<std::ptrdiff_t>(4 + len));
        buffer_.erase(0, 4 + len);
        return f;
      }
    } else if (!buffer_.empty() && buffer_[0] != '$') {
      return {};  // an RTSP message, not data
    }
    if (!read_more(deadline)) {
      return {};
    }
  }
}

bool RawRtspClient::drain_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) {
      continue;
    }
    const auto n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
      return true;  // EOF or reset: the server closed us
    }
  }
  return false;
}

}  // namespace veter::test
