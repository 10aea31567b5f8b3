// /proc/self/mountinfo, for the names a policy or an explanation resolves:
// where cgroup2 is mounted, which filesystem type a device number carries.
#pragma once

#include <string>
#include <vector>

namespace ibguard {

struct MountEntry {
  unsigned major = 0, minor = 0;  // st_dev of files on it
  std::string mount_point;        // octal escapes undone
  std::string fstype;             // as the kernel names it ("fuse", not "fuse.sshfs")
  // The directory of the filesystem shown at mount_point: "/" for its root,
  // a subdirectory for a bind mount of one (octal escapes undone).
  std::string root;
};

std::vector<MountEntry> read_mountinfo();

// The mount point of the first cgroup2 filesystem, or "" when none.
std::string cgroup2_mount_point();

}  // namespace ibguard
