#include "veter/relay/webrtc/whep_sdp.hpp"

#include <gio/gio.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>

namespace veter::relay {

namespace {

constexpr std::size_t kMaxLines = 2000;
constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::size_t kMaxCandidates = 64;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Split on LF (a trailing CR is removed); false when a line is too long, has
/// control characters or there are too many lines.
bool split_lines(std::string_view text, std::vector<std::string_view>& out, std::string& error) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    if (line.size() > kMaxLineBytes) {
      error = "an SDP line is longer than 4096 bytes";
      return false;
    }
    if (std::any_of(line.begin(), line.end(), [](unsigned char c) { return c < 0x20 && c != '\t'; })) {
      error = "control characters in SDP";
      return false;
    }
    if (line.size() < 2 || line[1] != '=') {
      error = fmt::format("not an SDP line: \"{}\"", std::string(line.substr(0, 40)));
      return false;
    }
    out.push_back(line);
    if (out.size() > kMaxLines) {
      error = "too many SDP lines";
      return false;
    }
  }
  return true;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" parameters.
std::map<std::string, std::string> fmtp_params(std::string_view params) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= params.size()) {
    auto semi = params.find(';', pos);
    std::string_view kv = params.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos);
    while (!kv.empty() && kv.front() == ' ') {
      kv.remove_prefix(1);
    }
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) {
      out[lower(kv.substr(0, eq))] = lower(kv.substr(eq + 1));
    }
    if (semi == std::string_view::npos) {
      break;
    }
    pos = semi + 1;
  }
  return out;
}

/// Constrained Baseline (profile_idc 66 with constraint_set1) at a level a 720p30 stream fits in (>= 3.1).
int baseline_rank(const std::string& plid) {
  if (plid.size() != 6 || !std::all_of(plid.begin(), plid.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    return 0;
  }
  const unsigned long v = std::stoul(plid, nullptr, 16);
  const unsigned profile = (v >> 16) & 0xff;
  const unsigned constraints = (v >> 8) & 0xff;
  if (plid == "42e01f") {
    return 3;  // what every browser offers and Firefox insists on
  }
  if ((profile == 0x42 && (constraints & 0x40) != 0) || (profile == 0x4d && (constraints & 0x80) != 0)) {
    return 2;
  }
  return profile == 0x42 ? 1 : 0;
}

struct Media {
  std::string kind;
  std::string proto;
  std::vector<int> formats;
  std::map<int, std::string> rtpmap;  // pt -> "h264/90000"
  std::map<int, std::string> fmtp;
  std::string mid;
  std::string ufrag;
  std::string pwd;
  bool fingerprint = false;
};

}  // namespace

std::optional<OfferInfo> inspect_offer(std::string_view sdp, std::string& error) {
  if (sdp.empty()) {
    error = "empty body: expected an SDP offer (Content-Type: application/sdp)";
    return std::nullopt;
  }
  if (sdp.size() > kMaxSdpBytes) {
    error = "SDP offer larger than 64 KiB";
    return std::nullopt;
  }
  if (g_utf8_validate(sdp.data(), static_cast<gssize>(sdp.size()), nullptr) == FALSE) {
    error = "SDP is not UTF-8 text";
    return std::nullopt;
  }
  std::vector<std::string_view> lines;
  if (!split_lines(sdp, lines, error)) {
    return std::nullopt;
  }
  if (lines.empty() || lines.front() != "v=0") {
    error = "SDP must start with v=0";
    return std::nullopt;
  }
  std::string session_ufrag;
  std::string session_pwd;
  bool session_fingerprint = false;
  std::vector<Media> media;
  for (auto line : lines) {
    const char type = line[0];
    std::string_view value = line.substr(2);
    if (type == 'm') {
      Media m;
      std::vector<std::string_view> parts;
      std::size_t pos = 0;
      while (pos < value.size()) {
        auto sp = value.find(' ', pos);
        parts.push_back(value.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
        pos = sp == std::string_view::npos ? value.size() : sp + 1;
      }
      if (parts.size() < 4) {
        error = fmt::format("malformed m-line \"{}\"", std::string(value.substr(0, 60)));
        return std::nullopt;
      }
      m.kind = lower(parts[0]);
      m.proto = std::string(parts[2]);
      for (std::size_t i = 3; i < parts.size(); ++i) {
        if (auto pt = to_int(parts[i])) {
          m.formats.push_back(*pt);
        }
      }
      media.push_back(std::move(m));
      if (media.size() > 16) {
        error = "more than 16 m-lines";
        return std::nullopt;
      }
      continue;
    }
    if (type != 'a') {
      continue;
    }
    Media* cur = media.empty() ? nullptr : &media.back();
    auto attr = [&](std::string_view name) -> std::optional<std::string_view> {
      if (starts_with(value, name) && value.size() > name.size() && value[name.size()] == ':') {
        return value.substr(name.size() + 1);
      }
      return std::nullopt;
    };
    if (auto v = attr("ice-ufrag")) {
      (cur != nullptr ? cur->ufrag : session_ufrag) = std::string(*v);
    } else if (auto v2 = attr("ice-pwd")) {
      (cur != nullptr ? cur->pwd : session_pwd) = std::string(*v2);
    } else if (attr("fingerprint")) {
      (cur != nullptr ? cur->fingerprint : session_fingerprint) = true;
    } else if (auto v3 = attr("mid"); v3 && cur != nullptr) {
      cur->mid = std::string(*v3);
    } else if (auto v4 = attr("rtpmap"); v4 && cur != nullptr) {
      auto sp = v4->find(' ');
      if (auto pt = to_int(v4->substr(0, sp)); pt && sp != std::string_view::npos) {
        cur->rtpmap[*pt] = lower(v4->substr(sp + 1));
      }
    } else if (auto v5 = attr("fmtp"); v5 && cur != nullptr) {
      auto sp = v5->find(' ');
      if (auto pt = to_int(v5->substr(0, sp)); pt && sp != std::string_view::npos) {
        cur->fmtp[*pt] = std::string(v5->substr(sp + 1));
      }
    }
  }
  auto video = std::find_if(media.begin(), media.end(), [](const Media& m) { return m.kind == "video"; });
  if (video == media.end()) {
    error = "the offer has no video m-line";
    return std::nullopt;
  }
  if (video->proto.find("SAVPF") == std::string::npos) {
    error = fmt::format("video m-line protocol \"{}\" is not DTLS-SRTP (UDP/TLS/RTP/SAVPF)", video->proto);
    return std::nullopt;
  }
  OfferInfo info;
  info.video_mline = static_cast<unsigned>(video - media.begin());
  info.mid = video->mid;
  info.ice_ufrag = !video->ufrag.empty() ? video->ufrag : session_ufrag;
  info.ice_pwd = !video->pwd.empty() ? video->pwd : session_pwd;
  if (info.ice_ufrag.empty() || info.ice_pwd.empty()) {
    error = "the offer has no a=ice-ufrag / a=ice-pwd";
    return std::nullopt;
  }
  if (!video->fingerprint && !session_fingerprint) {
    error = "the offer has no a=fingerprint (DTLS)";
    return std::nullopt;
  }
  int best_rank = 0;
  for (int pt : video->formats) {
    auto rm = video->rtpmap.find(pt);
    if (pt < 96 || pt > 127 || rm == video->rtpmap.end() || rm->second != "h264/90000") {
      continue;
    }
    auto fm = video->fmtp.find(pt);
    if (fm == video->fmtp.end()) {
      continue;
    }
    auto params = fmtp_params(fm->second);
    if (params["packetization-mode"] != "1") {
      continue;
    }
    const int rank = baseline_rank(params["profile-level-id"]);
    if (rank > best_rank) {
      best_rank = rank;
      info.h264_pt = pt;
    }
  }
  if (best_rank < 2) {
    error = "the offer has no H.264 packetization-mode=1 Constrained Baseline format (profile-level-id 42e01f)";
    return std::nullopt;
  }
  return info;
}

std::optional<TrickleFragment> parse_trickle(std::string_view fragment, std::string& error) {
  if (fragment.size() > kMaxSdpBytes) {
    error = "trickle fragment larger than 64 KiB";
    return std::nullopt;
  }
  if (g_utf8_validate(fragment.data(), static_cast<gssize>(fragment.size()), nullptr) == FALSE) {
    error = "trickle fragment is not UTF-8 text";
    return std::nullopt;
  }
  std::vector<std::string_view> lines;
  if (!split_lines(fragment, lines, error)) {
    return std::nullopt;
  }
  TrickleFragment out;
  std::string mid;
  for (auto line : lines) {
    std::string_view value = line.substr(2);
    if (line[0] == 'm') {
      mid.clear();
      continue;
    }
    if (line[0] != 'a') {
      error = fmt::format("unexpected line \"{}\" in a trickle fragment", std::string(line.substr(0, 40)));
      return std::nullopt;
    }
    if (starts_with(value, "ice-ufrag:")) {
      out.ice_ufrag = std::string(value.substr(10));
    } else if (starts_with(value, "ice-pwd:")) {
      out.ice_pwd = std::string(value.substr(8));
    } else if (starts_with(value, "mid:")) {
      mid = std::string(value.substr(4));
    } else if (value == "end-of-candidates") {
      out.end_of_candidates = true;
    } else if (starts_with(value, "candidate:")) {
      // foundation component transport priority address port "typ" type ...
      std::vector<std::string_view> parts;
      std::size_t pos = 10;
      while (pos < value.size()) {
        auto sp = value.find(' ', pos);
        parts.push_back(value.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
        pos = sp == std::string_view::npos ? value.size() : sp + 1;
      }
      const bool ok = parts.size() >= 8 && to_int(parts[1]).has_value() && parts[6] == "typ" &&
                      to_int(parts[5]).has_value() && *to_int(parts[5]) >= 0 && *to_int(parts[5]) <= 65535;
      if (!ok) {
        error = fmt::format("malformed candidate \"{}\"", std::string(value.substr(0, 80)));
        return std::nullopt;
      }
      const auto transport = lower(parts[2]);
      if (transport != "udp" && transport != "tcp") {
        error = fmt::format("candidate transport \"{}\" is neither UDP nor TCP", std::string(parts[2]));
        return std::nullopt;
      }
      out.candidates.push_back(TrickleCandidate{mid, std::string(value)});
      if (out.candidates.size() > kMaxCandidates) {
        error = "more than 64 candidates in one fragment";
        return std::nullopt;
      }
    }
    // Other attributes (ice-options, group) carry nothing the relay needs.
  }
  return out;
}

std::string add_host_candidates(const std::string& sdp, const std::vector<std::string>& hosts) {
  if (hosts.empty()) {
    return sdp;
  }
  std::string out;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto nl = sdp.find('\n', pos);
    const std::string line = sdp.substr(pos, nl == std::string::npos ? std::string::npos : nl + 1 - pos);
    pos = nl == std::string::npos ? sdp.size() : nl + 1;
    out += line;
    if (line.rfind("a=candidate:", 0) != 0 || line.find(" typ host") == std::string::npos) {
      continue;
    }
    std::vector<std::string> parts;
    std::string body = line.substr(12);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
      body.pop_back();
    }
    std::size_t p = 0;
    while (p < body.size()) {
      auto sp = body.find(' ', p);
      parts.push_back(body.substr(p, sp == std::string::npos ? std::string::npos : sp - p));
      p = sp == std::string::npos ? body.size() : sp + 1;
    }
    if (parts.size() < 8) {
      continue;
    }
    std::uint32_t priority = 0;
    std::from_chars(parts[3].data(), parts[3].data() + parts[3].size(), priority);
    int k = 0;
    for (const auto& host : hosts) {
      ++k;
      parts[0] = fmt::format("{}x{}", parts[0], k);  // a foundation of its own
      parts[3] = std::to_string(priority > static_cast<std::uint32_t>(k) ? priority - static_cast<std::uint32_t>(k) : 0);
      parts[4] = host;
      std::string extra = "a=candidate:";
      for (std::size_t i = 0; i < parts.size(); ++i) {
        extra += (i != 0 ? " " : "") + parts[i];
      }
      out += extra + "\r\n";
      parts[0] = parts[0].substr(0, parts[0].rfind('x'));
    }
  }
  return out;
}

}  // namespace veter::relay
