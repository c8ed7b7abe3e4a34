// RTSPS never sends video in the clear: with rtsp.tls set and the default
// transports [tcp, udp], a SETUP asking for UDP gets 461 and not one UDP packet
// reaches the port it named, while TCP interleaved inside TLS plays. The real
// relay and an in-test sender on loopback; the RTSP client speaks TLS through GIO.
#include <gio/gio.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "security_helpers.hpp"

using namespace std::chrono_literals;
using namespace veter::test;
using namespace veter::test::security;

namespace {

// A blocking RTSP client inside a TLS connection (accepts the test's self-signed certificate).
class TlsRtspClient {
 public:
  explicit TlsRtspClient(int port) {
    veter::common::GObjectPtr<GSocketClient> client(g_socket_client_new());
    GError* raw = nullptr;
    base_.reset(g_socket_client_connect_to_host(client.get(), "127.0.0.1", static_cast<guint16>(port), nullptr, &raw));
    veter::common::GErrorPtr err(raw);
    if (!base_) {
      return;
    }
    veter::common::GObjectPtr<GSocketConnectable> id(g_network_address_new("127.0.0.1", static_cast<guint16>(port)));
    raw = nullptr;
    tls_.reset(g_tls_client_connection_new(G_IO_STREAM(base_.get()), id.get(), &raw));
    veter::common::GErrorPtr err2(raw);
    if (!tls_) {
      return;
    }
    g_signal_connect(tls_.get(), "accept-certificate", G_CALLBACK(+[](GTlsConnection*, GTlsCertificate*,
                                                                      GTlsCertificateFlags, gpointer) -> gboolean {
                       return TRUE;  // the test's own self-signed certificate
                     }),
                     nullptr);
    raw = nullptr;
    if (g_tls_connection_handshake(G_TLS_CONNECTION(tls_.get()), nullptr, &raw) == FALSE) {
      veter::common::GErrorPtr err3(raw);
      tls_.reset();
    }
  }
  [[nodiscard]] bool ok() const { return static_cast<bool>(tls_); }

  RawRtspClient::Response request(const std::string& method, const std::string& url,
                                  const std::vector<std::string>& headers = {}) {
    std::string req = method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(++cseq_) + "\r\n";
    for (const auto& h : headers) {
      req += h + "\r\n";
    }
    req += "\r\n";
    GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(tls_.get()));
    if (g_output_stream_write_all(out, req.data(), req.size(), nullptr, nullptr, nullptr) == FALSE) {
      return {};
    }
    GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(tls_.get()));
    RawRtspClient::Response r;
    while (true) {
      // Interleaved data before the answer is skipped.
      while (buffer_.size() >= 4 && buffer_[0] == '$') {
        const std::size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
        if (buffer_.size() < 4 + len) {
          break;
        }
        interleaved_bytes_ += len;
        buffer_.erase(0, 4 + len);
      }
      const auto end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos && buffer_.rfind("RTSP/1.0 ", 0) == 0) {
        r.headers = buffer_.substr(0, end + 2);
        r.status = std::stoi(buffer_.substr(9, 3));
        const auto cl = r.header("Content-Length");
        const std::size_t body_len = cl.empty() ? 0 : std::stoul(cl);
        while (buffer_.size() < end + 4 + body_len && read_some(in)) {
        }
        r.body = buffer_.substr(end + 4, body_len);
        buffer_.erase(0, std::min(buffer_.size(), end + 4 + body_len));
        return r;
      }
      if (!read_some(in)) {
        return r;
      }
    }
  }
  /// Interleaved RTP/RTCP bytes received inside TLS (read for up to `timeout`).
  std::size_t read_interleaved_bytes(std::chrono::milliseconds timeout) {
    GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(tls_.get()));
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end && interleaved_bytes_ == 0) {
      if (!read_some(in)) {
        break;
      }
      while (buffer_.size() >= 4 && buffer_[0] == '$') {
        const std::size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
        if (buffer_.size() < 4 + len) {
          break;
        }
        interleaved_bytes_ += len;
        buffer_.erase(0, 4 + len);
      }
    }
    return interleaved_bytes_;
  }

 private:
  bool read_some(GInputStream* in) {
    // Bounded: the socket's timeout ends a read the relay never answers.
    g_socket_set_timeout(g_socket_connection_get_socket(base_.get()), 10);
    char buf[16384];
    const gssize n = g_input_stream_read(in, buf, sizeof buf, nullptr, nullptr);
    if (n <= 0) {
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  veter::common::GObjectPtr<GSocketConnection> base_;
  veter::common::GObjectPtr<GIOStream> tls_;
  std::string buffer_;
  std::size_t interleaved_bytes_ = 0;
  int cseq_ = 0;
};

// Datagrams arriving at `fd` within `timeout`.
int datagrams_within(int fd, std::chrono::milliseconds timeout) {
  int n = 0;
  const auto end = std::chrono::steady_clock::now() + timeout;
  char buf[2048];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0 && recv(fd, buf, sizeof buf, 0) > 0) {
      ++n;
    }
  }
  return n;
}

int bound_udp(int port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST(RtspsTransportE2e, UdpSetupIsRefusedAndNoUdpPacketIsSent) {
  TempDir dir;
  const auto cert = dir.path() + "/cert.pem";
  const auto keyf = dir.path() + "/key.pem";
  const auto gen = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyf,
                                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"},
                               60s);
  ASSERT_EQ(gen.status, 0) << gen.err;
  const auto p = pick_ports();
  std::string yaml = relay_yaml(p, "  tls: {cert_file: \"" + cert + "\", key_file: \"" + keyf + "\"}\n", "");
  const std::string tcp_only = "  transports: [tcp]\n";
  yaml.replace(yaml.find(tcp_only), tcp_only.size(), "  transports: [tcp, udp]\n");  // the default
  Relay relay(dir, yaml);
  EXPECT_TRUE(relay.process().wait_for_output("transports tcp,", 5s)) << relay.process().err();
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();

  const int port = free_udp_port(true);
  const int rtp_fd = bound_udp(port);
  const int rtcp_fd = bound_udp(port + 1);
  ASSERT_GE(rtp_fd, 0);
  ASSERT_GE(rtcp_fd, 0);
  const std::string u = "rtsps://127.0.0.1:" + std::to_string(p.rtsp) + "/camera";
  TlsRtspClient c(p.rtsp);
  ASSERT_TRUE(c.ok()) << "TLS handshake with the relay failed";
  ASSERT_EQ(c.request("DESCRIBE", u, {"Accept: application/sdp"}).status, 200);
  const std::string udp_transport =
      "Transport: RTP/AVP;unicast;client_port=" + std::to_string(port) + "-" + std::to_string(port + 1);
  const auto udp = c.request("SETUP", u + "/stream=0", {udp_transport});
  EXPECT_EQ(udp.status, 461) << udp.headers;
  // The same client falls back to TCP (as rtspsrc does) and plays inside TLS.
  const auto tcp = c.request("SETUP", u + "/stream=0", {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"});
  ASSERT_EQ(tcp.status, 200) << tcp.headers;
  std::string session = tcp.header("Session");
  session = session.substr(0, session.find(';'));
  ASSERT_EQ(c.request("PLAY", u, {"Session: " + session, "Range: npt=0-"}).status, 200);
  EXPECT_GT(c.read_interleaved_bytes(10s), 0U) << "no video inside TLS";
  EXPECT_EQ(datagrams_within(rtp_fd, 1500ms), 0) << "RTP in the clear to the UDP port the SETUP named";
  EXPECT_EQ(datagrams_within(rtcp_fd, 100ms), 0);
  close(rtp_fd);
  close(rtcp_fd);
  EXPECT_TRUE(relay.process().running());
}
