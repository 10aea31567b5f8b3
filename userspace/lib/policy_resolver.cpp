// SystemResolver: names of a policy resolved against the running system.
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "mountinfo.hpp"
#include "policy.hpp"

namespace ibguard::policy {

namespace {

// Runs a getpwnam_r/getgrnam_r style lookup with a buffer that grows on
// ERANGE. Returns 0 (found or not found, `found` tells) or an errno.
template <typename Entry, typename Lookup>
int lookup_entry(Lookup lookup, const std::string& name, Entry& entry, bool& found) {
  long size_hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::size_t size = size_hint > 0 ? static_cast<std::size_t>(size_hint) : 1024;
  while (true) {
    std::vector<char> buffer(size);
    Entry* result = nullptr;
    const int err = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    if (err == ERANGE && size < (std::size_t{1} << 24)) {
      size *= 2;
      continue;
    }
    found = result != nullptr;
    // "Not found" is reported in several ways (0, ENOENT, ESRCH, EBADF, EPERM).
    if (found || err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM) {
      return 0;
    }
    return err;
  }
}

// True when `path` has a "." or ".." component (which could leave the
// cgroup2 hierarchy).
bool has_dot_component(const std::string& path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view component(path.data() + start, end - start);
    if (component == "." || component == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<std::uint32_t> SystemResolver::user(const std::string& name,
                                                  std::string& error) const {
  passwd entry{};
  bool found = false;
  const int err = lookup_entry<passwd>(::getpwnam_r, name, entry, found);
  if (err != 0) {
    error = fmt::format("cannot look up user '{}': {}", name, std::strerror(err));
    return std::nullopt;
  }
  if (!found) {
    error = fmt::format("unknown user '{}'", name);
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(entry.pw_uid);
}

std::optional<std::uint32_t> SystemResolver::group(const std::string& name,
                                                   std::string& error) const {
  struct group entry {};
  bool found = false;
  const int err = lookup_entry<struct group>(::getgrnam_r, name, entry, found);
  if (err != 0) {
    error = fmt::format("cannot look up group '{}': {}", name, std::strerror(err));
    return std::nullopt;
  }
  if (!found) {
    error = fmt::format("unknown group '{}'", name);
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(entry.gr_gid);
}

std::optional<Resolver::FileId> SystemResolver::file(const std::string& path,
                                                     std::string& error) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = fmt::format("cannot resolve '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  FileId id;
  id.dev = kernel_dev(major(st.st_dev), minor(st.st_dev));
  id.ino = st.st_ino;
  id.is_directory = S_ISDIR(st.st_mode);
  id.is_regular = S_ISREG(st.st_mode);
  return id;
}

std::optional<std::uint64_t> SystemResolver::cgroup(const std::string& path,
                                                    std::string& error) const {
  if (path.empty() || path[0] != '/' || has_dot_component(path)) {
    error = fmt::format("invalid cgroup path '{}' (must be absolute, without '.' or '..')", path);
    return std::nullopt;
  }
  const std::string mount_point = cgroup2_mount_point();
  if (mount_point.empty()) {
    error = "no cgroup2 filesystem is mounted";
    return std::nullopt;
  }
  const std::string full = mount_point == "/" ? path : mount_point + path;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) {
    error = fmt::format("cannot resolve cgroup '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = fmt::format("cannot resolve cgroup '{}': {}", path, std::strerror(ENOTDIR));
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(st.st_ino);
}

}  // namespace ibguard::policy
