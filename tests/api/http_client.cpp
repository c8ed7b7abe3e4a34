#include "http_client.hpp"

#include <libsoup/soup.h>

#include <algorithm>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay::test {

namespace {
struct Pending {
  bool done = false;
  common::GBytesPtr body;
  std::string error;
};

void on_done(GObject* source, GAsyncResult* res, gpointer data) {
  auto* p = static_cast<Pending*>(data);
  GError* raw = nullptr;
  p->body.reset(soup_session_send_and_read_finish(SOUP_SESSION(source), res, &raw));
  common::GErrorPtr err(raw);
  if (err) {
    p->error = err->message;
  }
  p->done = true;
}
}  // namespace

HttpResult http_request(const std::string& method, const std::string& url, std::chrono::milliseconds timeout) {
  HttpResult result;
  // No proxy: the tests talk to loopback servers, which an http_proxy in the environment must not
  // carry; it also spares the request GIO's proxy-resolver thread (libproxy), one lookup per request.
  common::GObjectPtr<SoupSession> session(soup_session_new_with_options("proxy-resolver", nullptr, nullptr));
  soup_session_set_timeout(session.get(), static_cast<guint>(std::max<long long>(1, timeout.count() / 1000)));
  common::GObjectPtr<SoupMessage> msg(soup_message_new(method.c_str(), url.c_str()));
  if (!msg) {
    result.error = "bad url " + url;
    return result;
  }
  Pending pending;
  common::GObjectPtr<GCancellable> cancel(g_cancellable_new());
  soup_session_send_and_read_async(session.get(), msg.get(), G_PRIORITY_DEFAULT, cancel.get(), &on_done, &pending);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool cancelled = false;
  while (!pending.done) {
    if (!cancelled && std::chrono::steady_clock::now() > deadline) {
      g_cancellable_cancel(cancel.get());  // the callback still runs, with G_IO_ERROR_CANCELLED
      cancelled = true;
    }
    if (g_main_context_iteration(nullptr, FALSE) == FALSE) {
      g_usleep(1000);
    }
  }
  if (!pending.error.empty()) {
    result.error = pending.error;
    return result;
  }
  result.status = soup_message_get_status(msg.get());
  SoupMessageHeaders* headers = soup_message_get_response_headers(msg.get());
  if (const char* ct = soup_message_headers_get_one(headers, "Content-Type")) {
    result.content_type = ct;
  }
  if (const char* allow = soup_message_headers_get_one(headers, "Allow")) {
    result.allow = allow;
  }
  if (pending.body) {
    gsize len = 0;
    const auto* data = static_cast<const char*>(g_bytes_get_data(pending.body.get(), &len));
    result.body.assign(data != nullptr ? data : "", len);
  }
  return result;
}

void pump_main_context(std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < deadline) {
    if (g_main_context_iteration(nullptr, FALSE) == FALSE) {
      g_usleep(2000);
    }
  }
}

}  // namespace veter::relay::test
