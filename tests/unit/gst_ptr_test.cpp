#include <gst/gst.h>
#include <gtest/gtest.h>

#include "veter/common/gst_ptr.hpp"

using namespace veter::common;

namespace {
struct GstEnv : ::testing::Environment {
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const env = ::testing::AddGlobalTestEnvironment(new GstEnv);
}  // namespace

TEST(GstPtr, FloatingRefIsSunkOnceAndReleased) {
  GstElement* raw = gst_element_factory_make("fakesink", nullptr);
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(g_object_is_floating(raw));
  auto el = adopt_floating(raw);
  EXPECT_FALSE(g_object_is_floating(el.get()));
  EXPECT_EQ(GST_OBJECT_REFCOUNT(el.get()), 1);
  {
    auto extra = ref(el.get());
    EXPECT_EQ(GST_OBJECT_REFCOUNT(el.get()), 2);
  }
  EXPECT_EQ(GST_OBJECT_REFCOUNT(el.get()), 1);
  auto pad = static_pad(el.get(), "sink");
  ASSERT_TRUE(pad);
  const auto pad_refs = GST_OBJECT_REFCOUNT(pad.get());
  {
    auto again = static_pad(el.get(), "sink");
    EXPECT_EQ(GST_OBJECT_REFCOUNT(pad.get()), pad_refs + 1);
  }
  EXPECT_EQ(GST_OBJECT_REFCOUNT(pad.get()), pad_refs);
}

TEST(GstPtr, BinChildAndMiniObjects) {
  GError* err = nullptr;
  auto pipe = adopt_floating(gst_parse_launch("fakesrc name=src ! fakesink", &err));
  ASSERT_TRUE(pipe) << (err ? err->message : "");
  const auto before = GST_OBJECT_REFCOUNT(pipe.get());
  {
    auto src = bin_child(pipe.get(), "src");
    ASSERT_TRUE(src);
    EXPECT_EQ(GST_OBJECT_REFCOUNT(src.get()), 2);  // the bin's + ours
  }
  EXPECT_EQ(GST_OBJECT_REFCOUNT(pipe.get()), before);

  CapsPtr caps(gst_caps_from_string("video/x-raw"));
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(caps.get()), 1);
  {
    auto second = ref_mini(caps.get());
    EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(caps.get()), 2);
  }
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(caps.get()), 1);
}

TEST(GstPtr, SignalConnectionDisconnects) {
  auto el = adopt_floating(gst_element_factory_make("identity", nullptr));
  int calls = 0;
  {
    SignalConnection c(el.get(), g_signal_connect(el.get(), "notify::silent",
                                                  G_CALLBACK(+[](GObject*, GParamSpec*, gpointer p) {
                                                    ++*static_cast<int*>(p);
                                                  }),
                                                  &calls));
    g_object_set(el.get(), "silent", FALSE, nullptr);
    EXPECT_EQ(calls, 1);
  }
  g_object_set(el.get(), "silent", TRUE, nullptr);
  EXPECT_EQ(calls, 1);
  // A connection that outlives its instance is safe.
  SignalConnection dangling;
  {
    auto tmp = adopt_floating(gst_element_factory_make("identity", nullptr));
    dangling = SignalConnection(tmp.get(), g_signal_connect(tmp.get(), "notify", G_CALLBACK(+[]() {}), nullptr));
  }
  dangling.disconnect();
}

TEST(GstPtr, SourceIdRemovesOnDestruction) {
  bool fired = false;
  {
    SourceId id(g_timeout_add(1, [](gpointer p) -> gboolean {
      *static_cast<bool*>(p) = true;
      return G_SOURCE_REMOVE;
    }, &fired));
  }
  g_usleep(5000);
  while (g_main_context_iteration(nullptr, FALSE)) {
  }
  EXPECT_FALSE(fired);
}
