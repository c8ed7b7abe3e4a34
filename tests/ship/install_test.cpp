// `cmake --install`: FHS layout, configs never overwritten, units rewritten for other prefixes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {
const std::string kSource = VETER_SOURCE_DIR;

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IXUSR) != 0 && (st.st_mode & S_IXOTH) != 0;
}
}  // namespace

TEST(Install, FhsLayoutForPrefixUsr) {
  TempDir dest;
  install_tree(dest.path(), "/usr");
  const std::string d = dest.path();
  for (const std::string c : {"relay", "publisher"}) {
    SCOPED_TRACE(c);
    EXPECT_TRUE(executable(d + "/usr/bin/veter-" + c));
    // Config in /etc/veter, identical to the shipped defaults, plus the example copy.
    EXPECT_EQ(read_text(d + "/etc/veter/" + c + ".yml"), read_text(kSource + "/config/" + c + ".yml"));
    EXPECT_EQ(read_text(d + "/usr/share/veter/examples/" + c + ".yml"), read_text(kSource + "/config/" + c + ".yml"));
    // With prefix /usr the unit is installed exactly as written in systemd/.
    EXPECT_EQ(read_text(d + "/usr/lib/systemd/system/veter-" + c + ".service"),
              read_text(kSource + "/systemd/veter-" + c + ".service"));
    for (const std::string doc : {"deploy.md", "configuration.md", "operations.md", "copyright"}) {
      EXPECT_TRUE(file_exists(d + "/usr/share/doc/veter-" + c + "/" + doc)) << doc;
    }
  }
  // The template for several cameras (veter-publisher@NAME) comes with the publisher, as written.
  EXPECT_EQ(read_text(d + "/usr/lib/systemd/system/veter-publisher@.service"),
            read_text(kSource + "/systemd/veter-publisher@.service"));
  EXPECT_FALSE(file_exists(d + "/usr/lib/systemd/system/veter-relay@.service"));
  for (const std::string s : {"firewall-ufw.sh", "view_stream.sh", "start_camera.sh"}) {
    EXPECT_TRUE(executable(d + "/usr/share/veter/scripts/" + s)) << s;
  }
}

TEST(Install, ExistingConfigIsKept) {
  TempDir dest;
  const std::string d = dest.path();
  ASSERT_EQ(run_command({"/bin/mkdir", "-p", d + "/etc/veter"}).status, 0);
  const std::string mine = "# edited by the operator\nlog_level: debug\n";
  dest.write("etc/veter/relay.yml", mine);
  const std::string out = install_tree(d, "/usr");
  EXPECT_EQ(read_text(d + "/etc/veter/relay.yml"), mine);
  EXPECT_NE(out.find("Keeping existing: " + d + "/etc/veter/relay.yml"), std::string::npos) << out;
  // The one that did not exist is installed; the example is always refreshed.
  EXPECT_EQ(read_text(d + "/etc/veter/publisher.yml"), read_text(kSource + "/config/publisher.yml"));
  EXPECT_EQ(read_text(d + "/usr/share/veter/examples/relay.yml"), read_text(kSource + "/config/relay.yml"));
  // A second install over the first keeps both files as they are.
  dest.write("etc/veter/publisher.yml", mine);
  install_tree(d, "/usr");
  EXPECT_EQ(read_text(d + "/etc/veter/relay.yml"), mine);
  EXPECT_EQ(read_text(d + "/etc/veter/publisher.yml"), mine);
}

TEST(Install, OtherPrefixRewritesUnitPaths) {
  TempDir dest;
  const std::string d = dest.path();
  install_tree(d, "/opt/veter");
  const std::string unit = read_text(d + "/opt/veter/lib/systemd/system/veter-relay.service");
  EXPECT_NE(unit.find("ExecStart=/opt/veter/bin/veter-relay --config /opt/veter/etc/veter/relay.yml\n"),
            std::string::npos)
      << unit;
  EXPECT_EQ(unit.find("/usr/"), std::string::npos) << unit;
  const std::string tmpl = read_text(d + "/opt/veter/lib/systemd/system/veter-publisher@.service");
  EXPECT_NE(tmpl.find("ExecStart=/opt/veter/bin/veter-publisher --config /opt/veter/etc/veter/publisher-%i.yml\n"),
            std::string::npos)
      << tmpl;
  EXPECT_TRUE(file_exists(d + "/opt/veter/etc/veter/relay.yml"));
  EXPECT_TRUE(file_exists(d + "/opt/veter/etc/veter/publisher.yml"));
  EXPECT_FALSE(file_exists(d + "/etc/veter/relay.yml"));
}
