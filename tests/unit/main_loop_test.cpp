#include <gtest/gtest.h>

#include <csignal>

#include "veter/common/main_loop.hpp"

using veter::common::MainLoop;

TEST(MainLoop, SigtermEndsTheLoopWithExitZero) {
  MainLoop loop;
  g_idle_add([](gpointer) -> gboolean {
    raise(SIGTERM);
    return G_SOURCE_REMOVE;
  }, nullptr);
  // Safety net: the test fails rather than hangs.
  guint guard = g_timeout_add_seconds(5, [](gpointer l) -> gboolean {
    static_cast<MainLoop*>(l)->quit(99);
    return G_SOURCE_REMOVE;
  }, &loop);
  EXPECT_EQ(loop.run(), 0);
  g_source_remove(guard);
}

TEST(MainLoop, ShutdownHandlerRunsOnSigint) {
  MainLoop loop;
  int seen = 0;
  loop.on_shutdown([&](int sig) {
    seen = sig;
    loop.quit(0);
  });
  g_idle_add([](gpointer) -> gboolean {
    raise(SIGINT);
    return G_SOURCE_REMOVE;
  }, nullptr);
  guint guard = g_timeout_add_seconds(5, [](gpointer l) -> gboolean {
    static_cast<MainLoop*>(l)->quit(99);
    return G_SOURCE_REMOVE;
  }, &loop);
  EXPECT_EQ(loop.run(), 0);
  EXPECT_EQ(seen, SIGINT);
  g_source_remove(guard);
}
