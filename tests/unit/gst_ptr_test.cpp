#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"

using namespace veter::common;

namespace {

// GoogleTest 1.10 (Debian 11, the publisher's lower bound) has no GTEST_FLAG_SET; 1.11 and later have it.
void use_threadsafe_death_tests() {
#ifdef GTEST_FLAG_SET
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#else
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
#endif
}
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

TEST(GstPtr, MakeElementAndMissingFactory) {
  auto el = make_element("identity", "id0");
  ASSERT_TRUE(el);
  EXPECT_FALSE(g_object_is_floating(el.get()));
  EXPECT_EQ(GST_OBJECT_REFCOUNT(el.get()), 1);
  EXPECT_STREQ(GST_OBJECT_NAME(el.get()), "id0");
  try {
    (void)make_element("no-such-element-veter", nullptr);
    FAIL() << "a missing factory must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-element-veter' is missing"), std::string::npos) << e.what();
  }
}

TEST(GstPtr, AdoptRefusesFloatingObjects) {
  use_threadsafe_death_tests();
  EXPECT_DEATH((void)adopt(gst_element_factory_make("identity", nullptr)), "floating");
  // A non-floating GstObject is adopted as is.
  GstElement* raw = gst_element_factory_make("identity", nullptr);
  gst_object_ref_sink(raw);
  auto el = adopt(raw);
  EXPECT_EQ(GST_OBJECT_REFCOUNT(el.get()), 1);
}

TEST(GstPtr, GObjectPtrForPlainGObjects) {
  GInetAddress* raw = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  auto addr = adopt_gobject(raw);
  EXPECT_EQ(G_OBJECT(addr.get())->ref_count, 1U);
  {
    auto second = ref_gobject(addr.get());
    EXPECT_EQ(G_OBJECT(addr.get())->ref_count, 2U);
  }
  EXPECT_EQ(G_OBJECT(addr.get())->ref_count, 1U);
  use_threadsafe_death_tests();
  EXPECT_DEATH((void)adopt_gobject(G_OBJECT(gst_element_factory_make("identity", nullptr))), "GST_IS_OBJECT");
}

TEST(GstPtr, StructurePtrAndGListPtr) {
  StructurePtr s(gst_structure_new("veter", "n", G_TYPE_INT, 3, nullptr));
  int n = 0;
  EXPECT_TRUE(gst_structure_get_int(s.get(), "n", &n));
  EXPECT_EQ(n, 3);

  GInetAddress* a = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GInetAddress* b = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV6);
  // Watch both: the list's destruction must drop the last references.
  g_object_add_weak_pointer(G_OBJECT(a), reinterpret_cast<gpointer*>(&a));
  g_object_add_weak_pointer(G_OBJECT(b), reinterpret_cast<gpointer*>(&b));
  {
    GListPtr<GInetAddress> list(g_list_append(g_list_append(nullptr, a), b));
    EXPECT_FALSE(list.empty());
    EXPECT_EQ(list.front(), a);
    std::vector<GInetAddress*> seen;
    for (GInetAddress* x : list) {
      seen.push_back(x);
    }
    EXPECT_EQ(seen, (std::vector<GInetAddress*>{a, b}));
    GListPtr<GInetAddress> moved(std::move(list));
    EXPECT_TRUE(list.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty
    EXPECT_EQ(moved.front(), a);
  }
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(GListPtr<GInetAddress>().front(), nullptr);
}

TEST(GstPtr, MappedBufferUnmapsOnScopeExit) {
  const std::uint8_t bytes[] = {1, 2, 3, 4};
  auto buf = buffer_copy_of(bytes, sizeof bytes);
  {
    const MappedBuffer map(buf.get(), GST_MAP_READ);
    ASSERT_TRUE(map);
    ASSERT_EQ(map.size(), 4U);
    EXPECT_EQ(map.bytes()[2], 3);
  }
  {
    // Unmapped again: the buffer can be mapped for writing (a write map needs a writable,
    // unmapped memory).
    MappedBuffer write(buf.get(), GST_MAP_WRITE);
    ASSERT_TRUE(write);
    write.data()[0] = 9;
    write.unmap();
    EXPECT_FALSE(write);
    EXPECT_EQ(write.size(), 0U);
  }
  std::uint8_t first = 0;
  gst_buffer_extract(buf.get(), 0, &first, 1);
  EXPECT_EQ(first, 9);
}

TEST(GstPtr, MappedRtpBufferReadsAndWritesHeaders) {
  BufferPtr packet(gst_rtp_buffer_new_allocate(3, 0, 0));
  {
    MappedRtpBuffer rtp(packet.get(), GST_MAP_WRITE);
    ASSERT_TRUE(rtp);
    gst_rtp_buffer_set_seq(rtp.get(), 4242);
    gst_rtp_buffer_set_payload_type(rtp.get(), 96);
    auto* payload = static_cast<std::uint8_t*>(gst_rtp_buffer_get_payload(rtp.get()));
    payload[0] = 0x65;
  }
  {
    MappedRtpBuffer rtp(packet.get(), GST_MAP_READ);
    ASSERT_TRUE(rtp);
    EXPECT_EQ(gst_rtp_buffer_get_seq(rtp.get()), 4242);
    EXPECT_EQ(gst_rtp_buffer_get_payload_type(rtp.get()), 96);
    ASSERT_EQ(rtp.payload().size(), 3U);
    EXPECT_EQ(rtp.payload()[0], 0x65);
  }
  // Too short to be RTP: not mapped, nothing to unmap.
  const std::uint8_t junk[] = {0x80, 0x60};
  auto short_buf = buffer_copy_of(junk, sizeof junk);
  MappedRtpBuffer bad(short_buf.get(), GST_MAP_READ);
  EXPECT_FALSE(bad);
  EXPECT_TRUE(bad.payload().empty());
  MappedRtpBuffer none(nullptr, GST_MAP_READ);
  EXPECT_FALSE(none);
}

TEST(GstPtr, AttachedSourceDetachesOnReset) {
  int fired = 0;
  GSource* idle = g_idle_source_new();
  g_source_set_callback(
      idle,
      [](gpointer p) -> gboolean {
        ++*static_cast<int*>(p);
        return G_SOURCE_REMOVE;
      },
      &fired, nullptr);
  auto owned = attach_source(idle);
  EXPECT_FALSE(g_source_is_destroyed(owned.get()));
  while (g_main_context_iteration(nullptr, FALSE)) {
  }
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(g_source_is_destroyed(owned.get()));
  owned.reset();  // destroying a finished source is harmless

  GSource* never = g_timeout_source_new(1);
  g_source_set_callback(
      never,
      [](gpointer p) -> gboolean {
        ++*static_cast<int*>(p);
        return G_SOURCE_CONTINUE;
      },
      &fired, nullptr);
  auto pending = attach_source(never);
  pending.reset();
  g_usleep(5000);
  while (g_main_context_iteration(nullptr, FALSE)) {
  }
  EXPECT_EQ(fired, 1);
}
