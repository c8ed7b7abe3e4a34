// ListenWatch on a real listening socket: a failed accept pauses the watch
// instead of calling it again at once, and it resumes by itself.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gio/gio.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "veter/common/listen_watch.hpp"

namespace veter::common {
namespace {

using namespace std::chrono_literals;

TEST(ListenWatch, BacksOffAfterAFailedAcceptAndResumes) {
  GError* raw = nullptr;
  GObjectPtr<GSocket> listener(g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
  ASSERT_TRUE(listener) << (raw != nullptr ? raw->message : "");
  GObjectPtr<GInetAddress> lo(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  GObjectPtr<GSocketAddress> any_port(g_inet_socket_address_new(lo.get(), 0));
  ASSERT_TRUE(g_socket_bind(listener.get(), any_port.get(), TRUE, nullptr));
  ASSERT_TRUE(g_socket_listen(listener.get(), nullptr));
  g_socket_set_blocking(listener.get(), FALSE);
  GObjectPtr<GSocketAddress> bound(g_socket_get_local_address(listener.get(), nullptr));

  int calls = 0;
  int calls_while_paused = 0;
  int accepted = 0;
  std::unique_ptr<ListenWatch> watch;
  watch = std::make_unique<ListenWatch>("test listener", listener.get(), [&] {
    ++calls;
    if (watch && watch->backing_off()) {
      ++calls_while_paused;
    }
    if (calls <= 3) {
      return false;  // as if accept() failed with EMFILE: the connection stays in the backlog
    }
    GObjectPtr<GSocket> s(g_socket_accept(listener.get(), nullptr, nullptr));
    accepted += s ? 1 : 0;
    return true;
  });
  GObjectPtr<GSocketClient> client(g_socket_client_new());
  GObjectPtr<GSocketConnection> conn(
      g_socket_client_connect(client.get(), G_SOCKET_CONNECTABLE(bound.get()), nullptr, nullptr));
  ASSERT_TRUE(conn);

  bool saw_backoff = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (accepted == 0 && std::chrono::steady_clock::now() < deadline) {
    g_main_context_iteration(nullptr, TRUE);  // bounded: the loop ends at the deadline
    saw_backoff = saw_backoff || watch->backing_off();
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(calls, 4) << "called again while the connection was still pending";
  EXPECT_EQ(calls_while_paused, 0);
  EXPECT_TRUE(saw_backoff);
  EXPECT_EQ(watch->failures(), 3U);
  EXPECT_FALSE(watch->backing_off());
}

TEST(ListenWatch, DescribesDescriptorUse) {
  const std::string d = describe_fd_usage();
  EXPECT_NE(d.find("file descriptors open"), std::string::npos) << d;
}

// Out of descriptors, /proc/self/fd cannot be opened to count them: the report says the limit is
// reached (it said "0 of 128 open"). In a child process with a limit of 64 and every one taken.
[[noreturn]] void describe_with_no_descriptor_left() {
  (void)describe_fd_usage();  // once with descriptors free (a sanitizer build's type checks warm up)
  const rlimit lim{64, 64};
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    std::_Exit(2);
  }
  std::vector<int> fds;
  for (int fd = dup(0); fd >= 0; fd = dup(0)) {
    fds.push_back(fd);
  }
  const std::string out = describe_fd_usage();
  for (int fd : fds) {
    close(fd);
  }
  std::fprintf(stderr, "[%s]\n", out.c_str());
  std::_Exit(out.find("the limit of 64 file descriptors reached") == 0 ? 0 : 1);
}

TEST(ListenWatch, DescribesDescriptorUseWhenNoneIsLeft) {
  EXPECT_EXIT(describe_with_no_descriptor_left(), ::testing::ExitedWithCode(0),
              "the limit of 64 file descriptors reached");
}

}  // namespace
}  // namespace veter::common
