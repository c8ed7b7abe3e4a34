#include "veter/common/listen_watch.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::common {

namespace {
constexpr std::chrono::milliseconds kFirstDelay{50};
constexpr std::chrono::milliseconds kMaxDelay{1000};
constexpr std::chrono::seconds kLogInterval{10};
}  // namespace

std::string describe_fd_usage() {
  rlimit lim{};
  const bool limited = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY;
  std::size_t open = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++open;
  }
  if (ec) {
    // Reading /proc/self/fd takes a descriptor too: out of them, it cannot be counted.
    return limited ? fmt::format("the limit of {} file descriptors reached: {}",
                                 static_cast<unsigned long long>(lim.rlim_cur), ec.message())
                   : fmt::format("file descriptors cannot be counted: {}", ec.message());
  }
  if (!limited) {
    return fmt::format("{} file descriptors open", open);
  }
  return fmt::format("{} of {} file descriptors open", open, static_cast<unsigned long long>(lim.rlim_cur));
}

ListenWatch::ListenWatch(std::string name, GSocket* listening, std::function<bool()> accept_one)
    : name_(std::move(name)), socket_(G_SOCKET(g_object_ref(listening))), accept_one_(std::move(accept_one)) {
  watch();
}

ListenWatch::~ListenWatch() = default;

void ListenWatch::watch() {
  source_.reset(g_socket_create_source(socket_.get(), static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP), nullptr));
  g_source_set_callback(source_.get(), G_SOURCE_FUNC(&ListenWatch::on_readable), this, nullptr);
  g_source_attach(source_.get(), nullptr);
}

gboolean ListenWatch::on_readable(GSocket*, GIOCondition, gpointer self) {
  auto* me = static_cast<ListenWatch*>(self);
  if (me->accept_one_()) {
    me->delay_ = std::chrono::milliseconds(0);
    return G_SOURCE_CONTINUE;
  }
  me->failed();
  return G_SOURCE_REMOVE;  // on_retry attaches a new source
}

void ListenWatch::failed() {
  ++failures_;
  ++unlogged_;
  delay_ = delay_.count() == 0 ? kFirstDelay : std::min(delay_ * 2, kMaxDelay);
  const auto now = std::chrono::steady_clock::now();
  if (last_log_ == std::chrono::steady_clock::time_point{} || now - last_log_ >= kLogInterval) {
    spdlog::warn("{}: cannot accept connections ({}; {} failure(s) since the last report), retrying in {} ms", name_,
                 describe_fd_usage(), unlogged_, delay_.count());
    last_log_ = now;
    unlogged_ = 0;
  }
  source_.reset();  // destroying a source from its own callback is allowed
  retry_.reset(g_timeout_add(static_cast<guint>(delay_.count()), &ListenWatch::on_retry, this));
}

gboolean ListenWatch::on_retry(gpointer self) {
  auto* me = static_cast<ListenWatch*>(self);
  me->retry_.release();
  me->watch();
  return G_SOURCE_REMOVE;
}

}  // namespace veter::common
