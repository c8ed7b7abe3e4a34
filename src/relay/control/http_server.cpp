#include "veter/relay/control/http_server.hpp"

#include <netinet/in.h>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "veter/common/cli.hpp"
#include "veter/relay/control/api_token.hpp"

namespace veter::relay {

namespace {

std::string error_body(const std::string& message) {
  return nlohmann::json{{"status", "error"}, {"error", message}}.dump();
}

std::vector<common::GObjectPtr<GSocketAddress>> listen_addresses(const std::string& name,
                                                                const common::Endpoint& listen) {
  std::vector<common::GObjectPtr<GSocketAddress>> out;
  if (listen.host.empty()) {
    for (GSocketFamily family : {G_SOCKET_FAMILY_IPV4, G_SOCKET_FAMILY_IPV6}) {
      common::GObjectPtr<GInetAddress> any(g_inet_address_new_any(family));
      out.emplace_back(g_inet_socket_address_new(any.get(), listen.port));
    }
    return out;
  }
  if (common::GObjectPtr<GSocketAddress> addr(g_inet_socket_address_new_from_string(listen.host.c_str(), listen.port));
      addr) {
    out.push_back(std::move(addr));
    return out;
  }
  // A host name (e.g. "localhost"): resolve once at start-up, listen on every address.
  GError* raw = nullptr;
  common::GObjectPtr<GResolver> resolver(g_resolver_get_default());
  const common::GListPtr<GInetAddress> addrs(g_resolver_lookup_by_name(resolver.get(), listen.host.c_str(), nullptr, &raw));
  common::GErrorPtr err(raw);
  if (err) {
    throw common::UnavailableError(name + " listener: cannot listen on " + listen.to_string() + ": " + err->message);
  }
  for (GInetAddress* a : addrs) {
    out.emplace_back(g_inet_socket_address_new(a, listen.port));
  }
  return out;
}

std::uint16_t port_of(GSocket* socket) {
  common::GObjectPtr<GSocketAddress> local(g_socket_get_local_address(socket, nullptr));
  return local && G_IS_INET_SOCKET_ADDRESS(local.get())
             ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()))
             : 0;
}

}  // namespace

// Why the listening sockets are ours: libsoup 3.2.3 (Debian 12) leaks every
// HTTP/1.1 keep-alive connection that the client closes while it is idle
// between requests (upstream commit d20c6601, "server: do not leak idle
// connections closed by the client", first in 3.3.0): the socket stays open
// until the process runs out of descriptors. Its listener also stops accepting
// for good after one failed accept(). A SoupServer fed by
// soup_server_accept_iostream() without listeners of its own closes each
// connection once its response is written, which avoids the leak; we say so
// with "Connection: close", close connections that stay unanswered for
// `idle_timeout`, and back off when accept() fails (ListenWatch).
HttpServer::HttpServer(std::string name, const common::Endpoint& listen, HttpHandler handler,
                       std::chrono::milliseconds idle_timeout)
    : name_(std::move(name)), handler_(std::move(handler)), idle_timeout_(idle_timeout) {
  server_.reset(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "veter-relay", nullptr)));
  soup_server_add_handler(server_.get(), nullptr, &HttpServer::on_request, this, nullptr);
  std::string last_error = "no address";
  for (auto& addr : listen_addresses(name_, listen)) {
    if (port_ != 0) {
      // Port 0 on several addresses: the same port everywhere.
      common::GCharPtr host(g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr.get()))));
      addr.reset(g_inet_socket_address_new_from_string(host.get(), port_));
    }
    try {
      listen_on(addr.get());
    } catch (const common::UnavailableError& e) {
      last_error = e.what();
      // "" = every interface: IPv6 may be disabled on the host; IPv4 alone is enough.
      if (!listen.host.empty() || g_socket_address_get_family(addr.get()) != G_SOCKET_FAMILY_IPV6) {
        throw common::UnavailableError(name_ + " listener: cannot listen on " + listen.to_string() + ": " +
                                       last_error);
      }
      spdlog::debug("{} listener: no IPv6: {}", name_, last_error);
    }
  }
  if (sockets_.empty()) {
    throw common::UnavailableError(name_ + " listener: cannot listen on " + listen.to_string() + ": " + last_error);
  }
  tick_.reset(g_timeout_add(500, &HttpServer::on_tick, this));
  spdlog::info("{} listening on http://{}:{}/", name_, listen.host.empty() ? "0.0.0.0" : listen.host, port_);
}

void HttpServer::listen_on(GSocketAddress* address) {
  GError* raw = nullptr;
  common::GObjectPtr<GSocket> sock(
      g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
  bool ok = sock != nullptr;
  if (ok && g_socket_address_get_family(address) == G_SOCKET_FAMILY_IPV6) {
    ok = g_socket_set_option(sock.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, &raw) != FALSE;
  }
  if (ok) {
    g_socket_set_blocking(sock.get(), FALSE);
    g_socket_set_listen_backlog(sock.get(), 128);
    ok = g_socket_bind(sock.get(), address, TRUE, &raw) != FALSE && g_socket_listen(sock.get(), &raw) != FALSE;
  }
  common::GErrorPtr err(raw);
  if (!ok) {
    throw common::UnavailableError(err ? err->message : "cannot create a socket");
  }
  port_ = port_of(sock.get());
  GSocket* s = sock.get();
  watches_.push_back(std::make_unique<common::ListenWatch>(name_ + " listener", s, [this, s] { return accept_one(s); }));
  sockets_.push_back(std::move(sock));
}

bool HttpServer::accept_one(GSocket* listening) {
  GError* raw = nullptr;
  common::GObjectPtr<GSocket> sock(g_socket_accept(listening, nullptr, &raw));
  common::GErrorPtr err(raw);
  if (!sock) {
    if (err && g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      return true;  // another wake-up took it
    }
    spdlog::debug("{}: accept failed: {}", name_, err ? err->message : "?");
    return false;
  }
  common::GObjectPtr<GSocketConnection> stream(g_socket_connection_factory_create_connection(sock.get()));
  common::GObjectPtr<GSocketAddress> local(g_socket_get_local_address(sock.get(), nullptr));
  common::GObjectPtr<GSocketAddress> remote(g_socket_get_remote_address(sock.get(), nullptr));
  if (!local || !remote) {
    g_io_stream_close(G_IO_STREAM(stream.get()), nullptr, nullptr);  // the peer is already gone
    return true;
  }
  if (soup_server_accept_iostream(server_.get(), G_IO_STREAM(stream.get()), local.get(), remote.get(), &raw) ==
      FALSE) {
    common::GErrorPtr e(raw);
    spdlog::debug("{}: cannot serve a connection: {}", name_, e ? e->message : "?");
    g_io_stream_close(G_IO_STREAM(stream.get()), nullptr, nullptr);
    return true;
  }
  conns_.push_back(Conn{std::move(stream), std::chrono::steady_clock::now()});
  return true;
}

gboolean HttpServer::on_tick(gpointer self) {
  static_cast<HttpServer*>(self)->reap(false);
  return G_SOURCE_CONTINUE;
}

void HttpServer::reap(bool closing_all) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(conns_, [&](Conn& c) {
    auto* io = G_IO_STREAM(c.stream.get());
    if (g_io_stream_is_closed(io) != FALSE) {
      return true;  // libsoup closed it after its response (or the peer left)
    }
    if (!closing_all && now - c.accepted < idle_timeout_) {
      return false;
    }
    // Unanswered for idle_timeout (idle, slow or stuck client): end it. Shutting
    // the socket down makes libsoup's pending read or write fail, so libsoup
    // finishes the message and drops its connection; close the stream ourselves
    // too in case no I/O was pending.
    spdlog::debug("{}: closing a connection unanswered for {} ms", name_,
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - c.accepted).count());
    g_socket_shutdown(g_socket_connection_get_socket(c.stream.get()), TRUE, TRUE, nullptr);
    g_io_stream_close(io, nullptr, nullptr);
    return true;
  });
}

HttpServer::~HttpServer() {
  tick_.reset();
  watches_.clear();
  if (server_) {
    soup_server_remove_handler(server_.get(), nullptr);
    soup_server_disconnect(server_.get());
  }
  reap(true);
  for (auto& s : sockets_) {
    g_socket_close(s.get(), nullptr);
  }
}

void HttpServer::on_request(SoupServer* /*server*/, SoupServerMessage* msg, const char* path, GHashTable* query,
                            gpointer self) noexcept {
  static_cast<HttpServer*>(self)->serve(msg, path, query);
}

void HttpServer::serve(SoupServerMessage* msg, const char* path, GHashTable* query) noexcept {
  HttpResponse resp;
  try {
    HttpRequest req;
    req.method = soup_server_message_get_method(msg);
    common::GCharPtr decoded(g_uri_unescape_string(path, nullptr));
    const char* auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
    if (!bearer_token_ok(auth != nullptr ? auth : "", token_)) {
      resp = HttpResponse{401, "application/json", error_body("missing or wrong bearer token"),
                          {{"WWW-Authenticate", "Bearer realm=\"veter\""}}};
    } else if (!decoded) {
      resp = HttpResponse{400, "application/json", error_body("invalid path encoding"), {}};
    } else {
      req.path = decoded.get();
      if (query != nullptr) {
        GHashTableIter it;
        gpointer key = nullptr;
        gpointer value = nullptr;
        g_hash_table_iter_init(&it, query);
        while (g_hash_table_iter_next(&it, &key, &value) != FALSE) {
          req.query[static_cast<const char*>(key)] = value != nullptr ? static_cast<const char*>(value) : "";
        }
      }
      resp = handler_(req);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: request handler failed: {}", name_, e.what());
    resp = HttpResponse{500, "application/json", error_body("internal error"), {}};
  } catch (...) {
    resp = HttpResponse{500, "application/json", error_body("internal error"), {}};
  }
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(headers, "Connection", "close");  // one request per connection, see above
  for (const auto& [key, value] : resp.headers) {
    soup_message_headers_replace(headers, key.c_str(), value.c_str());
  }
  soup_server_message_set_status(msg, resp.status, nullptr);
  soup_server_message_set_response(msg, resp.content_type.c_str(), SOUP_MEMORY_COPY, resp.body.data(),
                                   resp.body.size());
}

}  // namespace veter::relay
