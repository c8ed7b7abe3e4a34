// Security end-to-end tests: real veter-relay / veter-publisher on
// loopback, real GStreamer senders and rtspsrc viewers.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rtsp_viewer.hpp"
#include "security_helpers.hpp"

using namespace std::chrono_literals;
using namespace veter::test;
using namespace veter::test::security;

namespace {

std::string url(const Ports& p, const char* scheme = "rtsp") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(p.rtsp) + "/camera";
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

int rtsp_status(const std::string& reply) {
  return reply.rfind("RTSP/1.0 ", 0) == 0 && reply.size() > 12 ? std::stoi(reply.substr(9, 3)) : 0;
}

}  // namespace

TEST(SecurityE2e, SenderOutsideAllowFromNeverReachesAViewer) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", "      allow_from: [127.0.0.1/32]\n"));
  {
    Sender intruder("127.0.0.2", free_udp_port(true), p.ingest);
    std::this_thread::sleep_for(4s);
    Viewer v(url(p));
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(v.frames(), 0);
    EXPECT_FALSE(relay.wait_ready(100ms)) << "a sender outside allow_from made the path ready";
    const auto n = dropped(p.metrics, "not_allowed");
    ASSERT_TRUE(n.has_value());
    EXPECT_GT(*n, 50);
  }
  // The same relay accepts an allowed sender: the test can fail for the right reason.
  Sender good("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  Viewer v(url(p));
  EXPECT_TRUE(v.wait_frames(20, 30s)) << "frames: " << v.frames();
}

TEST(SecurityE2e, SecondSenderIgnoredUntilFirstIsSilentThenTakesOver) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", ""));
  auto first = std::make_unique<Sender>("127.0.0.1", free_udp_port(true), p.ingest, "320x240");
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  const int second_port = free_udp_port(true);
  Sender second("127.0.0.1", second_port, p.ingest, "160x120");
  std::this_thread::sleep_for(2s);
  {
    Viewer v(url(p));
    ASSERT_TRUE(v.wait_frames(30, 45s)) << "frames: " << v.frames() << relay.process().err();
    EXPECT_EQ(v.width(), 320) << "the second sender's picture reached the viewer while the first was live";
  }
  const auto foreign = dropped(p.metrics, "foreign_source");
  ASSERT_TRUE(foreign.has_value());
  EXPECT_GT(*foreign, 20);
  const std::string second_name = "publisher 127.0.0.1:" + std::to_string(second_port);
  EXPECT_EQ((relay.process().err() + relay.process().out()).find(second_name), std::string::npos);
  first.reset();  // the first publisher goes silent; after ingest.timeout (1s) the second takes over
  // Logged as "... took the path from ..." when its packet comes first, or "... is sending" when
  // the tick has already marked the silent path not ready (which one depends on timing).
  ASSERT_TRUE(relay.process().wait_for_output("publisher 127.0.0.1:" + std::to_string(second_port) + " ", 30s))
      << relay.process().err();
  // Around the switch the path can be briefly not ready (until the new publisher's first IDR): a
  // viewer that got 404 in that window connects again, as players do. Bounded: 4 x 10 s.
  int width = 0;
  for (int attempt = 0; attempt < 4 && width == 0; ++attempt) {
    Viewer v(url(p));
    if (v.wait_frames(30, 10s)) {
      width = v.width();
    }
  }
  ASSERT_NE(width, 0) << "no viewer decoded the new publisher's video" << relay.process().err();
  EXPECT_EQ(width, 160);
}

TEST(SecurityE2e, SrtpBothSidesDecodesAndWrongKeyDelivesNothing) {
  TempDir dir;
  const auto key = write_key_file(dir, "relay.key");
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", "      srtp_key_file: \"" + key + "\"\n"));
  {
    auto pub = start_publisher(dir, p.ingest, free_udp_port(true), key);
    ASSERT_TRUE(relay.wait_ready(45s)) << relay.process().err() << pub->err();
    Viewer v(url(p));
    EXPECT_TRUE(v.wait_frames(30, 30s)) << "frames: " << v.frames();
    EXPECT_EQ(v.width(), 320);
    EXPECT_EQ(dropped(p.metrics, "srtp_auth").value_or(-1), 0);
    // The key never appears in either log.
    std::string hex;
    {
      FILE* f = fopen(key.c_str(), "r");
      char buf[128] = {};
      ASSERT_NE(f, nullptr);
      ASSERT_NE(fgets(buf, sizeof buf, f), nullptr);
      fclose(f);
      hex = std::string(buf).substr(0, 60);
    }
    EXPECT_EQ((relay.process().err() + relay.process().out()).find(hex), std::string::npos);
    EXPECT_EQ((pub->err() + pub->out()).find(hex), std::string::npos);
    pub->stop();
  }
  ASSERT_TRUE(relay.process().wait_for_output("not ready", 20s));
  const auto wrong = write_key_file(dir, "wrong.key");
  auto pub = start_publisher(dir, p.ingest, free_udp_port(true), wrong);
  ASSERT_TRUE(relay.process().wait_for_output("none of the last", 45s)) << relay.process().err();
  Viewer v(url(p));
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(v.frames(), 0);
  const auto a = dropped(p.metrics, "srtp_auth").value_or(0);
  std::this_thread::sleep_for(2s);
  const auto b = dropped(p.metrics, "srtp_auth").value_or(0);
  EXPECT_GT(a, 50);
  EXPECT_GT(b, a) << "the srtp_auth counter does not rise";
  EXPECT_EQ(count_of(relay.process().err() + relay.process().out(), "none of the last"), 1)
      << "the key mismatch must be logged once, not per packet";
  // Hundreds of packets failed authentication by now: srtpdec's own per-packet line never shows,
  // and the relay's summary line comes at most once per 10 s interval.
  const std::string log = relay.process().err() + relay.process().out();
  EXPECT_EQ(count_of(log, "Error authentication"), 0) << log;
  EXPECT_LE(count_of(log, "authentication"), 3) << log;
}

TEST(SecurityE2e, SrtpPublisherToAPlainRelayNeverMakesThePathReady) {
  // An SRTP publisher whose relay has no key: its H.264 parameter sets are ciphertext. The path
  // must not become ready with them (viewers would get an SDP for garbage), and the relay says
  // once that the stream looks encrypted.
  TempDir dir;
  const auto key = write_key_file(dir, "publisher.key");
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", ""));
  auto pub = start_publisher(dir, p.ingest, free_udp_port(true), key);
  ASSERT_TRUE(relay.process().wait_for_output("looks encrypted", 45s)) << relay.process().err() << pub->err();
  // Several IDR intervals later (the test publisher sends one a second) it is still not ready.
  EXPECT_FALSE(relay.wait_ready(5s)) << relay.process().err();
  const auto path = http_get(p.api, "/v3/paths/get/camera");
  EXPECT_EQ(path.status, 200);
  EXPECT_NE(path.body.find("\"ready\":false"), std::string::npos) << path.body;
  const std::string log = relay.process().err() + relay.process().out();
  EXPECT_EQ(count_of(log, "looks encrypted"), 1) << log;
  EXPECT_EQ(log.find("resolution changed"), std::string::npos) << log;
  EXPECT_EQ(log.find("] path camera: ready"), std::string::npos) << log;
}

TEST(SecurityE2e, ForgedPlainRtpToSrtpPathIsDropped) {
  TempDir dir;
  const auto key = write_key_file(dir, "relay.key");
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", "      srtp_key_file: \"" + key + "\"\n"));
  Sender forger("127.0.0.1", free_udp_port(true), p.ingest);
  Viewer v(url(p));
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(v.frames(), 0);
  EXPECT_FALSE(relay.wait_ready(100ms));
  EXPECT_GT(dropped(p.metrics, "srtp_auth").value_or(0), 50);
}

TEST(SecurityE2e, KeyFileReadableByOthersRefusesToStart) {
  TempDir dir;
  const auto key = write_key_file(dir, "open.key");
  chmod(key.c_str(), 0644);
  const auto p = pick_ports();
  const auto cfg = dir.write("relay.yml", relay_yaml(p, "", "      srtp_key_file: \"" + key + "\"\n"));
  const auto r = run_command({VETER_RELAY_BIN, "--config", cfg}, 30s);
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.err + r.out).find("group/others"), std::string::npos) << r.err;
  const auto pr = run_command({VETER_PUBLISHER_BIN, "--source", "test", "--encoder", "x264enc", "--port",
                               std::to_string(p.ingest), "--config",
                               dir.write("pub.yml", "srtp_key_file: \"" + key + "\"\n")},
                              30s);
  EXPECT_NE(pr.status, 0);
  EXPECT_NE((pr.err + pr.out).find("group/others"), std::string::npos) << pr.err;
}


TEST(SecurityE2e, RtspWithoutCredentials401WithThemVideoAndFailuresRateLimited) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "  users:\n    - {user: alice, pass: \"wonderland\"}\n", ""));
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  const auto describe = "DESCRIBE " + url(p) + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n";
  const auto reply = raw_exchange(p.rtsp, describe, 3s);
  EXPECT_EQ(rtsp_status(reply), 401) << reply;
  EXPECT_NE(reply.find("WWW-Authenticate: Digest"), std::string::npos) << reply;
  {
    Viewer v(url(p), "alice", "wonderland");
    EXPECT_TRUE(v.wait_frames(30, 30s)) << "frames: " << v.frames();
  }
  {
    Viewer v(url(p), "alice", "wrong");
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(v.frames(), 0);
  }
  // Basic is refused without TLS, even with the right password.
  const auto basic = raw_exchange(p.rtsp,
                                  "DESCRIBE " + url(p) +
                                      " RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n",
                                  3s);
  EXPECT_EQ(rtsp_status(basic), 401) << basic;
  // Hammer with wrong credentials until the address is blocked; then even right ones are refused.
  for (int i = 0; i < 12; ++i) {
    Viewer v(url(p), "alice", "guess" + std::to_string(i));
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(relay.process().wait_for_output("further attempts from this address are refused", 20s));
  Viewer blocked(url(p), "alice", "wonderland");
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(blocked.frames(), 0) << "a rate-limited address still got video";
}

TEST(SecurityE2e, RtspsWithSelfSignedCertificate) {
  TempDir dir;
  const auto cert = dir.path() + "/cert.pem";
  const auto keyf = dir.path() + "/key.pem";
  const auto gen = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyf, "-out",
                                cert, "-days", "2", "-subj", "/CN=127.0.0.1"},
                               60s);
  ASSERT_EQ(gen.status, 0) << gen.err;
  const auto p = pick_ports();
  const std::string tls = "  tls: {cert_file: \"" + cert + "\", key_file: \"" + keyf + "\"}\n";
  Relay relay(dir, relay_yaml(p, tls + "  users:\n    - {user: alice, pass: \"wonderland\"}\n",
                              ""));
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  {
    Viewer v(url(p, "rtsps"), "alice", "wonderland");
    EXPECT_TRUE(v.wait_frames(30, 40s)) << "frames: " << v.frames() << relay.process().err();
  }
  {
    Viewer anonymous(url(p, "rtsps"));
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(anonymous.frames(), 0);
  }
  // Plain RTSP on the TLS port gets nothing.
  const auto plain = raw_exchange(p.rtsp, "OPTIONS " + url(p) + " RTSP/1.0\r\nCSeq: 1\r\n\r\n", 3s);
  EXPECT_NE(rtsp_status(plain), 200);
  EXPECT_TRUE(relay.process().running());
}

TEST(SecurityE2e, BadCertificateIsAStartupErrorNamingTheFile) {
  TempDir dir;
  const auto bad = dir.write("bad.pem", "not a certificate\n");
  const auto p = pick_ports();
  const auto cfg = dir.write(
      "relay.yml", relay_yaml(p, "  tls: {cert_file: \"" + bad + "\", key_file: \"" + bad + "\"}\n", ""));
  const auto r = run_command({VETER_RELAY_BIN, "--config", cfg}, 30s);
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.err + r.out).find(bad), std::string::npos) << r.err;
  const auto missing = dir.path() + "/missing.pem";
  const auto cfg2 = dir.write(
      "relay2.yml", relay_yaml(p, "  tls: {cert_file: \"" + missing + "\", key_file: \"" + bad + "\"}\n", ""));
  const auto r2 = run_command({VETER_RELAY_BIN, "--config", cfg2}, 30s);
  EXPECT_NE(r2.status, 0);
  EXPECT_NE((r2.err + r2.out).find(missing), std::string::npos) << r2.err;
}

TEST(SecurityE2e, ApiOnNonLoopbackNeedsAToken) {
  TempDir dir;
  const auto p = pick_ports();
  const auto cfg = dir.write("relay.yml",
                             relay_yaml(p, "", "", "{listen: \"0.0.0.0:" + std::to_string(p.api) + "\"}"));
  const auto r = run_command({VETER_RELAY_BIN, "--config", cfg}, 30s);
  EXPECT_EQ(r.status, 78) << r.err;
  EXPECT_NE(r.err.find("api.token"), std::string::npos) << r.err;

  Relay relay(dir, relay_yaml(p, "", "",
                              "{listen: \"0.0.0.0:" + std::to_string(p.api) + "\", token: \"t0ken-abc\"}",
                              "{listen: \"127.0.0.1:" + std::to_string(p.metrics) + "\", token: \"m3trics\"}"));
  EXPECT_EQ(http_get(p.api, "/v3/paths/list").status, 401);
  EXPECT_EQ(http_get(p.api, "/v3/paths/list", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(http_get(p.api, "/v3/paths/list", {"Authorization: Bearer t0ken-abc"}).status, 200);
  EXPECT_EQ(http_get(p.metrics, "/metrics").status, 401);
  EXPECT_EQ(http_get(p.metrics, "/metrics", {"Authorization: Bearer m3trics"}).status, 200);
}

TEST(SecurityE2e, AThousandAbandonedConnectionsDoNotStopARealViewer) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 1200 && lim.rlim_max >= 1200) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "  max_connections_per_address: 50\n  idle_timeout: 2s\n", ""));
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0) << "i=" << i;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.3", &from.sin_addr);
    bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(p.rtsp));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 && i % 2 == 0) {
      const std::string partial = "OPTIONS rtsp://127.0.0.1/camera RTSP/1.0\r\nCSeq: 1\r\n";  // never finished
      (void)send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    }
    fds.push_back(fd);
  }
  Viewer v(url(p));
  EXPECT_TRUE(v.wait_frames(30, 60s)) << "frames: " << v.frames() << relay.process().err();
  EXPECT_TRUE(relay.process().running());
  for (int fd : fds) {
    close(fd);
  }
  EXPECT_TRUE(relay.process().wait_for_output("max_connections_per_address (50) reached", 10s));
}

// Binary bytes that are not RTSP (the array's size counts the terminating NUL).
constexpr char kBinaryGarbage[] = "\x00\x01\x02\xff\xfe garbage \x80\x81\r\n\r\n";

TEST(SecurityE2e, MalformedRtspGetsErrorsAndTheRelayStaysUp) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", ""));
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  const std::string u = url(p);
  const std::vector<std::string> corpus = {
      "OPTIONS " + u + " RTSP/1.0\r\nCSeq: 1\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n",
      "DESCRIBE " + u + " RTSP/1.0\r\nCSeq: banana\r\n\r\n",
      "SETUP " + u + "/stream=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=999-1000;bogus\r\n\r\n",
      "SETUP " + u + "/stream=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: \r\n\r\n",
      std::string(kBinaryGarbage, sizeof kBinaryGarbage - 1),
      std::string("$\x00\x00\x10", 4) + std::string(16, '\x55') + "PLAY " + u + " RTSP/1.0\r\nCSeq: 2\r\n\r\n",
      "DESCRIBE " + u + " RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\nabc",
      "PLAY " + u + " RTSP/1.0\r\nCSeq: 1\r\nSession: 123456\r\n\r\n",
  };
  for (const auto& req : corpus) {
    const auto reply = raw_exchange(p.rtsp, req, 3s);
    const int st = rtsp_status(reply);
    if (&req == &corpus.front()) {
      // gst-rtsp-server truncates an over-long header line at 4 KiB (bounded memory) and answers the
      // request; what matters is that the reply is well-formed and nothing leaks back or crashes.
      EXPECT_TRUE(st == 0 || st == 200 || st >= 400) << reply.substr(0, 200);
      EXPECT_LT(reply.size(), 8192U);
      continue;
    }
    EXPECT_TRUE(st == 0 || st >= 400) << "status " << st << " for a malformed request: " << reply.substr(0, 200);
    ASSERT_TRUE(relay.process().running()) << "the relay died on a malformed request";
  }
  Viewer v(url(p));
  EXPECT_TRUE(v.wait_frames(20, 30s)) << "frames: " << v.frames();
}
