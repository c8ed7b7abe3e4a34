#include "http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

namespace veter::test {

std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return {};
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
        break;
      }
      char buf[8192];
      const auto n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return out;
}

HttpReply http_get(int port, const std::string& path, const std::vector<std::string>& headers) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) {
    req += h + "\r\n";
  }
  req += "\r\n";
  const auto resp = raw_exchange(port, req, std::chrono::seconds(10));
  HttpReply r;
  if (resp.rfind("HTTP/1.", 0) == 0 && resp.size() > 12) {
    r.status = std::stoi(resp.substr(9, 3));
    const auto end = resp.find("\r\n\r\n");
    r.body = end == std::string::npos ? "" : resp.substr(end + 4);
  }
  return r;
}

bool wait_path_ready(int api_port, const std::string& name, std::chrono::milliseconds timeout,
                     const std::string& token) {
  std::vector<std::string> headers;
  if (!token.empty()) {
    headers.push_back("Authorization: Bearer " + token);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto r = http_get(api_port, "/v3/paths/get/" + name, headers);
    // The API writes compact JSON (nlohmann's dump()): the key and its value without spaces.
    if (r.status == 200 && r.body.find("\"ready\":true") != std::string::npos) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace veter::test
