// Hostile and careless clients against the real relay (release or ASan build):
// descriptor leaks on the HTTP listeners, running out of descriptors, idle
// connections, URLs that would build extra media, sessions that never play.
// Each test is bounded; none needs another source address.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "security_helpers.hpp"

namespace veter::test::security {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int open_fds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

/// CPU time (user + system) of `pid` in clock ticks.
long long cpu_ticks(pid_t pid) {
  const std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) {
    return -1;
  }
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  long long utime = 0;
  long long stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) {
      utime = std::stoll(field);
    } else if (i == 15) {
      stime = std::stoll(field);
    }
  }
  return utime + stime;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);  // polling a condition, bounded by `timeout`
  }
  return true;
}

int tcp_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// What curl does: an HTTP/1.1 request (keep-alive by default), read the whole
/// answer, then close the connection from the client's side. Returns the status.
int keepalive_request(int port, const std::string& path) {
  const int fd = tcp_connect(port);
  if (fd < 0) {
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string got;
  char buf[8192];
  std::size_t body_at = std::string::npos;
  std::size_t length = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
    if (body_at == std::string::npos) {
      const auto end = got.find("\r\n\r\n");
      if (end == std::string::npos) {
        continue;
      }
      body_at = end + 4;
      const auto cl = got.find("Content-Length: ");
      length = cl != std::string::npos && cl < end ? std::stoul(got.substr(cl + 16)) : 0;
    }
    if (got.size() >= body_at + length) {
      break;  // the whole answer: a keep-alive client would now keep or drop the connection
    }
  }
  ::close(fd);
  return got.size() > 12 && got.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(got.substr(9, 3)) : 0;
}

TEST(HostileHttp, KeepAliveClientsLeaveTheDescriptorCountWhereItWas) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", ""));
  const pid_t pid = relay.process().pid();
  ASSERT_EQ(keepalive_request(p.api, "/v3/paths/list"), 200);  // warm up (lazy allocations)
  ASSERT_EQ(keepalive_request(p.metrics, "/metrics"), 200);
  ASSERT_TRUE(eventually([&] { return open_fds(pid) > 0; }, 5s));
  const int before = open_fds(pid);
  int ok = 0;
  for (int i = 0; i < 5000; ++i) {
    ok += keepalive_request(i % 2 == 0 ? p.api : p.metrics, i % 2 == 0 ? "/v3/paths/list" : "/metrics") == 200;
  }
  EXPECT_EQ(ok, 5000);
  int after = 0;
  EXPECT_TRUE(eventually([&] { return (after = open_fds(pid)) <= before + 5; }, 10s))
      << "descriptors before " << before << ", after 5000 keep-alive requests " << after;
  EXPECT_TRUE(relay.process().running());
}

TEST(HostileHttp, IdleConnectionsAreClosed) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", ""));
  const pid_t pid = relay.process().pid();
  ASSERT_EQ(keepalive_request(p.api, "/v3/paths/list"), 200);
  const int before = open_fds(pid);
  std::vector<int> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(tcp_connect(i % 2 == 0 ? p.api : p.metrics));
    ASSERT_GE(idle.back(), 0);
  }
  ASSERT_TRUE(eventually([&] { return open_fds(pid) >= before + 95; }, 10s))
      << "the relay did not accept them: " << before << " -> " << open_fds(pid);
  // Closed by the relay after its idle timeout (10 s), although the clients never close.
  int now = 0;
  EXPECT_TRUE(eventually([&] { return (now = open_fds(pid)) <= before + 5; }, 25s))
      << "descriptors before " << before << ", with 100 idle connections still " << now;
  char c = 0;
  EXPECT_EQ(::recv(idle.front(), &c, 1, MSG_DONTWAIT), 0) << "the client sees the connection closed";
  for (int fd : idle) {
    ::close(fd);
  }
  EXPECT_EQ(keepalive_request(p.api, "/v3/paths/list"), 200);
}

TEST(HostileHttp, OutOfDescriptorsBacksOffAndRecovers) {
  TempDir dir;
  const auto p = pick_ports();
  // A descriptor limit the test can reach with loopback connections.
  const std::string rtsp = "  max_connections_per_address: 1000\n  idle_timeout: 60s\n";
  if (!std::filesystem::exists("/usr/bin/prlimit")) {
    GTEST_SKIP() << "/usr/bin/prlimit (util-linux) is missing: cannot give the relay a small descriptor limit";
  }
  Relay relay(dir, relay_yaml(p, rtsp, ""), {"/usr/bin/prlimit", "--nofile=128:128"});
  const pid_t pid = relay.process().pid();
  ASSERT_EQ(keepalive_request(p.api, "/v3/paths/list"), 200);
  std::vector<int> held;
  for (int i = 0; i < 160; ++i) {  // more than the relay can take: the rest waits in its backlog
    const int fd = tcp_connect(p.rtsp);
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  ASSERT_TRUE(eventually([&] { return open_fds(pid) >= 127; }, 15s)) << "fds " << open_fds(pid);
  // An API request while out of descriptors waits in the backlog too.
  const int api_waiting = tcp_connect(p.api);
  ASSERT_GE(api_waiting, 0);
  const std::string req = "GET /v3/paths/list HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(api_waiting, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  const auto lines_before = relay.process().err().size();
  const long long t0 = cpu_ticks(pid);
  const auto w0 = Clock::now();
  std::this_thread::sleep_for(3s);  // the measured interval itself (not a wait for a condition)
  const double cpu = static_cast<double>(cpu_ticks(pid) - t0) / static_cast<double>(sysconf(_SC_CLK_TCK)) /
                     std::chrono::duration<double>(Clock::now() - w0).count();
  const std::string log = relay.process().err().substr(lines_before);
  const auto lines = std::count(log.begin(), log.end(), '\n');
  EXPECT_LT(cpu, 0.3) << "the relay spins while out of descriptors";
  EXPECT_LT(lines, 30) << "log lines in 3 s while out of descriptors:\n" << log.substr(0, 2000);
  EXPECT_NE(relay.process().err().find("cannot accept connections"), std::string::npos) << log.substr(0, 2000);
  for (int fd : held) {
    ::close(fd);
  }
  // Descriptors free again: the waiting API request is answered and new ones work.
  timeval tv{15, 0};
  ::setsockopt(api_waiting, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[16] = {};
  EXPECT_GT(::recv(api_waiting, buf, sizeof buf - 1, 0), 0) << "the API never answered";
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 200", 0), 0U) << buf;
  ::close(api_waiting);
  EXPECT_TRUE(eventually([&] { return keepalive_request(p.api, "/v3/paths/list") == 200; }, 10s));
  RtspClient rtsp_client(p.rtsp);
  EXPECT_EQ(rtsp_client.request("OPTIONS", "rtsp://127.0.0.1:" + std::to_string(p.rtsp) + "/camera").status, 200);
  EXPECT_TRUE(relay.process().running());
}

// --- RTSP ---------------------------------------------------------------------

int threads_of(pid_t pid) {
  const std::string status = read_text_file("/proc/" + std::to_string(pid) + "/status");
  const auto at = status.find("Threads:");
  return at == std::string::npos ? -1 : std::stoi(status.substr(at + 8));
}

std::string session_of(const RtspReply& r) {
  const std::string s = r.header("Session");
  return s.substr(0, s.find(';'));
}

struct RtpSeen {
  Clock::time_point at;
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  int nal_type = 0;  // first payload byte's type (24 = STAP-A)
};

/// Reads interleaved RTP (channel 0) from a playing TCP session's socket for `span`.
std::vector<RtpSeen> read_interleaved(int fd, std::chrono::milliseconds span) {
  std::vector<RtpSeen> out;
  std::string buf;
  const auto end = Clock::now() + span;
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    char tmp[65536];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) {
      break;
    }
    buf.append(tmp, static_cast<std::size_t>(n));
    std::size_t at = 0;
    while (at < buf.size()) {
      if (buf[at] == '$') {
        if (buf.size() - at < 4) {
          break;
        }
        const std::size_t len = (static_cast<std::uint8_t>(buf[at + 2]) << 8) | static_cast<std::uint8_t>(buf[at + 3]);
        if (buf.size() - at < 4 + len) {
          break;
        }
        const auto* rtp = reinterpret_cast<const std::uint8_t*>(buf.data() + at + 4);
        if (buf[at + 1] == 0 && len >= 12) {
          const std::size_t header = 12 + 4 * (rtp[0] & 0x0f);
          out.push_back({Clock::now(), static_cast<std::uint16_t>((rtp[2] << 8) | rtp[3]),
                         (std::uint32_t{rtp[4]} << 24) | (std::uint32_t{rtp[5]} << 16) | (std::uint32_t{rtp[6]} << 8) |
                             rtp[7],
                         len > header ? rtp[header] & 0x1f : 0});
        }
        at += 4 + len;
      } else {
        const auto end_of_msg = buf.find("\r\n\r\n", at);  // an RTSP response (keep-alive answer)
        if (end_of_msg == std::string::npos) {
          break;
        }
        at = end_of_msg + 4;
      }
    }
    buf.erase(0, at);
  }
  return out;
}

class HostileRtsp : public ::testing::Test {
 protected:
  void start(const std::string& rtsp_extra = "") {
    p_ = pick_ports();
    relay_ = std::make_unique<Relay>(dir_, relay_yaml(p_, rtsp_extra, ""));
    publisher_ = start_publisher(dir_, p_.ingest, free_udp_port(true));
    ASSERT_TRUE(relay_->wait_ready(20s)) << relay_->process().err();
  }
  [[nodiscard]] std::string url(const std::string& suffix = "") const {
    return "rtsp://127.0.0.1:" + std::to_string(p_.rtsp) + "/camera" + suffix;
  }
  /// DESCRIBE, SETUP (TCP interleaved) and, when `play`, PLAY on `c`; returns the session id ("" on failure).
  std::string join(RawRtspClient& c, bool play, const std::string& query = "") {
    const auto d = c.request("DESCRIBE", url(query), {"Accept: application/sdp"});
    if (d.status != 200) {
      return "";
    }
    std::string base = d.header("Content-Base");
    if (base.empty()) {
      base = url(query) + "/";
    }
    const auto s = c.request("SETUP", base + "stream=0", {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"});
    if (s.status != 200) {
      return "";
    }
    const std::string id = session_of(s);
    if (play && c.request("PLAY", base, {"Session: " + id, "Range: npt=0-"}).status != 200) {
      return "";
    }
    return id;
  }

  TempDir dir_;
  Ports p_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Process> publisher_;
};

TEST_F(HostileRtsp, QueryStringsAndStraySetupsShareTheOneMediaAndItsSequence) {
  start();
  const pid_t pid = relay_->process().pid();
  RawRtspClient viewer(p_.rtsp);
  ASSERT_FALSE(join(viewer, true).empty());
  const auto warm = read_interleaved(viewer.fd(), 1000ms);
  ASSERT_FALSE(warm.empty()) << "the viewer gets no RTP";
  const int threads_before = threads_of(pid);
  // 30 connections DESCRIBE+SETUP a different query each; 10 SETUP without DESCRIBE. All held.
  std::vector<std::unique_ptr<RawRtspClient>> held;
  for (int i = 0; i < 30; ++i) {
    held.push_back(std::make_unique<RawRtspClient>(p_.rtsp));
    join(*held.back(), false, "?x=" + std::to_string(i));
  }
  for (int i = 0; i < 10; ++i) {
    held.push_back(std::make_unique<RawRtspClient>(p_.rtsp));
    held.back()->request("SETUP", url("/stream=0"), {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"});
  }
  const auto seen = read_interleaved(viewer.fd(), 2000ms);
  const int threads_after = threads_of(pid);
  EXPECT_LE(threads_after, threads_before + 10)
      << "threads " << threads_before << " -> " << threads_after << ": a media per URL";
  ASSERT_GT(seen.size(), 20U);
  int gaps = 0;
  for (std::size_t i = 1; i < seen.size(); ++i) {
    gaps += static_cast<std::uint16_t>(seen[i].seq - seen[i - 1].seq) != 1;
  }
  EXPECT_EQ(gaps, 0) << "sequence gaps the viewer would count as loss (TCP on loopback loses nothing)";
  EXPECT_TRUE(relay_->process().running());
}

TEST_F(HostileRtsp, SessionsThatNeverPlayDoNotLockOutViewers) {
  start("  max_connections: 5\n  idle_timeout: 1s\n");
  Viewer playing(url());
  ASSERT_TRUE(playing.wait_frames(5, 20s));
  // Four connections that will never play: two SETUP and keep the session alive
  // with GET_PARAMETER, one SETUPs and tears down, one DESCRIBEs only, then keeps asking OPTIONS.
  std::vector<std::unique_ptr<RawRtspClient>> idle;
  std::vector<std::string> sessions;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawRtspClient>(p_.rtsp));
    sessions.push_back(i < 3 ? join(*idle.back(), false) : "");
  }
  ASSERT_FALSE(sessions[0].empty());
  ASSERT_EQ(idle[2]->request("TEARDOWN", url(), {"Session: " + sessions[2]}).status, 200);
  ASSERT_EQ(idle[3]->request("DESCRIBE", url(), {"Accept: application/sdp"}).status, 200);
  // Full (5 of 5): a new viewer is refused until the idle ones are closed.
  const auto deadline = Clock::now() + 15s;
  bool admitted = false;
  while (!admitted && Clock::now() < deadline) {
    for (std::size_t i = 0; i < idle.size(); ++i) {  // keep-alives, as a player would send them
      if (i == 2) {
        continue;
      }
      const std::string method = i == 3 ? "OPTIONS" : "GET_PARAMETER";
      idle[i]->request(method, url(), i == 3 ? std::vector<std::string>{} : std::vector<std::string>{"Session: " + sessions[i]},
                       300ms);
    }
    RawRtspClient fresh(p_.rtsp);
    admitted = !join(fresh, true).empty();
  }
  EXPECT_TRUE(admitted) << "connections that never played held every slot of max_connections";
  for (auto& c : idle) {
    EXPECT_TRUE(c->drain_until_closed(5s)) << "a connection without a playing session stayed open";
  }
  const int before = playing.frames();
  EXPECT_TRUE(playing.wait_frames(before + 10, 10s)) << "the playing viewer was closed as idle";
}

TEST_F(HostileRtsp, ASessionThatNeverPlaysDoesNotDelayTheNextViewer) {
  start();
  RawRtspClient stuck(p_.rtsp);
  const std::string id = join(stuck, false);  // builds the shared media, never plays it
  ASSERT_FALSE(id.empty());
  const auto until = Clock::now() + 4s;  // what it would queue: 4 s of video
  while (Clock::now() < until) {
    EXPECT_EQ(stuck.request("GET_PARAMETER", url(), {"Session: " + id}).status, 200);
    std::this_thread::sleep_for(500ms);  // a player's keep-alive interval (not a wait for a condition)
  }
  RawRtspClient viewer(p_.rtsp);
  ASSERT_FALSE(join(viewer, true).empty());
  const auto seen = read_interleaved(viewer.fd(), 1500ms);
  ASSERT_GT(seen.size(), 5U);
  // A packet's lag behind live: how much older its video time is than the newest
  // packet's, beyond the wall time between their arrivals. Sent live, that is ~0;
  // queued while the first session did not play, it is the time it waited.
  const auto& last = seen.back();
  int stale = 0;
  double worst = 0;
  for (const auto& pkt : seen) {
    const double lag = static_cast<double>(static_cast<std::int32_t>(last.ts - pkt.ts)) / 90000.0 -
                       std::chrono::duration<double>(last.at - pkt.at).count();
    if (pkt.nal_type != 24 && lag > 1.0) {  // the parameter-set packet (STAP-A) carries no picture
      ++stale;
      worst = std::max(worst, lag);
    }
  }
  EXPECT_EQ(stale, 0) << stale << " of " << seen.size() << " packets arrived up to " << worst
                      << " s behind live: queued while the first session did not play";
}

}  // namespace
}  // namespace veter::test::security
