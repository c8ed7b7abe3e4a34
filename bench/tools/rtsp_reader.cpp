// A lightweight many-viewer RTSP reader for the fan-out benchmark.
//
// Opens N RTSP sessions over TCP (interleaved RTP) from one epoll thread, counts the
// bytes each viewer receives and nothing more (no depayloading, no decoding), so that
// hundreds of viewers cost the machine far less than the relay under test.
// Optionally samples a process's CPU time and RSS over the measurement window.
//
// veter-bench-reader --url rtsp://127.0.0.1:8555/camera --viewers 100 [--settle 2]
//                    [--window 5] [--pid RELAY_PID] [--connect-timeout 30]
// Prints one JSON object on stdout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Url {
  std::string host;
  std::string port = "554";
  std::string full;
};

Url parse_url(const std::string& u) {
  Url r;
  r.full = u;
  std::string rest = u.substr(u.find("://") + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos) {
    r.host = authority.substr(0, colon);
    r.port = authority.substr(colon + 1);
  } else {
    r.host = authority;
  }
  return r;
}

enum class Phase { connecting, describe, setup, play, streaming, failed };

struct Viewer {
  int fd = -1;
  Phase phase = Phase::connecting;
  std::string in;         // unparsed bytes
  std::string out;        // unsent bytes
  std::string base;       // Content-Base (aggregate URL)
  std::string session;
  int cseq = 0;
  std::uint64_t rtp_bytes = 0;
  std::uint64_t window_start_bytes = 0;
  Clock::time_point started;
  double first_byte_s = -1;  // time from connect() to the first RTP byte
  std::string error;
  Clock::time_point last_keepalive;
};

std::string header_value(const std::string& head, const std::string& name) {
  std::istringstream ss(head);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
        line[name.size()] == ':') {
      std::string v = line.substr(name.size() + 1);
      v.erase(0, v.find_first_not_of(' '));
      return v;
    }
  }
  return "";
}

std::string video_control(const std::string& sdp) {
  std::istringstream ss(sdp);
  std::string line;
  bool in_video = false;
  while (std::getline(ss, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.rfind("m=", 0) == 0) {
      in_video = line.rfind("m=video", 0) == 0;
    } else if (in_video && line.rfind("a=control:", 0) == 0) {
      return line.substr(10);
    }
  }
  return "";
}

struct CpuSample {
  double cpu_s = 0;
  long rss_kb = 0;
};

CpuSample sample_process(int pid) {
  CpuSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(content.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (rest >> tok) {
      f.push_back(tok);
    }
    // Fields after ")" start at field 3 (state); utime is field 14, stime 15.
    if (f.size() > 13) {
      const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / hz;
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_kb = std::atol(line.c_str() + 6);
    }
  }
  return s;
}

class Reader {
 public:
  Reader(Url url, int n) : url_(std::move(url)), viewers_(static_cast<std::size_t>(n)) {
    ep_ = epoll_create1(0);
  }
  ~Reader() {
    for (auto& v : viewers_) {
      if (v.fd >= 0) {
        close(v.fd);
      }
    }
    close(ep_);
  }

  void start(std::size_t i) {
    Viewer& v = viewers_[i];
    v.started = Clock::now();
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &res) != 0 || res == nullptr) {
      fail(v, "cannot resolve host");
      return;
    }
    v.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(v.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = connect(v.fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
      fail(v, std::string("connect: ") + std::strerror(errno));
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, v.fd, &ev);
    request(v, "DESCRIBE", url_.full, "Accept: application/sdp\r\n");
    v.phase = Phase::describe;
  }

  // Run the event loop for `seconds`; returns early when `until_ready` and every viewer
  // is streaming or failed.
  void pump(double seconds, bool until_ready) {
    const auto t0 = Clock::now();
    std::vector<epoll_event> events(256);
    char buf[65536];
    while (seconds_since(t0) < seconds) {
      if (until_ready && settled()) {
        return;
      }
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 50);
      for (int k = 0; k < n; ++k) {
        Viewer& v = viewers_[events[k].data.u64];
        if (v.fd < 0) {
          continue;
        }
        if ((events[k].events & (EPOLLERR | EPOLLHUP)) != 0 && (events[k].events & EPOLLIN) == 0) {
          fail(v, "connection closed or refused");
          continue;
        }
        if ((events[k].events & EPOLLOUT) != 0) {
          flush(v);
        }
        if ((events[k].events & EPOLLIN) != 0) {
          for (;;) {
            const ssize_t got = recv(v.fd, buf, sizeof buf, 0);
            if (got > 0) {
              v.in.append(buf, static_cast<std::size_t>(got));
              if (!parse(v)) {
                break;
              }
              if (got < static_cast<ssize_t>(sizeof buf)) {
                break;
              }
            } else if (got == 0) {
              fail(v, "server closed the connection");
              break;
            } else {
              if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fail(v, std::string("recv: ") + std::strerror(errno));
              }
              break;
            }
          }
        }
      }
      keepalives();
    }
  }

  [[nodiscard]] bool settled() const {
    return std::all_of(viewers_.begin(), viewers_.end(),
                       [](const Viewer& v) { return v.phase == Phase::streaming || v.phase == Phase::failed; });
  }
  std::vector<Viewer>& viewers() { return viewers_; }

 private:
  void fail(Viewer& v, const std::string& why) {
    if (v.phase != Phase::failed) {
      v.error = why;
      v.phase = Phase::failed;
    }
    if (v.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, v.fd, nullptr);
      close(v.fd);
      v.fd = -1;
    }
  }

  void request(Viewer& v, const std::string& method, const std::string& uri, const std::string& extra) {
    std::string r = method + " " + uri + " RTSP/1.0\r\nCSeq: " + std::to_string(++v.cseq) +
                    "\r\nUser-Agent: veter-bench-reader\r\n";
    if (!v.session.empty()) {
      r += "Session: " + v.session + "\r\n";
    }
    r += extra + "\r\n";
    v.out += r;
    flush(v);
  }

  void flush(Viewer& v) {
    while (!v.out.empty() && v.fd >= 0) {
      const ssize_t sent = send(v.fd, v.out.data(), v.out.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        v.out.erase(0, static_cast<std::size_t>(sent));
      } else {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) {
          fail(v, std::string("send: ") + std::strerror(errno));
        }
        break;
      }
    }
    if (v.fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN | (v.out.empty() ? 0U : static_cast<unsigned>(EPOLLOUT));
      ev.data.u64 = static_cast<std::uint64_t>(&v - viewers_.data());
      epoll_ctl(ep_, EPOLL_CTL_MOD, v.fd, &ev);
    }
  }

  void keepalives() {
    const auto now = Clock::now();
    for (auto& v : viewers_) {
      if (v.phase == Phase::streaming && now - v.last_keepalive > std::chrono::seconds(20)) {
        v.last_keepalive = now;
        request(v, "GET_PARAMETER", v.base, "");
      }
    }
  }

  // Consume complete units from v.in; returns false if the viewer failed.
  bool parse(Viewer& v) {
    std::size_t pos = 0;
    while (pos < v.in.size()) {
      if (v.in[pos] == '$') {
        if (v.in.size() - pos < 4) {
          break;
        }
        const std::size_t len = (static_cast<unsigned char>(v.in[pos + 2]) << 8) |
                                static_cast<unsigned char>(v.in[pos + 3]);
        if (v.in.size() - pos < 4 + len) {
          break;
        }
        if (v.in[pos + 1] == 0) {
          if (v.rtp_bytes == 0) {
            v.first_byte_s = seconds_since(v.started);
          }
          v.rtp_bytes += len;
        }
        pos += 4 + len;
        continue;
      }
      const auto end = v.in.find("\r\n\r\n", pos);
      if (end == std::string::npos) {
        break;
      }
      const std::string head = v.in.substr(pos, end + 4 - pos);
      const std::string cl = header_value(head, "Content-Length");
      const std::size_t body_len = cl.empty() ? 0 : std::stoul(cl);
      if (v.in.size() - (end + 4) < body_len) {
        break;
      }
      const std::string body = v.in.substr(end + 4, body_len);
      pos = end + 4 + body_len;
      if (head.rfind("RTSP/1.0", 0) != 0) {
        continue;  // a request from the server: ignore
      }
      const int status = std::atoi(head.c_str() + 9);
      if (!on_response(v, status, head, body)) {
        return false;
      }
    }
    v.in.erase(0, pos);
    return true;
  }

  bool on_response(Viewer& v, int status, const std::string& head, const std::string& body) {
    if (v.phase == Phase::streaming) {
      return true;  // keep-alive answers
    }
    if (status != 200) {
      fail(v, "RTSP " + std::to_string(status) + " in answer to " +
                  (v.phase == Phase::describe ? "DESCRIBE" : v.phase == Phase::setup ? "SETUP" : "PLAY"));
      return false;
    }
    switch (v.phase) {
      case Phase::describe: {
        v.base = header_value(head, "Content-Base");
        if (v.base.empty()) {
          v.base = url_.full;
        }
        std::string control = video_control(body);
        std::string setup_url;
        if (control.rfind("rtsp://", 0) == 0) {
          setup_url = control;
        } else if (control.empty() || control == "*") {
          setup_url = v.base;
        } else {
          setup_url = v.base + (v.base.back() == '/' ? "" : "/") + control;
        }
        v.phase = Phase::setup;
        request(v, "SETUP", setup_url, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
        break;
      }
      case Phase::setup: {
        std::string s = header_value(head, "Session");
        v.session = s.substr(0, s.find(';'));
        v.phase = Phase::play;
        std::string aggregate = v.base;
        if (aggregate.size() > 1 && aggregate.back() == '/') {
          aggregate.pop_back();
        }
        request(v, "PLAY", aggregate, "Range: npt=0-\r\n");
        break;
      }
      case Phase::play:
        v.phase = Phase::streaming;
        v.last_keepalive = Clock::now();
        break;
      default:
        break;
    }
    return true;
  }

  Url url_;
  std::vector<Viewer> viewers_;
  int ep_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int viewers = 1;
  double settle = 2;
  double window = 5;
  double connect_timeout = 30;
  int pid = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string val = argv[i + 1];
    if (k == "--url") {
      url = val;
    } else if (k == "--viewers") {
      viewers = std::atoi(val.c_str());
    } else if (k == "--settle") {
      settle = std::atof(val.c_str());
    } else if (k == "--window") {
      window = std::atof(val.c_str());
    } else if (k == "--pid") {
      pid = std::atoi(val.c_str());
    } else if (k == "--connect-timeout") {
      connect_timeout = std::atof(val.c_str());
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 64;
    }
  }
  if (url.rfind("rtsp://", 0) != 0 || viewers < 1) {
    std::fprintf(stderr,
                 "usage: %s --url rtsp://HOST:PORT/PATH --viewers N [--settle S] [--window S] [--pid PID] "
                 "[--connect-timeout S]\n",
                 argv[0]);
    return 64;
  }
  Reader reader(parse_url(url), viewers);
  const auto t0 = Clock::now();
  // Connect in batches of 25 so that the accept queue is not the thing being measured.
  for (int i = 0; i < viewers; ++i) {
    reader.start(static_cast<std::size_t>(i));
    if (i % 25 == 24) {
      reader.pump(0.02, false);
    }
  }
  reader.pump(connect_timeout, true);
  const double setup_s = seconds_since(t0);
  reader.pump(settle, false);
  for (auto& v : reader.viewers()) {
    v.window_start_bytes = v.rtp_bytes;
  }
  const CpuSample cpu0 = pid > 0 ? sample_process(pid) : CpuSample{};
  const auto w0 = Clock::now();
  reader.pump(window, false);
  const double window_s = seconds_since(w0);
  const CpuSample cpu1 = pid > 0 ? sample_process(pid) : CpuSample{};

  nlohmann::json out;
  std::vector<double> rates;
  std::vector<double> first_bytes;
  nlohmann::json errors = nlohmann::json::object();
  int streaming = 0;
  for (const auto& v : reader.viewers()) {
    if (v.phase == Phase::streaming) {
      ++streaming;
      rates.push_back(static_cast<double>(v.rtp_bytes - v.window_start_bytes) * 8.0 / 1000.0 / window_s);
      if (v.first_byte_s >= 0) {
        first_bytes.push_back(v.first_byte_s * 1000.0);
      }
    } else {
      errors[v.error.empty() ? "not set up in time" : v.error] =
          errors.value(v.error.empty() ? "not set up in time" : v.error, 0) + 1;
    }
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [](const std::vector<double>& s, double q) {
    return s.empty() ? 0.0 : s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1) + 0.5)];
  };
  out["viewers"] = viewers;
  out["streaming"] = streaming;
  out["failed"] = viewers - streaming;
  out["errors"] = errors;
  out["setup_s"] = setup_s;
  out["window_s"] = window_s;
  out["rate_kbps"] = {{"min", pct(sorted, 0)}, {"p50", pct(sorted, 0.5)}, {"max", pct(sorted, 1)}};
  out["total_mbps"] = [&] {
    double t = 0;
    for (double r : rates) {
      t += r;
    }
    return t / 1000.0;
  }();
  out["per_viewer_kbps"] = rates;
  if (pid > 0) {
    out["cpu_percent"] = (cpu1.cpu_s - cpu0.cpu_s) / window_s * 100.0;
    out["rss_mb"] = static_cast<double>(cpu1.rss_kb) / 1024.0;
  }
  std::printf("%s\n", out.dump().c_str());
  return streaming == viewers ? 0 : 1;
}
