// Fuzz what the WHEP endpoint reads from a viewer before webrtcbin sees it:
// the SDP offer check, the trickle-ICE fragment parser, the Authorization
// header check, and the additional-hosts rewrite of an answer. The first byte
// picks the function; the rest is the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "veter/relay/webrtc/whep_auth.hpp"
#include "veter/relay/webrtc/whep_sdp.hpp"

using namespace veter::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string error;
  switch (data[0] % 4) {
    case 0:
      if (auto info = inspect_offer(text, error)) {
        (void)info->h264_pt;
      }
      break;
    case 1:
      (void)parse_trickle(text, error);
      break;
    case 2: {
      static const RelayConfig cfg = [] {
        RelayConfig c;
        c.webrtc.token = "token";
        c.rtsp.users = {RtspUser{"viewer", "pw", "", {"camera"}, {}}};
        return c;
      }();
      (void)whep_authorize(cfg, text, true, "camera", nullptr);
      (void)whep_authorize(cfg, text, false, "camera", nullptr);
      break;
    }
    default:
      (void)add_host_candidates(text, {"203.0.113.7", "::1"});
      break;
  }
  return 0;
}
