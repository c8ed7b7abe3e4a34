// The .deb packages: built with cpack from this build tree, inspected with dpkg-deb.
#include <gtest/gtest.h>

#include <regex>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {

const std::string kSource = VETER_SOURCE_DIR;

class Packages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (which("dpkg-deb").empty() || which("dpkg-shlibdeps").empty()) {
      return;
    }
    dir_ = std::make_unique<TempDir>();
    build_ = run_command({VETER_CPACK_COMMAND, "-G", "DEB", "-B", dir_->path(), "--config",
                          std::string(VETER_BINARY_DIR) + "/CPackConfig.cmake"},
                         std::chrono::seconds(800));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  void SetUp() override {
    if (!dir_) {
      GTEST_SKIP() << "dpkg-deb / dpkg-shlibdeps not installed (Debian package dpkg-dev)";
    }
    ASSERT_EQ(build_.status, 0) << build_.out << build_.err;
  }

  static std::string deb(const std::string& name) {
    const auto r = run_command({"/bin/sh", "-c", "ls " + dir_->path() + "/" + name + "_*.deb"});
    EXPECT_EQ(r.status, 0) << "no package " << name << " in " << build_.out;
    return lines(r.out).empty() ? std::string() : lines(r.out).front();
  }
  static std::string field(const std::string& debfile, const std::string& f) {
    const auto r = run_command({which("dpkg-deb"), "-f", debfile, f});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }
  static std::set<std::string> contents(const std::string& debfile) {
    const auto r = run_command({which("dpkg-deb"), "-c", debfile});
    EXPECT_EQ(r.status, 0) << r.err;
    std::set<std::string> files;
    for (const auto& l : lines(r.out)) {
      const auto p = l.find(" ./");
      if (p != std::string::npos && l[0] == '-') {
        files.insert(l.substr(p + 2));
      }
    }
    return files;
  }
  /// Package names in a Depends: value.
  static std::set<std::string> depends(const std::string& value) {
    std::set<std::string> names;
    const std::regex name(R"((?:^|[,|]\s*)([a-z0-9][a-z0-9.+-]+))");
    for (auto it = std::sregex_iterator(value.begin(), value.end(), name); it != std::sregex_iterator(); ++it) {
      names.insert((*it)[1]);
    }
    return names;
  }

  void check_package(const std::string& c, const std::vector<std::string>& required_depends) {
    const std::string pkg = "veter-" + c;
    const std::string file = deb(pkg);
    ASSERT_FALSE(file.empty());
    EXPECT_EQ(field(file, "Package"), pkg + "\n");
    EXPECT_EQ(field(file, "Version"), std::string(VETER_VERSION) + "\n");
    const auto arch = run_command({which("dpkg"), "--print-architecture"});
    EXPECT_EQ(field(file, "Architecture"), arch.out);

    const auto deps = depends(field(file, "Depends"));
    for (const auto& d : required_depends) {
      EXPECT_EQ(deps.count(d), 1U) << pkg << " must depend on " << d << "; Depends: " << field(file, "Depends");
    }
    // Every dependency is a real Debian package (all are installed on this build machine).
    for (const auto& d : deps) {
      const auto q = run_command({which("dpkg-query"), "-W", "-f=${Status}", d});
      EXPECT_NE(q.out.find("installed"), std::string::npos) << pkg << ": Depends names unknown package " << d;
    }

    const auto files = contents(file);
    for (const auto& f : {"/usr/bin/" + pkg, "/etc/veter/" + c + ".yml",
                                "/usr/lib/systemd/system/" + pkg + ".service",
                                "/usr/share/veter/examples/" + c + ".yml", "/usr/share/doc/" + pkg + "/deploy.md",
                                "/usr/share/doc/" + pkg + "/configuration.md",
                                "/usr/share/doc/" + pkg + "/operations.md", "/usr/share/doc/" + pkg + "/copyright"}) {
      EXPECT_EQ(files.count(f), 1U) << pkg << " lacks " << f;
    }
    // Nothing of the other package, nothing outside /usr and /etc.
    const std::string other = c == "relay" ? "veter-publisher" : "veter-relay";
    for (const auto& f : files) {
      EXPECT_EQ(f.find(other), std::string::npos) << f;
      EXPECT_TRUE(f.rfind("/usr/", 0) == 0 || f.rfind("/etc/veter/", 0) == 0) << f;
    }

    // Control files: the config is a conffile; maintainer scripts create the user, reload
    // systemd and start nothing.
    TempDir x;
    ASSERT_EQ(run_command({which("dpkg-deb"), "-e", file, x.path() + "/DEBIAN"}).status, 0);
    ASSERT_EQ(run_command({which("dpkg-deb"), "-x", file, x.path() + "/root"}).status, 0);
    EXPECT_EQ(read_text(x.path() + "/DEBIAN/conffiles"), "/etc/veter/" + c + ".yml\n");
    const std::string postinst = read_text(x.path() + "/DEBIAN/postinst");
    EXPECT_NE(postinst.find("adduser --system --group"), std::string::npos) << postinst;
    EXPECT_NE(postinst.find("systemctl daemon-reload"), std::string::npos) << postinst;
    const std::regex starts(R"(systemctl\s+(start|enable|restart|reload)\b|deb-systemd-invoke\s+start)");
    for (const std::string s : {"postinst", "prerm", "postrm"}) {
      // Commands only: comments and the hint printed with echo don't count.
      std::string commands;
      for (const auto& l : lines(read_text(x.path() + "/DEBIAN/" + s))) {
        const auto first = l.find_first_not_of(' ');
        if (first != std::string::npos && l[first] != '#' && l.compare(first, 5, "echo ") != 0) {
          commands += l + "\n";
        }
      }
      EXPECT_FALSE(std::regex_search(commands, starts)) << s << " starts something:\n" << commands;
      EXPECT_EQ(run_command({"/bin/sh", "-n", x.path() + "/DEBIAN/" + s}).status, 0) << s;
    }
    // The publisher also ships the template for several cameras (veter-publisher@NAME).
    EXPECT_EQ(files.count("/usr/lib/systemd/system/" + pkg + "@.service"), c == "publisher" ? 1U : 0U);
    // The packaged unit and config are the ones in the source tree.
    EXPECT_EQ(read_text(x.path() + "/root/usr/lib/systemd/system/" + pkg + ".service"),
              read_text(kSource + "/systemd/" + pkg + ".service"));
    EXPECT_EQ(read_text(x.path() + "/root/etc/veter/" + c + ".yml"), read_text(kSource + "/config/" + c + ".yml"));
    // The packaged binary runs (here, where its Depends are installed).
    const auto version = run_command({x.path() + "/root/usr/bin/" + pkg, "--version"});
    EXPECT_EQ(version.status, 0) << version.err;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline RunResult build_;
};

}  // namespace

// One test for both packages: cpack builds them together (a minute or two).
TEST_F(Packages, BuiltAndInspected) {
  {
    SCOPED_TRACE("veter-relay");
    check_package("relay", {"adduser", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
                            "gstreamer1.0-plugins-bad", "libgstreamer1.0-0", "libgstrtspserver-1.0-0",
                            "libsoup-3.0-0", "libsystemd0", "libyaml-cpp0.7", "libsrtp2-1"});
  }
  {
    SCOPED_TRACE("veter-publisher");
    check_package("publisher", {"adduser", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
                                "gstreamer1.0-plugins-bad", "gstreamer1.0-plugins-ugly", "libgstreamer1.0-0",
                                "libsystemd0", "libyaml-cpp0.7", "libsrtp2-1"});
  }
}
