#include "veter/relay/record/playback.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "veter/relay/control/http_api.hpp"
#include "veter/relay/record/fmp4_index.hpp"
#include "veter/relay/record/recorder.hpp"

namespace veter::relay {

namespace {

using Clock = std::chrono::system_clock;
using Json = nlohmann::ordered_json;
constexpr auto kMaxGap = std::chrono::seconds(1);     // back-to-back segments within this are one span
constexpr std::uint64_t kMaxResponseBytes = 512ULL << 20;  // one /get answer

HttpResponse error(unsigned status, const std::string& message) {
  return HttpResponse{status, "application/json", api_error_body(message), {}};
}

/// A file read with pread (closed on scope exit).
class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0) {
      size_ = static_cast<std::uint64_t>(st.st_size);
    }
  }
  ~File() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] std::uint64_t size() const { return size_; }
  bool read(std::uint64_t offset, std::uint64_t length, std::vector<std::uint8_t>& out) const {
    out.resize(length);
    std::uint64_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n <= 0) {
        return false;
      }
      done += static_cast<std::uint64_t>(n);
    }
    return true;
  }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// A segment with its fragments placed on the wall clock.
struct Indexed {
  SegmentFile file;
  Fmp4Index index;
  [[nodiscard]] Clock::time_point at(std::uint64_t media_time) const {
    const std::uint64_t first = index.fragments.front().start;
    return file.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                            static_cast<double>(media_time - first) / index.timescale));
  }
  [[nodiscard]] Clock::time_point end() const {
    const auto& last = index.fragments.back();
    return at(last.start + last.duration);
  }
};

std::vector<Indexed> index_dir(const std::string& dir) {
  std::vector<Indexed> out;
  for (auto& seg : list_segments(dir)) {
    File f(seg.path);
    if (!f.ok()) {
      continue;
    }
    auto idx = index_fmp4(f.size(), [&f](std::uint64_t o, std::uint64_t l, std::vector<std::uint8_t>& v) {
      return f.read(o, l, v);
    });
    if (idx && !idx->fragments.empty() && idx->timescale != 0) {
      out.push_back(Indexed{std::move(seg), std::move(*idx)});
    }
  }
  return out;
}

bool continues(const Indexed& prev, const Indexed& next) {
  return prev.index.width == next.index.width && prev.index.height == next.index.height &&
         prev.index.timescale == next.index.timescale && next.file.start - prev.end() <= kMaxGap &&
         prev.end() - next.file.start <= kMaxGap;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::optional<Clock::time_point> parse_rfc3339(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19 ||
      mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::chrono::nanoseconds frac{0};
  if (i < text.size() && text[i] == '.') {
    ++i;
    long long scale = 100'000'000;
    const std::size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      frac += std::chrono::nanoseconds((text[i] - '0') * scale);
      scale /= 10;
      ++i;
    }
    if (i == digits_start) {
      return std::nullopt;
    }
  }
  int offset_min = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-' || text[i] == ' ') && text[i + 3] == ':') {
    // ' ': a '+' that arrived unescaped in a query string and was decoded as a space.
    int oh = 0, om = 0, m = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5 || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (text[i] == '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t secs = timegm(&tm);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(secs) -
                                                                       std::chrono::minutes(offset_min) + frac));
}

PlaybackApi::PlaybackApi(const RelayConfig& cfg) {
  for (const auto& p : cfg.paths) {
    if (p.record.enabled) {
      dirs_[p.name] = recording_directory(p.name, p.record);
    }
  }
}

HttpResponse PlaybackApi::handle(const HttpRequest& req) const {
  if (req.path != "/list" && req.path != "/get") {
    return error(404, "not found (the playback server serves /list and /get)");
  }
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = error(405, "method not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const auto q = [&](const char* key) -> std::optional<std::string> {
    const auto it = req.query.find(key);
    return it == req.query.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const auto path = q("path");
  if (!path || path->empty()) {
    return error(400, "missing path");
  }
  const auto dir = dirs_.find(*path);
  if (dir == dirs_.end()) {
    return error(404, fmt::format("path '{}' is not recorded", *path));
  }
  if (req.path == "/list") {
    return list(dir->second, *path);
  }
  const auto start_text = q("start");
  const auto duration_text = q("duration");
  if (!start_text || !duration_text) {
    return error(400, "missing start or duration");
  }
  const auto start = parse_rfc3339(*start_text);
  if (!start) {
    return error(400, fmt::format("invalid start '{}' (RFC 3339, e.g. 2026-12-01T21:40:00Z)", *start_text));
  }
  double duration_s = 0;
  int consumed = 0;
  if (std::sscanf(duration_text->c_str(), "%lf%n", &duration_s, &consumed) != 1 ||
      consumed != static_cast<int>(duration_text->size()) || !std::isfinite(duration_s) || duration_s <= 0 ||
      duration_s > 86400) {
    return error(400, fmt::format("invalid duration '{}' (seconds, > 0, at most 86400)", *duration_text));
  }
  if (const auto format = q("format"); format && *format != "fmp4") {
    return error(400, fmt::format("invalid format '{}' (fmp4)", *format));
  }
  return get(dir->second, *start,
             std::chrono::microseconds(static_cast<std::int64_t>(std::llround(duration_s * 1e6))));
}

HttpResponse PlaybackApi::list(const std::string& dir, const std::string& path) const {
  const auto segments = index_dir(dir);
  Json out = Json::array();
  std::optional<std::pair<Clock::time_point, Clock::time_point>> span;
  const Indexed* prev = nullptr;
  const auto flush = [&] {
    if (span) {
      const double d = seconds(span->second - span->first);
      const std::string start = format_rfc3339(span->first);
      out.push_back(Json{{"start", start},
                         {"duration", d},
                         {"url", fmt::format("/get?path={}&start={}&duration={}", path, start, d)}});
    }
  };
  for (const auto& s : segments) {
    if (span && prev != nullptr && continues(*prev, s)) {
      span->second = std::max(span->second, s.end());
    } else {
      flush();
      span = std::pair{s.file.start, s.end()};
    }
    prev = &s;
  }
  flush();
  return HttpResponse{200, "application/json", out.dump(), {}};
}

HttpResponse PlaybackApi::get(const std::string& dir, Clock::time_point start, std::chrono::microseconds duration) const {
  const auto segments = index_dir(dir);
  const Clock::time_point end = start + duration;
  struct Chosen {
    const Indexed* seg;
    std::size_t first;
    std::size_t last;
  };
  std::vector<Chosen> chosen;
  std::uint64_t bytes = 0;
  const Indexed* prev = nullptr;
  for (const auto& s : segments) {
    if (s.end() <= start || s.file.start >= end) {
      continue;
    }
    if (prev != nullptr && !continues(*prev, s)) {
      break;  // a gap or a new picture size ends the answer
    }
    const auto& frags = s.index.fragments;
    std::optional<std::size_t> first;
    std::size_t last = 0;
    for (std::size_t i = 0; i < frags.size(); ++i) {
      const auto f_begin = s.at(frags[i].start);
      const auto f_end = s.at(frags[i].start + frags[i].duration);
      if (f_end > start && f_begin < end) {
        if (!first) {
          first = i;
        }
        last = i + 1;
      }
    }
    if (!first) {
      continue;
    }
    if (chosen.empty()) {
      while (*first > 0 && !frags[*first].starts_with_sync) {
        --*first;  // back to the keyframe a decoder needs
      }
    }
    for (std::size_t i = *first; i < last; ++i) {
      bytes += frags[i].size;
    }
    chosen.push_back(Chosen{&s, *first, last});
    prev = &s;
  }
  if (chosen.empty()) {
    return error(404, "no recording in that span");
  }
  if (bytes > kMaxResponseBytes) {
    return error(400, fmt::format("span too long ({} MB of recording; at most {} MB per request)", bytes >> 20,
                                  kMaxResponseBytes >> 20));
  }
  // Read the chosen parts (init part of the first segment, then the fragments) and splice them.
  std::vector<std::vector<std::uint8_t>> files;
  std::vector<Fmp4Part> parts;
  files.reserve(chosen.size());
  for (const auto& c : chosen) {
    File f(c.seg->file.path);
    auto& bytes_of = files.emplace_back();
    if (!f.ok() || !f.read(0, c.seg->index.fragments[c.last - 1].offset + c.seg->index.fragments[c.last - 1].size,
                           bytes_of)) {
      return error(500, fmt::format("cannot read {}", c.seg->file.path));
    }
    parts.push_back(Fmp4Part{bytes_of, &c.seg->index, c.first, c.last});
  }
  const auto mp4 = splice_fmp4(parts);
  return HttpResponse{200, "video/mp4", std::string(mp4.begin(), mp4.end()), {}};
}

std::unique_ptr<HttpServer> start_playback_server(const RelayConfig& cfg) {
  if (!cfg.playback.enabled) {
    return nullptr;
  }
  auto api = std::make_shared<PlaybackApi>(cfg);
  auto server = std::make_unique<HttpServer>("playback", cfg.playback.listen,
                                             [api](const HttpRequest& req) { return api->handle(req); });
  server->require_token(cfg.playback_token);
  return server;
}

}  // namespace veter::relay
