// veter-bench-impair: a userspace impaired link between a publisher and a relay (this kernel has
// no netem). It listens where the publisher sends (RTP on --listen, RTCP on --listen+1), forwards
// to the relay (--to HOST:PORT, RTCP on PORT+1) and carries the relay's answers (RTCP receiver
// reports, NACK, PLI) back to the address each publisher socket sent from. Forward datagrams
// (publisher -> relay) go through the full impairment model; answers get the same one-way delay
// and jitter and their own loss (--reverse-loss). Deterministic by --seed.
//
//   veter-bench-impair --listen 7000 --to 127.0.0.1:9000 --delay-ms 25 --jitter-ms 5 --loss 0.03
//       --rate 2500@0,800@10,2500@20 --seed 7 --stats /tmp/impair.json   (one command line)
//
// One thread, poll(2). Counters (JSON) are written to --stats every second and on SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <queue>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "impairment.hpp"

namespace {

using veter::bench::Fate;
using veter::bench::ImpairmentModel;
using veter::bench::ImpairmentParams;

volatile std::sig_atomic_t g_stop = 0;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    throw std::runtime_error("cannot resolve " + host);
  }
  sockaddr_in a{};
  std::memcpy(&a, res->ai_addr, sizeof a);
  freeaddrinfo(res);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

Fd udp_bound(const std::string& host, int port) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  const int buf = 4 * 1024 * 1024;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  const sockaddr_in a = resolve(host, port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("bind " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  return fd;
}

struct Pending {
  std::int64_t at_us;
  std::uint64_t order;  // FIFO among equal release times
  int fd;
  sockaddr_in to;
  std::vector<std::uint8_t> data;
  bool operator>(const Pending& o) const { return at_us != o.at_us ? at_us > o.at_us : order > o.order; }
};

/// One leg of one port: a model, the socket it leaves by and where it goes.
struct Leg {
  std::string name;
  ImpairmentModel model;
  std::uint64_t unroutable = 0;  // answers before the publisher's address was known
};

nlohmann::json counters_json(const Leg& l) {
  const auto& c = l.model.counters();
  return {{"in", c.in},
          {"sent", c.sent},
          {"lost_random", c.lost_random},
          {"lost_burst", c.lost_burst},
          {"dropped_queue", c.dropped_queue},
          {"duplicated", c.duplicated},
          {"reordered", c.reordered},
          {"bytes_in", c.bytes_in},
          {"bytes_sent", c.bytes_sent},
          {"unroutable", l.unroutable}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"veter-bench-impair: impaired UDP link (RTP+RTCP both ways) between publisher and relay"};
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;
  std::string to = "127.0.0.1:9000";
  std::string rate;
  std::string stats_path;
  ImpairmentParams fwd;
  double reverse_loss = 0;
  double burst_len = 0;
  double burst_loss = 0;
  app.add_option("--listen-host", listen_host, "Address to listen on (default 127.0.0.1)");
  app.add_option("--listen", listen_port, "Port the publisher sends RTP to (RTCP: +1)")->required();
  app.add_option("--to", to, "Relay HOST:PORT (RTCP: PORT+1)");
  app.add_option("--delay-ms", fwd.delay_ms, "One-way delay, each direction")->check(CLI::Range(0.0, 10000.0));
  app.add_option("--jitter-ms", fwd.jitter_ms, "Extra one-way delay, uniform 0..J (order kept)")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--loss", fwd.loss, "Random loss probability publisher -> relay")->check(CLI::Range(0.0, 1.0));
  app.add_option("--burst-loss", burst_loss, "Gilbert-Elliott: mean loss probability in bursts")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--burst-len", burst_len, "Gilbert-Elliott: mean burst length (datagrams)")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--ge-p", fwd.ge_p, "Gilbert-Elliott P(good->bad) (instead of --burst-*)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--ge-r", fwd.ge_r, "Gilbert-Elliott P(bad->good)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--ge-loss-bad", fwd.ge_loss_bad, "loss probability in the bad state")->check(CLI::Range(0.0, 1.0));
  app.add_option("--reorder", fwd.reorder, "Probability a datagram is held back")->check(CLI::Range(0.0, 1.0));
  app.add_option("--reorder-ms", fwd.reorder_ms, "How long a reordered datagram is held back")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--duplicate", fwd.duplicate, "Duplication probability")->check(CLI::Range(0.0, 1.0));
  app.add_option("--rate", rate, "Rate cap schedule kbit/s@s, e.g. 2500@0,800@10,2500@20 (publisher -> relay)");
  app.add_option("--queue-bytes", fwd.queue_bytes, "Drop-tail queue before the capped link")
      ->check(CLI::Range(1500, 64 * 1024 * 1024));
  app.add_option("--reverse-loss", reverse_loss, "Random loss probability relay -> publisher")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", fwd.seed, "Seed of every random decision");
  app.add_option("--stats", stats_path, "Write counters as JSON here (every second and at exit)");
  try {
    app.parse(argc, argv);
    if (!rate.empty()) {
      fwd.rate = veter::bench::parse_rate_schedule(rate);
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "veter-bench-impair: %s\n", e.what());
    return 64;
  }
  if (burst_len > 0 && burst_loss > 0) {
    // Stationary P(bad) = p / (p + r) = burst_loss with r = 1 / burst_len.
    fwd.ge_r = 1.0 / burst_len;
    fwd.ge_p = burst_loss * fwd.ge_r / (1.0 - burst_loss);
    fwd.ge_loss_bad = 1.0;
  }
  const auto colon = to.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "veter-bench-impair: --to needs HOST:PORT\n");
    return 64;
  }
  ImpairmentParams fwd_rtcp = fwd;  // RTCP shares delay, jitter and loss, not the cap
  fwd_rtcp.rate.clear();
  fwd_rtcp.seed = fwd.seed + 101;
  ImpairmentParams back;
  back.delay_ms = fwd.delay_ms;
  back.jitter_ms = fwd.jitter_ms;
  back.loss = reverse_loss;
  back.seed = fwd.seed + 202;
  ImpairmentParams back_rtcp = back;
  back_rtcp.seed = fwd.seed + 303;

  try {
    const int relay_port = std::stoi(to.substr(colon + 1));
    const sockaddr_in relay_rtp = resolve(to.substr(0, colon), relay_port);
    const sockaddr_in relay_rtcp = resolve(to.substr(0, colon), relay_port + 1);
    // front: where the publisher sends; back: our sockets towards the relay (ephemeral ports).
    // Towards the relay: an RTP/RTCP port pair (p, p+1), as a real publisher has, so the relay's
    // RTCP reaches us even before it has seen our RTCP's source port.
    std::optional<std::pair<Fd, Fd>> pair;
    for (int attempt = 0; attempt < 50 && !pair; ++attempt) {
      Fd rtp = udp_bound("0.0.0.0", 0);
      sockaddr_in a{};
      socklen_t al = sizeof a;
      ::getsockname(rtp.get(), reinterpret_cast<sockaddr*>(&a), &al);
      try {
        Fd rtcp = udp_bound("0.0.0.0", ntohs(a.sin_port) + 1);
        pair.emplace(std::move(rtp), std::move(rtcp));
      } catch (const std::runtime_error&) {
        // port + 1 taken: try another pair
      }
    }
    if (!pair) {
      throw std::runtime_error("no free local UDP port pair towards the relay");
    }
    std::array<Fd, 4> fds{udp_bound(listen_host, listen_port), udp_bound(listen_host, listen_port + 1),
                          std::move(pair->first), std::move(pair->second)};
    std::array<Leg, 4> legs{Leg{"rtp_to_relay", ImpairmentModel(fwd)}, Leg{"rtcp_to_relay", ImpairmentModel(fwd_rtcp)},
                            Leg{"rtp_to_publisher", ImpairmentModel(back)},
                            Leg{"rtcp_to_publisher", ImpairmentModel(back_rtcp)}};
    std::array<std::optional<sockaddr_in>, 2> publisher{};  // RTP and RTCP source addresses
    std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending;
    std::uint64_t order = 0;
    std::uint64_t overflow = 0;
    constexpr std::size_t kMaxPending = 100000;

    std::signal(SIGINT, [](int) { g_stop = 1; });
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    auto write_stats = [&] {
      if (stats_path.empty()) {
        return;
      }
      nlohmann::json j;
      for (const Leg& l : legs) {
        j[l.name] = counters_json(l);
      }
      j["overflow"] = overflow;
      const std::string tmp = stats_path + ".tmp";
      {
        std::ofstream f(tmp);
        f << j.dump() << "\n";
      }
      std::rename(tmp.c_str(), stats_path.c_str());
    };
    std::fprintf(stderr, "veter-bench-impair: listening %s:%d/%d -> %s (RTCP +1)\n", listen_host.c_str(), listen_port,
                 listen_port + 1, to.c_str());
    std::int64_t next_stats = now_us();
    std::array<std::uint8_t, 65536> buf{};
    while (g_stop == 0) {
      const std::int64_t t = now_us();
      while (!pending.empty() && pending.top().at_us <= t) {
        const Pending& p = pending.top();
        ::sendto(p.fd, p.data.data(), p.data.size(), 0, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to);
        pending.pop();
      }
      if (t >= next_stats) {
        write_stats();
        next_stats = t + 1'000'000;
      }
      std::int64_t wait_us = next_stats - t;
      if (!pending.empty()) {
        wait_us = std::min(wait_us, pending.top().at_us - t);
      }
      std::array<pollfd, 4> pfds{};
      for (std::size_t i = 0; i < 4; ++i) {
        pfds[i] = {fds[i].get(), POLLIN, 0};
      }
      // poll has ms resolution: sleep to the ms below the deadline, then spin on the last one.
      const int timeout_ms = static_cast<int>(std::max<std::int64_t>(0, wait_us / 1000 - 1));
      if (::poll(pfds.data(), pfds.size(), timeout_ms) < 0) {
        continue;  // EINTR (a signal): the loop condition decides
      }
      for (std::size_t i = 0; i < 4; ++i) {
        if ((pfds[i].revents & POLLIN) == 0) {
          continue;
        }
        for (int burst = 0; burst < 64; ++burst) {
          sockaddr_in from{};
          socklen_t fl = sizeof from;
          const ssize_t n =
              ::recvfrom(fds[i].get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
          if (n <= 0) {
            break;
          }
          const std::int64_t at = now_us();
          Leg& leg = legs[i];
          int out_fd = -1;
          sockaddr_in dest{};
          if (i < 2) {  // from the publisher
            publisher[i] = from;
            out_fd = fds[i + 2].get();
            dest = i == 0 ? relay_rtp : relay_rtcp;
          } else {  // from the relay: back to the publisher socket of the same kind
            std::optional<sockaddr_in> pub = publisher[i - 2];
            if (!pub && i == 3 && publisher[0]) {
              // No RTCP from the publisher yet: its RTP port + 1 (RFC 3550), as the relay does.
              pub = publisher[0];
              pub->sin_port = htons(static_cast<std::uint16_t>(ntohs(pub->sin_port) + 1));
            }
            if (!pub) {
              ++leg.unroutable;
              continue;
            }
            out_fd = fds[i - 2].get();
            dest = *pub;
          }
          const auto d = leg.model.on_datagram(at, static_cast<std::size_t>(n));
          if (d.fate != Fate::sent) {
            continue;
          }
          for (const std::int64_t rel : d.release_us) {
            if (pending.size() >= kMaxPending) {
              ++overflow;
              continue;
            }
            pending.push(Pending{rel, order++, out_fd, dest, std::vector<std::uint8_t>(buf.begin(), buf.begin() + n)});
          }
        }
      }
    }
    write_stats();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veter-bench-impair: %s\n", e.what());
    return 69;
  }
  return 0;
}
