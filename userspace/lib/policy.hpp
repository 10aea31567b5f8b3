// The policy language (ibguard.conf) compiled into the rule set that is sent
// to the kernel. Names (users, groups, paths, cgroups) are resolved here, so
// the kernel compares numbers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "status.hpp"

namespace ibguard::policy {

enum class Class : std::uint8_t { pkey = 0, endport = 1, map = 2 };  // IBGUARD_CLASS_*
inline constexpr std::size_t class_count = 3;
enum class Verdict : std::uint8_t { allow = 0, deny = 1 };  // IBGUARD_VERDICT_*

std::string_view to_string(Class cls);
std::string_view to_string(Verdict verdict);

struct SourceLocation {
  std::string file;
  unsigned line = 0;    // 1-based
  unsigned column = 0;  // 1-based, in bytes
};

// Kernel-internal device number encoding: (major << 20) | minor.
std::uint32_t kernel_dev(unsigned major, unsigned minor);

struct Subject {
  enum class Type : std::uint8_t { uid = 0, gid = 1, cgroup = 2, exe = 3, kernel = 4 };
  Type type = Type::uid;
  std::uint32_t lo = 0, hi = 0;  // uid, gid: inclusive range
  std::uint64_t cgroup_id = 0;   // cgroup
  std::uint32_t dev = 0;         // exe: kernel_dev() of its filesystem
  std::uint64_t ino = 0;         // exe
};

enum class MapObject : std::uint8_t { path = 0, tree = 1, chardev = 2, fs = 3 };

inline constexpr std::uint32_t prot_read = 1, prot_write = 2, prot_exec = 4;

struct Rule {
  Class cls = Class::map;
  Verdict verdict = Verdict::allow;
  bool log = false;
  std::string source;  // the statement as written: no comment, no surrounding blanks
  SourceLocation location;
  std::vector<Subject> subjects;  // all must match; empty: every task

  // pkey
  std::uint16_t pkey_lo = 0, pkey_hi = 0xffff;
  std::optional<std::uint64_t> subnet;  // absent: any

  // endport
  std::optional<std::string> device;  // absent: *
  std::optional<std::uint32_t> port;  // absent: *

  // map
  MapObject object = MapObject::path;
  std::uint32_t dev = 0;  // path, tree: kernel_dev() of the filesystem
  std::uint64_t ino = 0;  // path, tree
  std::uint32_t chr_major = 0;
  std::optional<std::uint32_t> minor_lo, minor_hi;  // absent: every minor
  std::string fstype;
  std::uint32_t prot = 0;  // prot_* mask; 0: any request
  bool shared = false;
};

struct Policy {
  std::optional<Mode> mode;                                    // absent: keep current
  std::array<std::optional<Verdict>, class_count> defaults{};  // absent: allow
  std::optional<bool> pkey_on_roce;                            // absent: no
  std::vector<Rule> rules;                                     // file order, all classes

  Verdict default_for(Class cls) const {
    return defaults[static_cast<std::size_t>(cls)].value_or(Verdict::allow);
  }
};

struct Diagnostic {
  SourceLocation location;
  unsigned length = 1;  // bytes to underline, at least 1
  std::string message;
  std::string line_text;  // the whole source line, for the caret display
};

// "file:line:col: error: message", the source line, and a caret line
// ("    ^~~~") under the offending text.
std::string format(const Diagnostic& diagnostic);

// Name lookups, behind an interface so that tests can supply their own.
class Resolver {
 public:
  struct FileId {
    std::uint32_t dev = 0;  // kernel_dev()
    std::uint64_t ino = 0;
    bool is_directory = false;
    bool is_regular = false;
  };

  virtual ~Resolver() = default;
  // Each returns nullopt and sets error to a short reason when it fails.
  virtual std::optional<std::uint32_t> user(const std::string& name, std::string& error) const = 0;
  virtual std::optional<std::uint32_t> group(const std::string& name, std::string& error) const = 0;
  virtual std::optional<FileId> file(const std::string& path, std::string& error) const = 0;
  // A cgroup v2 path as /proc/PID/cgroup shows it ("/tenants/a") to its id.
  virtual std::optional<std::uint64_t> cgroup(const std::string& path,
                                              std::string& error) const = 0;
};

// Resolves against this system: passwd/group databases, stat(2), and the
// cgroup2 mount found in /proc/self/mountinfo.
class SystemResolver : public Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string& name, std::string& error) const override;
  std::optional<std::uint32_t> group(const std::string& name, std::string& error) const override;
  std::optional<FileId> file(const std::string& path, std::string& error) const override;
  std::optional<std::uint64_t> cgroup(const std::string& path, std::string& error) const override;
};

struct CompileResult {
  Policy policy;
  std::vector<Diagnostic> errors;  // every error in the file, in order
  bool ok() const { return errors.empty(); }
};

CompileResult compile(std::string_view text, const std::string& file_name,
                      const Resolver& resolver);

// Reads and compiles a file ("-": standard input). Throws ibguard::Error
// (ExitCode::invalid_input) when the file cannot be read.
CompileResult compile_file(const std::string& path, const Resolver& resolver);

// How messages name the file at path: "<stdin>" for "-".
std::string source_name(const std::string& path);

// What a command that compiled path says after printing its errors:
// "p.conf: 2 errors; nothing was loaded".
enum class Purpose { check, load, explain };
std::string errors_summary(const std::string& path, std::size_t count, Purpose purpose);

// Single values written as in a policy file ("0x8001", "fe80::",
// "read,exec"), for command-line options. Each returns nullopt and sets error
// to the parser's message when the text is not valid.
std::optional<std::uint16_t> parse_pkey(std::string_view text, std::string& error);
// A uid (group false) or gid, 0 to 4294967294: (uid_t)-1 names no one.
std::optional<std::uint32_t> parse_id(std::string_view text, bool group, std::string& error);
std::optional<std::uint64_t> parse_subnet(std::string_view text, std::string& error);
std::optional<std::uint32_t> parse_prot(std::string_view text, std::string& error);

// A path or name as a policy file must write it: double-quoted, with \" and
// \\ escaped, when it holds a blank, a '#', a quote, a backslash or a
// carriage return. Nullopt for a word the language cannot hold: one with a
// newline (statements end there and quoted strings have no escape for it)
// or a NUL.
std::optional<std::string> quote_word(std::string_view word);

// True for a device or filesystem type name a rule can name: 1-63
// characters of A-Z, a-z, 0-9, '_', '.' and '-' (as the kernel checks).
bool valid_object_name(std::string_view name);

}  // namespace ibguard::policy
