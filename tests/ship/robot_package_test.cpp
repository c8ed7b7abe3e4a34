// The robot's package: the cross-built arm64 veter-publisher .deb (scripts/stage_arm64.sh builds it
// and names it in VETER_ROBOT_DEB) installs on a Jetson with JetPack 6 (Ubuntu 22.04): every
// Depends: name exists there in a version that satisfies it, and NVIDIA's elements are recommended
// (they come from L4T's nvidia-l4t-gstreamer, not from Ubuntu), never depended on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <regex>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {

// Ubuntu 22.04 (jammy, jammy-updates) versions of every package a publisher built here may depend
// on, as the Ubuntu archive lists them; JetPack 6 (L4T r36) uses Ubuntu's GStreamer 1.20.
const std::map<std::string, std::string> kUbuntu2204 = {
    {"adduser", "3.118ubuntu5"},
    {"libc6", "2.35-0ubuntu3"},
    {"libstdc++6", "12.3.0-1ubuntu1~22.04"},
    {"libgcc-s1", "12.3.0-1ubuntu1~22.04"},
    {"libglib2.0-0", "2.72.4-0ubuntu2"},
    {"libgstreamer1.0-0", "1.20.3-0ubuntu1"},
    {"libgstreamer-plugins-base1.0-0", "1.20.1-1ubuntu0.1"},
    {"gstreamer1.0-plugins-base", "1.20.1-1ubuntu0.1"},
    {"gstreamer1.0-plugins-good", "1.20.3-0ubuntu1"},
    {"gstreamer1.0-plugins-bad", "1.20.3-0ubuntu1"},
    {"gstreamer1.0-plugins-ugly", "1.20.1-1"},
    {"gstreamer1.0-x", "1.20.1-1ubuntu0.1"},
    {"libsystemd0", "249.11-0ubuntu3"},
    {"libsrtp2-1", "2.4.2-2"},
    {"libyaml-cpp0.7", "0.7.0+dfsg-8build1"},
};

std::string field(const std::string& deb, const std::string& f) {
  const auto r = run_command({which("dpkg-deb"), "-f", deb, f});
  EXPECT_EQ(r.status, 0) << r.err;
  std::string v = r.out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) {
    v.pop_back();
  }
  return v;
}

struct Relation {
  std::string name;
  std::string op;  // "" when unversioned
  std::string version;
};

/// "a (>= 1), b | c" -> groups of alternatives.
std::vector<std::vector<Relation>> relations(const std::string& value) {
  std::vector<std::vector<Relation>> out;
  const std::regex one(R"(^\s*([a-z0-9][a-z0-9.+-]*)(?::[a-z0-9]+)?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?\s*$)");
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    const std::string group = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::vector<Relation> alts;
    std::size_t a = 0;
    while (a <= group.size()) {
      const auto bar = group.find('|', a);
      const std::string alt = group.substr(a, bar == std::string::npos ? std::string::npos : bar - a);
      std::smatch m;
      if (std::regex_match(alt, m, one)) {
        alts.push_back({m[1], m[2], m[3]});
      } else if (alt.find_first_not_of(' ') != std::string::npos) {
        ADD_FAILURE() << "cannot parse relation '" << alt << "' in " << value;
      }
      if (bar == std::string::npos) {
        break;
      }
      a = bar + 1;
    }
    if (!alts.empty()) {
      out.push_back(alts);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

/// Does Ubuntu 22.04 satisfy `r`?
bool satisfied_on_jammy(const Relation& r, std::string* why) {
  const auto it = kUbuntu2204.find(r.name);
  if (it == kUbuntu2204.end()) {
    *why = r.name + " is not a known Ubuntu 22.04 package";
    return false;
  }
  if (r.op.empty()) {
    return true;
  }
  static const std::map<std::string, std::string> ops = {{">=", "ge"}, {">>", "gt"}, {"<=", "le"},
                                                         {"<<", "lt"}, {"=", "eq"}};
  const auto op = ops.find(r.op);
  if (op == ops.end()) {
    *why = "unknown operator " + r.op;
    return false;
  }
  const auto cmp = run_command({which("dpkg"), "--compare-versions", it->second, op->second, r.version});
  if (cmp.status != 0) {
    *why = r.name + " (" + r.op + " " + r.version + ") but Ubuntu 22.04 has " + it->second;
    return false;
  }
  return true;
}

class RobotPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* d = std::getenv("VETER_ROBOT_DEB");
    if (d == nullptr || *d == '\0') {
      GTEST_SKIP() << "VETER_ROBOT_DEB is not set (scripts/stage_arm64.sh builds the package and sets it)";
    }
    deb_ = d;
    ASSERT_TRUE(file_exists(deb_)) << deb_;
    ASSERT_FALSE(which("dpkg-deb").empty());
  }
  std::string deb_;
};

}  // namespace

TEST(RobotPackageRelations, ParserAndJammyTableAgreeWithDpkg) {
  const auto g = relations("libc6 (>= 2.34), gstreamer1.0-x | foo, libstdc++6 (>= 13)");
  ASSERT_EQ(g.size(), 3U);
  EXPECT_EQ(g[0][0].name, "libc6");
  EXPECT_EQ(g[0][0].op, ">=");
  EXPECT_EQ(g[0][0].version, "2.34");
  EXPECT_EQ(g[1].size(), 2U);
  std::string why;
  if (which("dpkg").empty()) {
    GTEST_SKIP() << "no dpkg";
  }
  EXPECT_TRUE(satisfied_on_jammy(g[0][0], &why)) << why;
  EXPECT_FALSE(satisfied_on_jammy(g[2][0], &why)) << "GCC 13's libstdc++ is not on Ubuntu 22.04";
  EXPECT_FALSE(satisfied_on_jammy({"libspdlog1.10", "", ""}, &why)) << "Debian 12's spdlog package is not on 22.04";
  EXPECT_FALSE(satisfied_on_jammy({"gstreamer1.0-plugins-base", ">=", "1.22"}, &why));
}

TEST_F(RobotPackage, IsAnArm64PublisherPackage) {
  EXPECT_EQ(field(deb_, "Package"), "veter-publisher");
  EXPECT_EQ(field(deb_, "Architecture"), "arm64");
  EXPECT_EQ(field(deb_, "Version"), VETER_VERSION);
  const auto c = run_command({which("dpkg-deb"), "-c", deb_});
  EXPECT_NE(c.out.find(" ./usr/bin/veter-publisher"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(" ./usr/lib/systemd/system/veter-publisher.service"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("veter-relay"), std::string::npos) << c.out;
}

TEST_F(RobotPackage, EveryDependencyExistsOnUbuntu2204) {
  const std::string depends = field(deb_, "Depends");
  const auto groups = relations(depends);
  ASSERT_FALSE(groups.empty()) << depends;
  bool gstreamer_core = false;
  for (const auto& alts : groups) {
    std::string why_all;
    bool ok = false;
    for (const auto& r : alts) {
      std::string why;
      ok = ok || satisfied_on_jammy(r, &why);
      why_all += why + "; ";
      EXPECT_EQ(r.name.rfind("nvidia-", 0), std::string::npos) << "depends on an L4T package: " << depends;
      gstreamer_core = gstreamer_core || r.name == "libgstreamer1.0-0";
    }
    EXPECT_TRUE(ok) << why_all << "\nDepends: " << depends;
  }
  EXPECT_TRUE(gstreamer_core) << "dpkg-shlibdeps added no library dependencies: " << depends;
}

TEST_F(RobotPackage, RecommendsNvidiaGStreamerElements) {
  const auto groups = relations(field(deb_, "Recommends"));
  bool nvidia = false;
  for (const auto& alts : groups) {
    for (const auto& r : alts) {
      nvidia = nvidia || r.name == "nvidia-l4t-gstreamer";
    }
  }
  EXPECT_TRUE(nvidia) << "Recommends: " << field(deb_, "Recommends");
}
