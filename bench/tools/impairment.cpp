#include "impairment.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace veter::bench {

namespace {

double parse_number(std::string_view s, const std::string& whole) {
  double v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) {
    throw std::invalid_argument("rate schedule \"" + whole + "\": \"" + std::string(s) + "\" is not a number");
  }
  return v;
}

}  // namespace

std::vector<RateStep> parse_rate_schedule(const std::string& text) {
  std::vector<RateStep> out;
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto at = item.find('@');
    const double kbps = parse_number(item.substr(0, at), text);
    const double secs = at == std::string_view::npos ? 0.0 : parse_number(item.substr(at + 1), text);
    if (kbps < 0 || kbps > 10'000'000 || secs < 0) {
      throw std::invalid_argument("rate schedule \"" + text + "\": out of range");
    }
    const RateStep step{static_cast<std::int64_t>(secs * 1e6), static_cast<int>(kbps)};
    if (!out.empty() && step.at_us <= out.back().at_us) {
      throw std::invalid_argument("rate schedule \"" + text + "\": times must increase");
    }
    out.push_back(step);
  }
  if (out.empty()) {
    throw std::invalid_argument("rate schedule is empty");
  }
  return out;
}

ImpairmentModel::ImpairmentModel(ImpairmentParams params)
    : params_(std::move(params)),
      loss_gen_(params_.seed * 0x9E3779B97F4A7C15ULL + 1),
      ge_gen_(params_.seed * 0x9E3779B97F4A7C15ULL + 2),
      jitter_gen_(params_.seed * 0x9E3779B97F4A7C15ULL + 3),
      reorder_gen_(params_.seed * 0x9E3779B97F4A7C15ULL + 4),
      dup_gen_(params_.seed * 0x9E3779B97F4A7C15ULL + 5) {}

bool ImpairmentModel::draw(std::mt19937_64& gen, double p) {
  // Always consume one number, so the n-th datagram's decision is fixed by the seed alone.
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(gen);
  return u < p;
}

int ImpairmentModel::rate_kbps_at(std::int64_t since_start_us) const {
  int kbps = 0;
  for (const RateStep& s : params_.rate) {
    if (s.at_us <= since_start_us) {
      kbps = s.kbps;
    }
  }
  return kbps;
}

Decision ImpairmentModel::on_datagram(std::int64_t now_us, std::size_t bytes) {
  if (!started_) {
    started_ = true;
    start_us_ = now_us;
    link_free_us_ = now_us;
    last_release_us_ = now_us;
  }
  ++counters_.in;
  counters_.bytes_in += bytes;

  // Every generator advances once per datagram, whatever happens to it.
  const bool random_loss = draw(loss_gen_, params_.loss);
  const bool was_bad = ge_bad_;
  const bool burst_loss = draw(ge_gen_, was_bad ? params_.ge_loss_bad : params_.ge_loss_good);
  ge_bad_ = was_bad ? !draw(ge_gen_, params_.ge_r) : draw(ge_gen_, params_.ge_p);
  const double jitter_us =
      std::uniform_real_distribution<double>(0.0, std::max(0.0, params_.jitter_ms) * 1000.0)(jitter_gen_);
  const bool reorder = draw(reorder_gen_, params_.reorder);
  const bool duplicate = draw(dup_gen_, params_.duplicate);

  Decision d;
  const bool ge_enabled = params_.ge_p > 0 || params_.ge_loss_good > 0;
  if (random_loss) {
    d.fate = Fate::lost_random;
    ++counters_.lost_random;
    return d;
  }
  if (ge_enabled && burst_loss) {
    d.fate = Fate::lost_burst;
    ++counters_.lost_burst;
    return d;
  }

  // The bottleneck: a link of the scheduled rate fed by a drop-tail queue.
  std::int64_t leaves_link = now_us;
  const int kbps = rate_kbps_at(now_us - start_us_);
  if (kbps > 0) {
    const double us_per_byte = 8000.0 / kbps;
    const std::int64_t backlog_us = std::max<std::int64_t>(0, link_free_us_ - now_us);
    const double queued_bytes = static_cast<double>(backlog_us) / us_per_byte;
    if (queued_bytes + static_cast<double>(bytes) > params_.queue_bytes) {
      d.fate = Fate::dropped_queue;
      ++counters_.dropped_queue;
      return d;
    }
    link_free_us_ = std::max(link_free_us_, now_us) + static_cast<std::int64_t>(us_per_byte * bytes);
    leaves_link = link_free_us_;
  }

  std::int64_t release = leaves_link + static_cast<std::int64_t>(params_.delay_ms * 1000.0 + jitter_us);
  if (reorder) {
    ++counters_.reordered;
    release += static_cast<std::int64_t>(params_.reorder_ms * 1000.0);  // later datagrams overtake it
  } else {
    release = std::max(release, last_release_us_);  // jitter delays, it does not reorder
    last_release_us_ = release;
  }
  d.release_us.push_back(release);
  if (duplicate) {
    ++counters_.duplicated;
    d.release_us.push_back(release);
  }
  counters_.sent += d.release_us.size();
  counters_.bytes_sent += bytes * d.release_us.size();
  return d;
}

}  // namespace veter::bench
