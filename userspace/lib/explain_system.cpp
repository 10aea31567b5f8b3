// SystemEnvironment: the facts an explanation needs, read off this system.
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "explain.hpp"
#include "mountinfo.hpp"

namespace ibguard::explain {

namespace {

namespace fs = std::filesystem;

std::optional<struct stat> stat_path(const std::string& path, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = fmt::format("cannot resolve '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  return st;
}

FileKey key_of(const struct stat& st) {
  return FileKey{policy::kernel_dev(major(st.st_dev), minor(st.st_dev)), st.st_ino};
}

// The cgroup ids from dir up to the cgroup2 mount point.
std::optional<std::vector<std::uint64_t>> chain_from(const fs::path& dir, const fs::path& root,
                                                     std::string& error) {
  std::vector<std::uint64_t> chain;
  for (fs::path at = dir;; at = at.parent_path()) {
    auto st = stat_path(at.string(), error);
    if (!st) return std::nullopt;
    chain.push_back(st->st_ino);
    if (at == root || at == at.parent_path()) break;
  }
  return chain;
}

}  // namespace

std::optional<Environment::FileFacts> SystemEnvironment::file_facts(const std::string& path,
                                                                    std::string& error) const {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) {
    error = fmt::format("cannot resolve '{}': {}", path, ec.message());
    return std::nullopt;
  }
  auto st = stat_path(real.string(), error);
  if (!st) return std::nullopt;
  FileFacts facts;
  facts.key = key_of(*st);
  if (S_ISCHR(st->st_mode)) facts.chardev = std::pair{major(st->st_rdev), minor(st->st_rdev)};
  auto type = fstype(facts.key.dev, error);
  if (!type) return std::nullopt;
  facts.fstype = *type;
  auto ancestors = ancestors_in_mount(real.string(), facts.key.dev, read_mountinfo(),
                                      [](const std::string& dir) -> std::optional<FileKey> {
                                        std::string ignored;
                                        auto st = stat_path(dir, ignored);
                                        return st ? std::optional(key_of(*st)) : std::nullopt;
                                      });
  facts.ancestors = std::move(ancestors.keys);
  facts.unknown_above = std::move(ancestors.unknown_above);
  return facts;
}

std::optional<std::string> SystemEnvironment::fstype(std::uint32_t dev, std::string& error) const {
  for (const auto& entry : read_mountinfo())
    if (policy::kernel_dev(entry.major, entry.minor) == dev) return entry.fstype;
  error = fmt::format("no mounted filesystem has device number {}:{}", dev >> 20, dev & 0xfffff);
  return std::nullopt;
}

std::optional<std::vector<std::uint64_t>> SystemEnvironment::cgroup_chain(
    const std::string& path, std::string& error) const {
  std::string reason;
  if (!resolver_.cgroup(path, reason)) {
    error = reason;
    return std::nullopt;
  }
  const fs::path root = cgroup2_mount_point();
  return chain_from(root / fs::path(path).relative_path(), root, error);
}

std::optional<std::vector<std::uint64_t>> SystemEnvironment::cgroup_chain(
    std::uint64_t id, std::string& error) const {
  const fs::path root = cgroup2_mount_point();
  if (root.empty()) {
    error = "no cgroup2 filesystem is mounted";
    return std::nullopt;
  }
  std::error_code ec;
  struct stat st {};
  if (::stat(root.c_str(), &st) == 0 && st.st_ino == id) return chain_from(root, root, error);
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (::stat(it->path().c_str(), &st) == 0 && st.st_ino == id)
      return chain_from(it->path(), root, error);
  }
  error = fmt::format("no cgroup has id {} (removed since?)", id);
  return std::nullopt;
}

}  // namespace ibguard::explain
