// fMP4 segments as the recorder writes them (mp4mux, 1 s fragments): indexing, truncation
// (a killed writer), splicing fragments of several segments into one file.
#include "veter/relay/record/fmp4_index.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "process.hpp"
#include "rtsp_viewer.hpp"
#include "veter/common/gst_ptr.hpp"

namespace veter::relay {
namespace {

using veter::test::TempDir;

/// `frames` of 320x240 at 30 fps, a keyframe every `gop` frames, fMP4 with 1 s fragments.
std::vector<std::uint8_t> make_fmp4(const TempDir& dir, const std::string& name, int frames, int gop,
                                    const std::string& size = "320x240") {
  veter::test::init_gstreamer_once();
  const auto x = size.find('x');
  const std::string file = dir.path() + "/" + name;
  const std::string desc = "videotestsrc num-buffers=" + std::to_string(frames) +
                           " pattern=ball ! video/x-raw,framerate=30/1,width=" + size.substr(0, x) +
                           ",height=" + size.substr(x + 1) +
                           " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=" + std::to_string(gop) +
                           " ! h264parse ! mp4mux fragment-duration=1000 ! filesink location=" + file;
  GError* err = nullptr;
  auto p = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr e(err);
  EXPECT_TRUE(p && !e) << (e ? e->message : "");
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  common::BusPtr bus(gst_element_get_bus(p.get()));
  common::MessagePtr m(gst_bus_timed_pop_filtered(bus.get(), 60 * GST_SECOND,
                                                  static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  EXPECT_TRUE(m && GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_EOS);
  gst_element_set_state(p.get(), GST_STATE_NULL);
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Fmp4Index, FragmentsOfAtMostOneSecondStartingAtKeyframes) {
  TempDir dir;
  const auto file = make_fmp4(dir, "a.mp4", 90, 30);
  const auto idx = index_fmp4(file);
  ASSERT_TRUE(idx);
  EXPECT_FALSE(idx->truncated);
  EXPECT_EQ(idx->width, 320U);
  EXPECT_EQ(idx->height, 240U);
  EXPECT_EQ(idx->samples(), 90U);
  EXPECT_NEAR(idx->duration_seconds(), 3.0, 0.001);
  ASSERT_GE(idx->fragments.size(), 3U);
  std::uint64_t next = idx->fragments.front().start;
  for (const auto& f : idx->fragments) {
    EXPECT_LE(f.duration, idx->timescale) << "a fragment longer than 1 s";
    EXPECT_EQ(f.start, next);
    next = f.start + f.duration;
  }
  EXPECT_TRUE(idx->fragments.front().starts_with_sync);
}

TEST(Fmp4Index, KeyframesInsideFragmentsAreReported) {
  TempDir dir;
  // Keyframes every 45 frames: mp4mux starts a fragment at each keyframe and after 1 s, so
  // some fragments start without one.
  const auto idx = index_fmp4(make_fmp4(dir, "b.mp4", 90, 45));
  ASSERT_TRUE(idx);
  int sync = 0;
  for (const auto& f : idx->fragments) {
    sync += f.starts_with_sync ? 1 : 0;
  }
  EXPECT_EQ(sync, 2);
  EXPECT_GT(idx->fragments.size(), 2U);
}

TEST(Fmp4Index, ATruncatedFileKeepsItsCompleteFragments) {
  TempDir dir;
  const auto file = make_fmp4(dir, "c.mp4", 90, 30);
  const auto whole = index_fmp4(file);
  ASSERT_TRUE(whole);
  ASSERT_GE(whole->fragments.size(), 3U);
  // Cut in the middle of the last fragment, as a killed writer leaves it.
  const auto& last = whole->fragments.back();
  std::vector<std::uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(last.offset + last.size / 2));
  const auto idx = index_fmp4(cut);
  ASSERT_TRUE(idx);
  EXPECT_TRUE(idx->truncated);
  EXPECT_EQ(idx->fragments.size(), whole->fragments.size() - 1);
  EXPECT_EQ(idx->samples(), whole->samples() - last.samples);
}

TEST(Fmp4Index, GarbageIsNotAnIndex) {
  const std::vector<std::uint8_t> junk(1000, 0x41);
  EXPECT_FALSE(index_fmp4(junk));
  EXPECT_FALSE(index_fmp4(std::vector<std::uint8_t>{}));
  const std::vector<std::uint8_t> tiny{0, 0, 0, 8, 'f', 't', 'y', 'p'};
  EXPECT_FALSE(index_fmp4(tiny));
}

TEST(Fmp4Index, SplicedSegmentsAreOneContinuousFile) {
  TempDir dir;
  const auto a = make_fmp4(dir, "a.mp4", 60, 30);
  const auto b = make_fmp4(dir, "b.mp4", 60, 30);
  const auto ia = index_fmp4(a);
  const auto ib = index_fmp4(b);
  ASSERT_TRUE(ia && ib);
  const Fmp4Part parts[] = {{a, &*ia, 1, ia->fragments.size()}, {b, &*ib, 0, ib->fragments.size()}};
  const auto out = splice_fmp4(parts);
  const auto io = index_fmp4(out);
  ASSERT_TRUE(io);
  EXPECT_EQ(io->samples(), ia->samples() - ia->fragments[0].samples + ib->samples());
  std::uint64_t next = 0;
  for (const auto& f : io->fragments) {
    EXPECT_EQ(f.start, next) << "decode times continue across the splice";
    next = f.start + f.duration;
  }
  // ffprobe agrees on the frames in the spliced file.
  const std::string path = dir.write("spliced.mp4", std::string(out.begin(), out.end()));
  const auto r = veter::test::run_command({"/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams",
                                           "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::stoi(r.out), static_cast<int>(io->samples())) << r.out;
}

}  // namespace
}  // namespace veter::relay
