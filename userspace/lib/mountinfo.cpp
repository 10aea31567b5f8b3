#include "mountinfo.hpp"

#include <fstream>
#include <sstream>

namespace ibguard {

namespace {

// Undoes the octal escapes (\040 for a space, ...) of mountinfo fields.
std::string unescape_mount_path(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '7' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<MountEntry> read_mountinfo() {
  std::vector<MountEntry> entries;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    const std::size_t separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::istringstream head(line.substr(0, separator));
    std::string id, parent, devno, root, mount_point;
    if (!(head >> id >> parent >> devno >> root >> mount_point)) continue;
    MountEntry entry;
    if (std::sscanf(devno.c_str(), "%u:%u", &entry.major, &entry.minor) != 2) continue;
    std::istringstream tail(line.substr(separator + 3));
    tail >> entry.fstype;
    // The kernel's type name; mountinfo appends a FUSE subtype after a dot.
    if (entry.fstype.starts_with("fuse"))
      entry.fstype = entry.fstype.substr(0, entry.fstype.find('.'));
    entry.mount_point = unescape_mount_path(mount_point);
    entry.root = unescape_mount_path(root);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string cgroup2_mount_point() {
  for (const auto& entry : read_mountinfo())
    if (entry.fstype == "cgroup2") return entry.mount_point;
  return {};
}

}  // namespace ibguard
