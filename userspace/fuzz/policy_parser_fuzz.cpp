// libFuzzer target for the policy compiler: the input is an ibguard.conf.
//
// Names are resolved by an in-memory resolver that depends only on the name,
// so a crashing input reproduces on any machine. Besides "no crash, leak or
// undefined behaviour", every result is checked for what the rest of
// ibguardctl relies on:
//   - each diagnostic points into its own line, lines in increasing order;
//   - each rule's source is its statement as written, and compiles alone to
//     the same rule (the kernel keeps the source; 'ibguardctl show' prints it
//     for re-loading);
//   - the policy re-serialized as text (mode, defaults, option, rule sources)
//     compiles to the same policy;
//   - every value is within the range the language allows.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "policy.hpp"

namespace {

using namespace ibguard::policy;

const std::string kFile = "fuzz.conf";

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325u;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3u;
  }
  return hash;
}

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "policy_parser_fuzz: invariant violated: %s\n  %.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Deterministic lookups: a name containing "nope" is unknown (with a reason),
// one containing "silent" is unknown without a reason, the seed corpus's
// names have fixed numbers, and any other name resolves to a hash of itself.
class FuzzResolver : public Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string& name, std::string& error) const override {
    if (name == "root") return 0;
    if (name == "alice") return 1000;
    return id(name, "user", error);
  }
  std::optional<std::uint32_t> group(const std::string& name, std::string& error) const override {
    if (name == "root") return 0;
    if (name == "rdma") return 300;
    return id(name, "group", error);
  }
  // Directories: "/", "/srv..." and paths ending in '/'; "/dev/..." is
  // neither a directory nor a regular file; the rest are regular files.
  std::optional<FileId> file(const std::string& path, std::string& error) const override {
    check(starts_with(path, "/"), "relative path given to the resolver", path);
    if (!lookup_ok(path, "cannot resolve", error)) return std::nullopt;
    FileId id;
    const std::uint64_t hash = fnv1a(path);
    id.dev = kernel_dev(8, static_cast<unsigned>(hash % 16));
    id.ino = hash >> 8;
    id.is_directory = path == "/" || starts_with(path, "/srv") || path.back() == '/';
    id.is_regular = !id.is_directory && !starts_with(path, "/dev/");
    return id;
  }
  std::optional<std::uint64_t> cgroup(const std::string& path, std::string& error) const override {
    check(starts_with(path, "/"), "relative cgroup path given to the resolver", path);
    if (!lookup_ok(path, "cannot resolve cgroup", error)) return std::nullopt;
    return path == "/" ? 1 : fnv1a(path) | 2;
  }

 private:
  static bool lookup_ok(const std::string& name, std::string_view what, std::string& error) {
    // SystemResolver passes names to the C library, which would stop at a NUL.
    check(name.find('\0') == std::string::npos, "NUL in a name given to the resolver", name);
    if (contains(name, "silent")) return false;
    if (contains(name, "nope")) {
      error = std::string(what) + " '" + name + "': No such file or directory";
      return false;
    }
    return true;
  }
  static std::optional<std::uint32_t> id(const std::string& name, std::string_view what,
                                         std::string& error) {
    if (!lookup_ok(name, "unknown " + std::string(what), error)) return std::nullopt;
    return static_cast<std::uint32_t>(fnv1a(name) % 0xfffffffeu);
  }
};

const FuzzResolver resolver;

// The lines of `text` as compile() splits them: after a leading UTF-8 byte
// order mark, on '\n', one trailing '\r' removed, no line after a final '\n'.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  constexpr std::string_view byte_order_mark = "\xef\xbb\xbf";
  std::size_t start = text.starts_with(byte_order_mark) ? byte_order_mark.size() : 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

bool same_subject(const Subject& a, const Subject& b) {
  return a.type == b.type && a.lo == b.lo && a.hi == b.hi && a.cgroup_id == b.cgroup_id &&
         a.dev == b.dev && a.ino == b.ino;
}

// Every field but the location.
bool same_rule(const Rule& a, const Rule& b) {
  if (a.subjects.size() != b.subjects.size()) return false;
  for (std::size_t i = 0; i < a.subjects.size(); ++i) {
    if (!same_subject(a.subjects[i], b.subjects[i])) return false;
  }
  return a.cls == b.cls && a.verdict == b.verdict && a.log == b.log && a.source == b.source &&
         a.pkey_lo == b.pkey_lo && a.pkey_hi == b.pkey_hi && a.subnet == b.subnet &&
         a.device == b.device && a.port == b.port && a.object == b.object && a.dev == b.dev &&
         a.ino == b.ino && a.chr_major == b.chr_major && a.minor_lo == b.minor_lo &&
         a.minor_hi == b.minor_hi && a.fstype == b.fstype && a.prot == b.prot &&
         a.shared == b.shared;
}

bool same_policy(const Policy& a, const Policy& b) {
  if (a.mode != b.mode || a.defaults != b.defaults || a.pkey_on_roce != b.pkey_on_roce ||
      a.rules.size() != b.rules.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    if (!same_rule(a.rules[i], b.rules[i])) return false;
  }
  return true;
}

// The language's rule for device and filesystem type names, stated
// independently of the parser's own check.
bool valid_name(std::string_view name) {
  static const std::regex allowed("[A-Za-z0-9_.-]{1,63}");
  return std::regex_match(name.begin(), name.end(), allowed);
}

void check_values(const Rule& rule) {
  check(rule.pkey_lo <= rule.pkey_hi, "pkey range reversed", rule.source);
  for (const Subject& subject : rule.subjects) {
    check(subject.lo <= subject.hi, "uid/gid range reversed", rule.source);
  }
  switch (rule.cls) {
    case Class::pkey:
      break;
    case Class::endport:
      check(!rule.device || valid_name(*rule.device), "invalid device name", rule.source);
      check(!rule.port || (*rule.port >= 1 && *rule.port <= 255), "port out of range", rule.source);
      break;
    case Class::map:
      check(rule.prot <= (prot_read | prot_write | prot_exec), "invalid prot", rule.source);
      check(rule.chr_major <= 4095, "chardev major out of range", rule.source);
      check(rule.minor_lo.has_value() == rule.minor_hi.has_value(), "half a minor range",
            rule.source);
      if (rule.minor_lo) {
        check(*rule.minor_lo <= *rule.minor_hi && *rule.minor_hi <= 0xfffff, "invalid minor range",
              rule.source);
      }
      check((rule.object == MapObject::fs) == !rule.fstype.empty(), "fstype without fs",
            rule.source);
      check(rule.fstype.empty() || valid_name(rule.fstype), "invalid fstype", rule.source);
      break;
  }
}

// The text 'ibguardctl show' would print for this policy.
std::string serialize(const Policy& policy) {
  std::string text;
  if (policy.mode) {
    text += *policy.mode == ibguard::Mode::enforcing ? "mode enforcing\n" : "mode permissive\n";
  }
  for (std::size_t i = 0; i < class_count; ++i) {
    if (!policy.defaults[i]) continue;
    text += "default ";
    text += to_string(static_cast<Class>(i));
    text += ' ';
    text += to_string(*policy.defaults[i]);
    text += '\n';
  }
  if (policy.pkey_on_roce)
    text += *policy.pkey_on_roce ? "option pkey-on-roce yes\n" : "option pkey-on-roce no\n";
  for (const Rule& rule : policy.rules) text += rule.source + '\n';
  return text;
}

void check_result(std::string_view text, const CompileResult& result) {
  const std::vector<std::string_view> lines = split_lines(text);

  unsigned previous_line = 0;
  for (const Diagnostic& d : result.errors) {
    check(d.location.file == kFile, "diagnostic file name");
    check(d.location.line > previous_line && d.location.line <= lines.size(),
          "diagnostic line out of order or range", d.message);
    previous_line = d.location.line;
    const std::string_view line = lines[d.location.line - 1];
    check(d.line_text == line, "diagnostic line text", d.message);
    check(d.location.column >= 1 && d.length >= 1 &&
              std::size_t{d.location.column} - 1 + d.length <= line.size() + 1,
          "diagnostic span outside its line", d.message);
    check(!d.message.empty(), "empty diagnostic message", d.line_text);
    const std::string shown = format(d);
    check(shown.rfind(kFile + ":", 0) == 0, "format()", shown);
  }

  for (const Rule& rule : result.policy.rules) {
    check(rule.location.file == kFile, "rule file name", rule.source);
    check(rule.location.line >= 1 && rule.location.line <= lines.size(), "rule line", rule.source);
    const std::string_view line = lines[rule.location.line - 1];
    check(rule.location.column >= 1 && rule.location.column - 1 < line.size() &&
              line.substr(rule.location.column - 1, rule.source.size()) == rule.source,
          "rule source is not its text in the line", rule.source);
    check(!rule.source.empty() && rule.source.front() != ' ' && rule.source.front() != '\t' &&
              rule.source.back() != ' ' && rule.source.back() != '\t',
          "rule source has surrounding blanks", rule.source);
    // The kernel gets the source as a NUL-terminated string attribute.
    check(rule.source.find('\0') == std::string::npos, "NUL in a rule's source", rule.source);
    check_values(rule);

    const CompileResult alone = compile(rule.source, kFile, resolver);
    check(alone.ok() && alone.policy.rules.size() == 1, "rule source does not compile alone",
          rule.source);
    check(same_rule(alone.policy.rules.front(), rule), "rule source compiles to another rule",
          rule.source);
  }

  const std::string again = serialize(result.policy);
  const CompileResult reloaded = compile(again, kFile, resolver);
  check(reloaded.ok(), "serialized policy does not compile", again);
  check(same_policy(reloaded.policy, result.policy), "serialized policy compiles to another",
        again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const CompileResult result = compile(text, kFile, resolver);
  check_result(text, result);
  return 0;
}
