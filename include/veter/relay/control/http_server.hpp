// A small HTTP listener: libsoup-3 SoupServer on the default GLib main context.
// Requests are handed to a plain C++ function (HttpRequest -> HttpResponse), so
// the routing logic is testable without sockets.
//
// The listening sockets are ours, not libsoup's (see http_server.cpp): one
// request per connection ("Connection: close"), a connection that has not been
// answered within `idle_timeout` is closed, and an accept failure (out of file
// descriptors) pauses accepting briefly instead of stopping the listener.
#pragma once

#include <libsoup/soup.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/listen_watch.hpp"
#include "veter/common/values.hpp"

namespace veter::relay {

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // percent-decoded, e.g. "/v3/paths/get/camera"
  std::map<std::string, std::string> query;   // decoded query parameters
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers (e.g. Allow)
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  /// A connection that has not been answered this long after it was accepted is closed.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{10000};

  /// Bind `listen` ("" host = all interfaces; port 0 = pick one) and serve every
  /// request through `handler` on the default main context. `name` ("api",
  /// "metrics") is used in log lines and errors. Throws common::UnavailableError
  /// when the address cannot be bound.
  HttpServer(std::string name, const common::Endpoint& listen, HttpHandler handler,
             std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  /// The port actually bound (useful with port 0).
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  /// Connections accepted and not yet closed.
  [[nodiscard]] std::size_t open_connections() const { return conns_.size(); }
  /// Require "Authorization: Bearer <token>" (401 otherwise); empty = open.
  void require_token(std::string token) { token_ = std::move(token); }

 private:
  static void on_request(SoupServer* server, SoupServerMessage* msg, const char* path, GHashTable* query,
                         gpointer self) noexcept;
  void serve(SoupServerMessage* msg, const char* path, GHashTable* query) noexcept;
  void listen_on(GSocketAddress* address);
  bool accept_one(GSocket* listening);
  static gboolean on_tick(gpointer self);
  void reap(bool closing_all);

  struct Conn {
    common::GObjectPtr<GSocketConnection> stream;
    std::chrono::steady_clock::time_point accepted;
  };

  std::string name_;
  HttpHandler handler_;
  common::GObjectPtr<SoupServer> server_;
  std::chrono::milliseconds idle_timeout_;
  std::vector<common::GObjectPtr<GSocket>> sockets_;
  std::vector<std::unique_ptr<common::ListenWatch>> watches_;
  std::vector<Conn> conns_;
  common::SourceId tick_;
  std::uint16_t port_ = 0;
  std::string token_;
};

}  // namespace veter::relay
