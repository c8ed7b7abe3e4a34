// The systemd units: the contract they declare, `systemd-analyze verify` on the installed units,
// and `systemd-analyze security` (the relay must rate "OK" or better).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <tuple>
#include <regex>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {

const std::string kSource = VETER_SOURCE_DIR;

/// "Key=value" lines of a unit file (the last assignment of a key wins, as in systemd,
/// except that every value is kept in `all`).
struct Unit {
  std::map<std::string, std::string> last;
  std::multimap<std::string, std::string> all;
};

Unit parse_unit(const std::string& text) {
  Unit u;
  for (const auto& line : lines(text)) {
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') {
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    u.last[line.substr(0, eq)] = line.substr(eq + 1);
    u.all.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return u;
}

std::string analyze() {
  const std::string p = which("systemd-analyze");
  return p;
}

/// Installs the tree under <tmp>/usr (units rewritten to point at the installed binaries).
std::string install_for_verify(const TempDir& tmp) {
  install_tree("", tmp.path() + "/usr");
  return tmp.path() + "/usr/lib/systemd/system/";
}

}  // namespace

TEST(Units, DeclareTheServiceContract) {
  // name, unit file, configuration it reads (the template: one file per instance, %i = NAME).
  for (const auto& [name, unit, config] :
       {std::tuple<std::string, std::string, std::string>{"relay", "veter-relay", "relay.yml"},
        {"publisher", "veter-publisher", "publisher.yml"},
        {"publisher", "veter-publisher@", "publisher-%i.yml"}}) {
    SCOPED_TRACE(unit);
    const Unit u = parse_unit(read_text(kSource + "/systemd/" + unit + ".service"));
    EXPECT_EQ(u.last.at("Type"), "notify");
    EXPECT_EQ(u.last.at("NotifyAccess"), "main");
    EXPECT_EQ(u.last.at("ExecStart"), "/usr/bin/veter-" + name + " --config /etc/veter/" + config);
    EXPECT_TRUE(u.last.count("WatchdogSec") == 1 && u.last.at("WatchdogSec") != "0");
    EXPECT_EQ(u.last.at("Restart"), "always");
    EXPECT_EQ(u.last.count("RestartSec"), 1U);
    EXPECT_EQ(u.last.at("RestartPreventExitStatus"), "64 78");
    EXPECT_EQ(u.last.at("User"), "veter");
    EXPECT_EQ(u.last.at("NoNewPrivileges"), "yes");
    EXPECT_EQ(u.last.at("ProtectSystem"), "strict");
    EXPECT_EQ(u.last.at("ProtectHome"), "yes");
    EXPECT_EQ(u.last.at("CapabilityBoundingSet"), "");
    EXPECT_EQ(u.all.count("RestrictAddressFamilies"), 1U);
    EXPECT_EQ(u.all.find("SystemCallFilter")->second, "@system-service");
    // The daemons don't reload their configuration in place: no ExecReload= that would lie.
    EXPECT_EQ(u.last.count("ExecReload"), 0U);
    EXPECT_EQ(u.last.at("WantedBy"), "multi-user.target");
  }
  const Unit relay = parse_unit(read_text(kSource + "/systemd/veter-relay.service"));
  EXPECT_EQ(relay.last.at("PrivateTmp"), "yes");
  // Descriptors: one per RTSP viewer (three with UDP) up to rtsp.max_connections (1000 by default).
  ASSERT_EQ(relay.last.count("LimitNOFILE"), 1U);
  EXPECT_GE(std::stol(relay.last.at("LimitNOFILE")), 3 * 1000 + 1024);
  EXPECT_EQ(relay.last.at("PrivateDevices"), "yes");
  for (const std::string unit : {"veter-publisher", "veter-publisher@"}) {
    SCOPED_TRACE(unit);
    const Unit pub = parse_unit(read_text(kSource + "/systemd/" + unit + ".service"));
    EXPECT_EQ(pub.last.at("SupplementaryGroups"), "video");
    ASSERT_EQ(pub.last.count("LimitNOFILE"), 1U);
    EXPECT_GE(std::stol(pub.last.at("LimitNOFILE")), 1024);
    // libargus reaches nvargus-daemon through /tmp/argus_socket and needs the Tegra device nodes.
    EXPECT_EQ(pub.last.at("PrivateTmp"), "no");
    EXPECT_EQ(pub.last.count("PrivateDevices"), 0U);
    EXPECT_NE(pub.last.at("After").find("nvargus-daemon.service"), std::string::npos);
  }
}

TEST(Units, TemplateDiffersFromThePlainUnitOnlyInItsInstance) {
  // Same sandbox and restart policy for every camera: the template is the plain unit with the
  // instance name in Description= and the configuration file name.
  Unit plain = parse_unit(read_text(kSource + "/systemd/veter-publisher.service"));
  Unit tmpl = parse_unit(read_text(kSource + "/systemd/veter-publisher@.service"));
  EXPECT_NE(tmpl.last.at("Description").find("%i"), std::string::npos);
  for (auto* u : {&plain, &tmpl}) {
    u->last.erase("Description");
    u->last.erase("ExecStart");
    u->all.erase("Description");
    u->all.erase("ExecStart");
  }
  EXPECT_EQ(plain.last, tmpl.last);
  EXPECT_EQ(plain.all, tmpl.all);
}

TEST(Units, VerifyIsClean) {
  if (analyze().empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package 'systemd'; scripts/deps.sh installs it)";
  }
  TempDir tmp;
  const std::string dir = install_for_verify(tmp);
  ASSERT_TRUE(file_exists(dir + "veter-relay.service"));
  ASSERT_TRUE(file_exists(dir + "veter-publisher.service"));
  ASSERT_TRUE(file_exists(dir + "veter-publisher@.service"));
  // A template is verified through an instance of it (a link named veter-publisher@front.service),
  // whose configuration exists in the installed tree.
  std::filesystem::create_symlink(dir + "veter-publisher@.service", dir + "veter-publisher@front.service");
  const auto r = run_command({analyze(), "verify", "--man=no", dir + "veter-relay.service",
                              dir + "veter-publisher.service", dir + "veter-publisher@front.service"},
                             std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "systemd-analyze verify must print nothing";
}

TEST(Units, VerifyCatchesABrokenUnit) {
  // The check above can fail: a unit naming a missing binary and an unknown key is reported.
  if (analyze().empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package 'systemd')";
  }
  TempDir tmp;
  std::string text = read_text(kSource + "/systemd/veter-relay.service");
  text = std::regex_replace(text, std::regex("ExecStart=/usr/bin/veter-relay"),
                            "ExecStart=" + tmp.path() + "/missing/veter-relay");
  text += "\n[Service]\nWatchdogSecs=3\n";
  const std::string unit = tmp.write("veter-relay.service", text);
  const auto r = run_command({analyze(), "verify", "--man=no", unit}, std::chrono::seconds(60));
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.out + r.err).find("is not executable"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("WatchdogSecs"), std::string::npos) << r.out << r.err;
}

namespace {

struct Exposure {
  double level = 100;
  std::string rating;
};

Exposure security(const std::string& unit_path) {
  const auto r = run_command({analyze(), "security", "--offline=yes", "--no-pager", unit_path},
                             std::chrono::seconds(60));
  EXPECT_EQ(r.status, 0) << r.err;
  std::smatch m;
  const std::regex re(R"(Overall exposure level for [^:]+: ([0-9.]+) ([A-Z]+))");
  Exposure e;
  if (std::regex_search(r.out, m, re)) {
    e.level = std::stod(m[1]);
    e.rating = m[2];
  } else {
    ADD_FAILURE() << "no overall exposure line in:\n" << r.out << r.err;
  }
  return e;
}

}  // namespace

TEST(Units, RelaySecurityRatesOkOrBetter) {
  if (analyze().empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package 'systemd')";
  }
  TempDir tmp;
  const std::string dir = install_for_verify(tmp);
  const Exposure relay = security(dir + "veter-relay.service");
  std::cout << "veter-relay.service exposure: " << relay.level << " " << relay.rating << "\n";
  RecordProperty("relay_exposure", std::to_string(relay.level));
  EXPECT_TRUE(relay.rating == "OK" || relay.rating == "SAFE" || relay.rating == "PERFECT") << relay.rating;
  EXPECT_LT(relay.level, 5.0);
  // The publisher needs the real /dev and /tmp (camera, Argus): it is measured, and must
  // at least stay out of the EXPOSED/UNSAFE range.
  const Exposure pub = security(dir + "veter-publisher.service");
  std::cout << "veter-publisher.service exposure: " << pub.level << " " << pub.rating << "\n";
  RecordProperty("publisher_exposure", std::to_string(pub.level));
  EXPECT_LT(pub.level, 5.0) << pub.rating;
}

TEST(Units, SecurityCheckCanFail) {
  // An unhardened unit is rated worse than OK: the rating above is not a constant.
  if (analyze().empty()) {
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package 'systemd')";
  }
  TempDir tmp;
  const std::string unit = tmp.write("plain.service", "[Service]\nType=simple\nExecStart=/bin/true\n");
  const Exposure e = security(unit);
  EXPECT_GE(e.level, 5.0) << e.rating;
}
