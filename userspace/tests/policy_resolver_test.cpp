#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <sstream>
#include <string>

#include "policy.hpp"

namespace ibguard::policy {
namespace {

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

// The cgroup2 mount point, found independently of the resolver ("" if none).
std::string cgroup2_mount() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    const auto sep = line.find(" - ");
    if (sep == std::string::npos || line.compare(sep + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line);
    std::string skip, mount;
    fields >> skip >> skip >> skip >> skip >> mount;
    return mount;
  }
  return {};
}

TEST(SystemResolver, RootUserAndGroup) {
  const SystemResolver resolver;
  std::string error;
  EXPECT_EQ(resolver.user("root", error), 0u);
  EXPECT_EQ(error, "");
  EXPECT_EQ(resolver.group("root", error), 0u);
  EXPECT_EQ(error, "");
}

TEST(SystemResolver, MissingUserAndGroup) {
  const SystemResolver resolver;
  std::string error;
  EXPECT_FALSE(resolver.user("ibguard-no-such-user", error).has_value());
  EXPECT_EQ(error, "unknown user 'ibguard-no-such-user'");
  EXPECT_FALSE(resolver.group("ibguard-no-such-group", error).has_value());
  EXPECT_EQ(error, "unknown group 'ibguard-no-such-group'");
}

TEST(SystemResolver, RootDirectory) {
  const SystemResolver resolver;
  std::string error;
  const auto id = resolver.file("/", error);
  ASSERT_TRUE(id.has_value()) << error;
  const struct stat st = stat_of("/");
  EXPECT_TRUE(id->is_directory);
  EXPECT_FALSE(id->is_regular);
  EXPECT_EQ(id->ino, st.st_ino);
  EXPECT_EQ(id->dev, kernel_dev(major(st.st_dev), minor(st.st_dev)));
}

TEST(SystemResolver, RegularFile) {
  const SystemResolver resolver;
  std::string error;
  const auto id = resolver.file("/etc/passwd", error);
  ASSERT_TRUE(id.has_value()) << error;
  const struct stat st = stat_of("/etc/passwd");
  EXPECT_FALSE(id->is_directory);
  EXPECT_TRUE(id->is_regular);
  EXPECT_EQ(id->ino, st.st_ino);
  EXPECT_EQ(id->dev, kernel_dev(major(st.st_dev), minor(st.st_dev)));
}

TEST(SystemResolver, FollowsSymlinks) {
  const SystemResolver resolver;
  std::string error;
  const auto id = resolver.file("/proc/self/exe", error);  // a symlink to this test binary
  ASSERT_TRUE(id.has_value()) << error;
  EXPECT_TRUE(id->is_regular);
  EXPECT_EQ(id->ino, stat_of("/proc/self/exe").st_ino);
}

TEST(SystemResolver, MissingFile) {
  const SystemResolver resolver;
  std::string error;
  EXPECT_FALSE(resolver.file("/ibguard-no-such-dir/file", error).has_value());
  EXPECT_EQ(error, "cannot resolve '/ibguard-no-such-dir/file': No such file or directory");
  EXPECT_FALSE(resolver.file("/etc/passwd/x", error).has_value());
  EXPECT_EQ(error, "cannot resolve '/etc/passwd/x': Not a directory");
}

TEST(SystemResolver, Cgroup) {
  const SystemResolver resolver;
  std::string error;
  const std::string mount = cgroup2_mount();
  if (mount.empty()) {
    EXPECT_FALSE(resolver.cgroup("/", error).has_value());
    EXPECT_EQ(error, "no cgroup2 filesystem is mounted");
    return;
  }
  const auto root = resolver.cgroup("/", error);
  ASSERT_TRUE(root.has_value()) << error;
  EXPECT_EQ(*root, stat_of(mount).st_ino);

  EXPECT_FALSE(resolver.cgroup("/ibguard-no-such-cgroup", error).has_value());
  EXPECT_EQ(error, "cannot resolve cgroup '/ibguard-no-such-cgroup': No such file or directory");
  // A file of the hierarchy is not a cgroup.
  EXPECT_FALSE(resolver.cgroup("/cgroup.procs", error).has_value());
  EXPECT_EQ(error, "cannot resolve cgroup '/cgroup.procs': Not a directory");
}

TEST(SystemResolver, CgroupPathMayNotLeaveTheHierarchy) {
  const SystemResolver resolver;
  std::string error;
  for (const char* path : {"/..", "/a/../..", "/./x", "relative"}) {
    EXPECT_FALSE(resolver.cgroup(path, error).has_value()) << path;
    EXPECT_EQ(error, std::string("invalid cgroup path '") + path +
                         "' (must be absolute, without '.' or '..')");
  }
}

TEST(SystemResolver, CompilesAgainstThisSystem) {
  const SystemResolver resolver;
  const CompileResult result = compile(
      "map path /etc/passwd allow user root group root exe /proc/self/exe\n"
      "map tree / deny user ibguard-no-such-user\n",
      "sys.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(format(result.errors[0]),
            "sys.conf:2:22: error: unknown user 'ibguard-no-such-user'\n"
            "map tree / deny user ibguard-no-such-user\n"
            "                     ^~~~~~~~~~~~~~~~~~~~\n");
  ASSERT_EQ(result.policy.rules.size(), 1u);
  const Rule& rule = result.policy.rules[0];
  EXPECT_EQ(rule.ino, stat_of("/etc/passwd").st_ino);
  ASSERT_EQ(rule.subjects.size(), 3u);
  EXPECT_EQ(rule.subjects[0].lo, 0u);
  EXPECT_EQ(rule.subjects[1].type, Subject::Type::gid);
  EXPECT_EQ(rule.subjects[2].ino, stat_of("/proc/self/exe").st_ino);
}

}  // namespace
}  // namespace ibguard::policy
