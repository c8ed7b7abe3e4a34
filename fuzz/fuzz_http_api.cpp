// Fuzz the project's own HTTP request handling: the bearer-token check and the
// control API's routing / query parsing (ControlApi::handle) on arbitrary
// methods, paths and query parameters. Input: NUL-separated fields
// method \0 path \0 key \0 value \0 authorization.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "veter/relay/control/api_token.hpp"
#include "veter/relay/control/http_api.hpp"
#include "veter/relay/relay_model.hpp"

using namespace veter::relay;

namespace {
class TinyModel : public RelayModel {
 public:
  TinyModel() {
    PathSnapshot p;
    p.name = "camera";
    paths_.push_back(p);
    SessionSnapshot s;
    s.id = "abc";
    s.path = "camera";
    sessions_.push_back(s);
  }
  [[nodiscard]] std::vector<PathSnapshot> paths() const override { return paths_; }
  [[nodiscard]] std::vector<SessionSnapshot> sessions() const override { return sessions_; }
  bool kick(const std::string& id) override { return id == "abc"; }

 private:
  std::vector<PathSnapshot> paths_;
  std::vector<SessionSnapshot> sessions_;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> f(1);
  for (std::size_t i = 0; i < size && f.size() <= 5; ++i) {
    if (data[i] == 0) {
      f.emplace_back();
    } else {
      f.back().push_back(static_cast<char>(data[i]));
    }
  }
  f.resize(5);
  static TinyModel model;
  static ControlApi api(model);
  HttpRequest req;
  req.method = f[0];
  req.path = f[1];
  if (!f[2].empty()) {
    req.query[f[2]] = f[3];
  }
  const auto resp = api.handle(req);
  if (resp.status < 100 || resp.status > 599) {
    __builtin_trap();
  }
  if (bearer_token_ok(f[4], "s3cret-token")) {
    // Only "Bearer <token>" (scheme case-insensitive, blanks around the token) may pass.
    std::string rest = f[4].size() >= 7 ? f[4].substr(7) : "";
    while (!rest.empty() && rest.front() == ' ') {
      rest.erase(0, 1);
    }
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) {
      rest.pop_back();
    }
    if (f[4].size() < 7 || (f[4].compare(0, 7, "Bearer ") != 0 && f[4].compare(0, 7, "bearer ") != 0 &&
                            f[4].compare(0, 7, "BEARER ") != 0 && rest != "s3cret-token") ||
        rest != "s3cret-token") {
      __builtin_trap();
    }
  }
  return 0;
}
