#include "veter/relay/control/http_server.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "veter/common/cli.hpp"
#include "veter/relay/control/api_token.hpp"

namespace veter::relay {

namespace {

struct GSListUriFree {
  void operator()(GSList* l) const noexcept { g_slist_free_full(l, reinterpret_cast<GDestroyNotify>(g_uri_unref)); }
};
using UriListPtr = std::unique_ptr<GSList, GSListUriFree>;

struct GListObjectFree {
  void operator()(GList* l) const noexcept { g_list_free_full(l, g_object_unref); }
};
using ObjectListPtr = std::unique_ptr<GList, GListObjectFree>;

std::string error_body(const std::string& message) {
  return nlohmann::json{{"status", "error"}, {"error", message}}.dump();
}

/// Listen on `listen` or throw UnavailableError naming the listener.
void bind_or_throw(SoupServer* server, const std::string& name, const common::Endpoint& listen) {
  GError* raw = nullptr;
  bool ok = false;
  if (listen.host.empty()) {
    ok = soup_server_listen_all(server, listen.port, static_cast<SoupServerListenOptions>(0), &raw) != FALSE;
  } else {
    common::GObjectPtr<GSocketAddress> addr(g_inet_socket_address_new_from_string(listen.host.c_str(), listen.port));
    if (addr) {
      ok = soup_server_listen(server, addr.get(), static_cast<SoupServerListenOptions>(0), &raw) != FALSE;
    } else {
      // A host name (e.g. "localhost"): resolve once at start-up, listen on every address.
      common::GObjectPtr<GResolver> resolver(g_resolver_get_default());
      ObjectListPtr addrs(g_resolver_lookup_by_name(resolver.get(), listen.host.c_str(), nullptr, &raw));
      for (GList* a = addrs.get(); a != nullptr && raw == nullptr; a = a->next) {
        common::GObjectPtr<GSocketAddress> sa(g_inet_socket_address_new(G_INET_ADDRESS(a->data), listen.port));
        ok = soup_server_listen(server, sa.get(), static_cast<SoupServerListenOptions>(0), &raw) != FALSE;
      }
    }
  }
  common::GErrorPtr err(raw);
  if (!ok || err) {
    throw common::UnavailableError(name + " listener: cannot listen on " + listen.to_string() + ": " +
                                   (err ? err->message : "no address"));
  }
}

std::uint16_t bound_port(SoupServer* server) {
  UriListPtr uris(soup_server_get_uris(server));
  for (GSList* u = uris.get(); u != nullptr; u = u->next) {
    const int port = g_uri_get_port(static_cast<GUri*>(u->data));
    if (port > 0) {
      return static_cast<std::uint16_t>(port);
    }
  }
  return 0;
}

}  // namespace

HttpServer::HttpServer(std::string name, const common::Endpoint& listen, HttpHandler handler)
    : name_(std::move(name)), handler_(std::move(handler)) {
  server_.reset(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "veter-relay", nullptr)));
  soup_server_add_handler(server_.get(), nullptr, &HttpServer::on_request, this, nullptr);
  bind_or_throw(server_.get(), name_, listen);
  port_ = bound_port(server_.get());
  spdlog::info("{} listening on http://{}:{}/", name_, listen.host.empty() ? "0.0.0.0" : listen.host, port_);
}

HttpServer::~HttpServer() {
  if (server_) {
    soup_server_remove_handler(server_.get(), nullptr);
    soup_server_disconnect(server_.get());
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
    if (!bearer_token_ok(auth != nullptr ? auth : "", token_)) {  // issue 6
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
  for (const auto& [key, value] : resp.headers) {
    soup_message_headers_replace(headers, key.c_str(), value.c_str());
  }
  soup_server_message_set_status(msg, resp.status, nullptr);
  soup_server_message_set_response(msg, resp.content_type.c_str(), SOUP_MEMORY_COPY, resp.body.data(),
                                   resp.body.size());
}

}  // namespace veter::relay
