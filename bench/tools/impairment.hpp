// The impairment model of veter-bench-impair: what a bad internet path does to each UDP
// datagram (one-way delay, jitter, random and Gilbert-Elliott loss, reordering, duplication,
// a rate cap with a drop-tail queue and a rate schedule). Pure and deterministic by seed: the
// forwarder asks it, per datagram, when (if ever) each copy leaves.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace veter::bench {

/// One step of a rate schedule: from `at_us` (since the first datagram) the link carries `kbps`.
struct RateStep {
  std::int64_t at_us = 0;
  int kbps = 0;  // 0 = unlimited
  bool operator==(const RateStep&) const = default;
};

struct ImpairmentParams {
  double delay_ms = 0;         // one-way base delay
  double jitter_ms = 0;        // extra delay, uniform in [0, jitter]; order is kept (internet-like)
  double loss = 0;             // independent random loss probability
  // Gilbert-Elliott: a two-state Markov chain, evaluated per datagram. ge_p = P(good -> bad),
  // ge_r = P(bad -> good); loss probability ge_loss_bad in bad, ge_loss_good in good.
  // Mean burst length (datagrams in bad) = 1 / ge_r.
  double ge_p = 0;
  double ge_r = 1;
  double ge_loss_bad = 1;
  double ge_loss_good = 0;
  double reorder = 0;           // probability a datagram is held back by reorder_ms (arrives after later ones)
  double reorder_ms = 10;
  double duplicate = 0;         // probability a datagram is sent twice
  std::vector<RateStep> rate;   // rate cap schedule (empty = unlimited); steps sorted by at_us
  int queue_bytes = 64 * 1024;  // drop-tail queue in front of the rate-capped link
  std::uint64_t seed = 1;
};

/// Parse "2500@0,800@10,2500@20" (kbit/s @ seconds) or a single "2500" (from t=0). Throws
/// std::invalid_argument with a reason.
std::vector<RateStep> parse_rate_schedule(const std::string& text);

enum class Fate { sent, lost_random, lost_burst, dropped_queue };

struct Decision {
  Fate fate = Fate::sent;
  std::vector<std::int64_t> release_us;  // departure time of each copy (1, or 2 when duplicated)
};

struct ImpairmentCounters {
  std::uint64_t in = 0;
  std::uint64_t sent = 0;  // copies released (duplicates counted)
  std::uint64_t lost_random = 0;
  std::uint64_t lost_burst = 0;
  std::uint64_t dropped_queue = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_sent = 0;
};

/// One direction of the path. Each random decision draws from its own generator (seeded from
/// `seed`), so datagram n's loss does not depend on timing or on the other impairments.
class ImpairmentModel {
 public:
  explicit ImpairmentModel(ImpairmentParams params);

  /// A datagram of `bytes` arrives at `now_us` (monotonic). Returns its fate and departure times.
  Decision on_datagram(std::int64_t now_us, std::size_t bytes);

  /// The cap in force `since_start_us` after the first datagram (0 = unlimited).
  int rate_kbps_at(std::int64_t since_start_us) const;

  const ImpairmentCounters& counters() const { return counters_; }
  const ImpairmentParams& params() const { return params_; }

 private:
  bool draw(std::mt19937_64& gen, double p);

  ImpairmentParams params_;
  ImpairmentCounters counters_;
  std::mt19937_64 loss_gen_;
  std::mt19937_64 ge_gen_;
  std::mt19937_64 jitter_gen_;
  std::mt19937_64 reorder_gen_;
  std::mt19937_64 dup_gen_;
  bool ge_bad_ = false;
  bool started_ = false;
  std::int64_t start_us_ = 0;
  std::int64_t link_free_us_ = 0;     // when the capped link finishes the last queued datagram
  std::int64_t last_release_us_ = 0;  // in-order releases never overtake each other
};

}  // namespace veter::bench
