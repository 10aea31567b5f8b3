// ibguardctl explain: which rule of a policy decides a request, and the
// smallest change to the policy that would flip the verdict. A request is a
// reported decision (a monitor event or an audit record) or a hypothetical
// one built from command-line options. Matching follows the kernel's: per
// class, the first rule in file order whose object and subjects match.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mountinfo.hpp"
#include "policy.hpp"

namespace ibguard::explain {

struct FileKey {
  std::uint32_t dev = 0;  // policy::kernel_dev() encoding
  std::uint64_t ino = 0;
  bool operator==(const FileKey&) const = default;
};

// What is known of the task. Unknown facts make rules that depend on them
// undecidable, which the explanation says.
struct Subject {
  std::uint32_t uid = 0;                                   // effective, as rules match
  std::uint32_t gid = 0;                                   // effective
  std::optional<std::vector<std::uint32_t>> groups;        // supplementary
  std::optional<std::vector<std::uint64_t>> cgroup_chain;  // its cgroup id, then the ancestors'
  std::optional<std::uint64_t> cgroup_id;                  // as reported, when the chain is unknown
  std::optional<FileKey> exe;                              // absent: see exe_known
  bool exe_known = true;                                   // false: exe rules undecidable
  bool kernel = false;                                     // a kernel thread
};

struct MapObject {
  std::optional<std::string> path;
  std::optional<FileKey> file;                                     // absent: only the path is known
  std::optional<std::pair<std::uint32_t, std::uint32_t>> chardev;  // major, minor
  bool chardev_known = false;  // chardev is exact: absent means not a character device
  std::optional<std::string> fstype;
  std::optional<std::vector<FileKey>> ancestors;  // directories above it, same filesystem
  // Set when what lies above the last of `ancestors` is not known (the
  // file was reached through a mount of a subdirectory of its filesystem):
  // where, for tree rules on that filesystem, which may then match.
  std::optional<std::string> unknown_above;
  std::uint32_t prot = 0;  // policy::prot_*
  bool shared = false;
};

// What the kernel said of a reported decision.
struct Reported {
  std::optional<std::uint32_t> rule;  // 1-based; absent: the class default
  policy::Verdict verdict = policy::Verdict::deny;
  bool permissive = false;
  bool revoked = false;
  std::optional<std::uint64_t> generation;
  std::uint32_t pid = 0;
  std::string comm;
  std::string source;  // "audit record", "monitor event"
};

struct Request {
  policy::Class cls = policy::Class::map;
  std::string operation;  // "mmap", "mprotect", "modify_qp", ...; empty: hypothetical
  Subject subject;
  MapObject map;
  std::uint16_t pkey = 0;
  std::uint64_t subnet = 0;
  std::string device;  // pkey, endport
  std::uint32_t port = 0;
  std::optional<Reported> reported;
};

// Filesystem and cgroup facts behind an interface, so that tests can supply
// their own.
class Environment {
 public:
  struct FileFacts {
    FileKey key;
    std::optional<std::pair<std::uint32_t, std::uint32_t>> chardev;
    std::string fstype;
    std::vector<FileKey> ancestors;
    std::optional<std::string> unknown_above = std::nullopt;  // as MapObject's
  };

  virtual ~Environment() = default;
  // Each returns nullopt and sets error to a short reason when it fails.
  virtual std::optional<FileFacts> file_facts(const std::string& path,
                                              std::string& error) const = 0;
  virtual std::optional<std::string> fstype(std::uint32_t dev, std::string& error) const = 0;
  // The chain of cgroup v2 ids from the cgroup (by id or by path as
  // /proc/PID/cgroup shows it) up to the root.
  virtual std::optional<std::vector<std::uint64_t>> cgroup_chain(std::uint64_t id,
                                                                 std::string& error) const = 0;
  virtual std::optional<std::vector<std::uint64_t>> cgroup_chain(const std::string& path,
                                                                 std::string& error) const = 0;
  virtual const policy::Resolver& resolver() const = 0;
};

// This system: stat(2), /proc/self/mountinfo, the cgroup2 mount.
class SystemEnvironment : public Environment {
 public:
  std::optional<FileFacts> file_facts(const std::string& path, std::string& error) const override;
  std::optional<std::string> fstype(std::uint32_t dev, std::string& error) const override;
  std::optional<std::vector<std::uint64_t>> cgroup_chain(std::uint64_t id,
                                                         std::string& error) const override;
  std::optional<std::vector<std::uint64_t>> cgroup_chain(const std::string& path,
                                                         std::string& error) const override;
  const policy::Resolver& resolver() const override { return resolver_; }

 private:
  policy::SystemResolver resolver_;
};

struct Explanation {
  std::optional<std::size_t> rule;  // index into Policy::rules; absent: the class default
  policy::Verdict verdict = policy::Verdict::allow;
  std::vector<std::size_t> shadowed;     // later matching rules with the other verdict
  std::vector<std::size_t> undecidable;  // earlier rules that may match: facts missing
  std::vector<std::string> notes;
  std::optional<std::string> flip_rule;      // a rule that flips the verdict
  std::optional<std::size_t> insert_before;  // where it goes; absent: at the end
};

Explanation explain(const policy::Policy& policy, const Request& request);

// Requests from what the kernel reported. Each throws ibguard::Error
// (invalid_input) when the text is not an ibguard decision.
Request request_from_json(const nlohmann::json& event, const Environment& env);
Request request_from_audit(std::string_view record, const Environment& env);

// True for a line that holds an ibguard decision record (ausearch output
// also has separators, time lines and the event's other records).
bool is_audit_decision(std::string_view line);

// The request a line of `explain`'s standard input reports: a `monitor -j`
// decision or an audit decision record. Nullopt for a line to skip (blank,
// another record, a policy-loaded or mode-changed event); Error
// (invalid_input) for a line that is neither.
std::optional<Request> request_from_line(std::string_view line, const Environment& env);

struct Ancestors {
  std::vector<FileKey> keys;                 // the nearest first
  std::optional<std::string> unknown_above;  // as MapObject's
};

// The directories above path (absolute, no symbolic links) on its
// filesystem (dev), as far as the path shows them. The kernel walks a
// file's real parents up to its filesystem's root, whatever mount the file
// was reached through; the path shows them up to the root of the mount it
// is on, and when that mount shows its filesystem from a subdirectory
// (mountinfo's root field is not "/": a bind mount), the ones above are
// not known. key_of gives a directory's key, nullopt when it cannot be
// read.
Ancestors ancestors_in_mount(
    const std::string& path, std::uint32_t dev, const std::vector<MountEntry>& mounts,
    const std::function<std::optional<FileKey>(const std::string&)>& key_of);

// A kernel thread as kthreadd starts one and as kmod/subject.c matches it:
// init_cred's euid and egid 0 and no supplementary groups, the root
// cgroup (unknown when no cgroup2 is mounted), no executable.
Subject kernel_thread(const Environment& env);

// Fills what a hypothetical map request needs from its path.
void complete_map_object(MapObject& object, const Environment& env);

std::string describe(const Request& request);

// name: how to call the policy ("the active policy (generation 7)", a file).
std::string to_text(const policy::Policy& policy, std::string_view name, const Request& request,
                    const Explanation& explanation);
nlohmann::ordered_json to_json(const policy::Policy& policy, std::string_view name,
                               const Request& request, const Explanation& explanation);

// One request explained as `explain` prints it: a JSON line, or a text block
// (after a blank line unless first). generation: the active policy's, to
// point out a report from another generation.
std::string explanation_output(const policy::Policy& policy, std::string_view name,
                               std::optional<std::uint64_t> generation, const Request& request,
                               bool json, bool first);

struct StreamCounts {
  std::size_t explained = 0;
  std::size_t bad_lines = 0;
};

// Explains each decision on `in` as its line arrives and flushes it to out,
// so that `monitor -j | explain` shows every decision when it happens. A
// line that is not a decision goes to on_bad_line (1-based number, reason)
// and the stream goes on.
StreamCounts explain_stream(std::istream& in, std::ostream& out, const policy::Policy& policy,
                            std::string_view name, std::optional<std::uint64_t> generation,
                            const Environment& env, bool json,
                            const std::function<void(unsigned, const std::string&)>& on_bad_line);

}  // namespace ibguard::explain
