#include "explain.hpp"

#include <fmt/format.h>
#include <linux/ibguard.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <istream>
#include <limits>
#include <map>
#include <ostream>

#include "error.hpp"
#include "output.hpp"
#include "wire.hpp"

namespace ibguard::explain {

namespace {

using policy::Class;
using policy::Verdict;

Verdict opposite(Verdict verdict) {
  return verdict == Verdict::allow ? Verdict::deny : Verdict::allow;
}

// A rule matches, does not, or cannot be told from what is known.
enum class Match { no, yes, unknown };

Match both(Match a, Match b) {
  if (a == Match::no || b == Match::no) return Match::no;
  if (a == Match::unknown || b == Match::unknown) return Match::unknown;
  return Match::yes;
}

Match known(bool value) { return value ? Match::yes : Match::no; }

bool in_range(std::uint32_t id, const policy::Subject& subject) {
  return id >= subject.lo && id <= subject.hi;
}

// Appends to `missing` what a rule needs that the request does not tell.
Match subject_matches(const policy::Subject& subject, const Subject& who, std::string& missing) {
  using Type = policy::Subject::Type;
  switch (subject.type) {
    case Type::uid:
      return known(in_range(who.uid, subject));
    case Type::gid:
      if (in_range(who.gid, subject)) return Match::yes;
      if (!who.groups) {
        missing = "the task's supplementary groups";
        return Match::unknown;
      }
      return known(std::any_of(who.groups->begin(), who.groups->end(),
                               [&](std::uint32_t gid) { return in_range(gid, subject); }));
    case Type::cgroup:
      if (!who.cgroup_chain) {
        missing = "the task's cgroup";
        return Match::unknown;
      }
      return known(std::find(who.cgroup_chain->begin(), who.cgroup_chain->end(),
                             subject.cgroup_id) != who.cgroup_chain->end());
    case Type::exe:
      if (!who.exe_known) {
        missing = "the task's executable";
        return Match::unknown;
      }
      return known(who.exe && who.exe->dev == subject.dev && who.exe->ino == subject.ino);
    case Type::kernel:
      return known(who.kernel);
  }
  return Match::no;
}

Match map_object_matches(const policy::Rule& rule, const MapObject& object, std::string& missing) {
  using policy::MapObject;
  switch (rule.object) {
    case MapObject::path:
      if (!object.file) {
        missing = "the file's inode";
        return Match::unknown;
      }
      return known(object.file->dev == rule.dev && object.file->ino == rule.ino);
    case MapObject::tree:
      if (!object.ancestors) {
        missing = "the directories above the file";
        return Match::unknown;
      }
      if (std::find(object.ancestors->begin(), object.ancestors->end(),
                    FileKey{rule.dev, rule.ino}) != object.ancestors->end())
        return Match::yes;
      // Above a bind mount's root the kernel goes on, on the same device.
      if (object.unknown_above && object.file && object.file->dev == rule.dev) {
        missing = "what lies above " + *object.unknown_above;
        return Match::unknown;
      }
      return Match::no;
    case MapObject::chardev: {
      if (!object.chardev_known) {
        missing = "whether the file is a character device";
        return Match::unknown;
      }
      if (!object.chardev || object.chardev->first != rule.chr_major) return Match::no;
      const std::uint32_t minor = object.chardev->second;
      return known(minor >= rule.minor_lo.value_or(0) &&
                   minor <= rule.minor_hi.value_or(0xffffffffu));
    }
    case MapObject::fs:
      if (!object.fstype) {
        missing = "the file's filesystem type";
        return Match::unknown;
      }
      return known(*object.fstype == rule.fstype);
  }
  return Match::no;
}

Match object_matches(const policy::Rule& rule, const Request& request, std::string& missing) {
  switch (rule.cls) {
    case Class::pkey:
      return known(request.pkey >= rule.pkey_lo && request.pkey <= rule.pkey_hi &&
                   (!rule.subnet || *rule.subnet == request.subnet));
    case Class::endport:
      return known((!rule.device || *rule.device == request.device) &&
                   (!rule.port || *rule.port == request.port));
    case Class::map:
      if (rule.prot != 0 && (rule.prot & request.map.prot) == 0) return Match::no;
      if (rule.shared && !request.map.shared) return Match::no;
      return map_object_matches(rule, request.map, missing);
  }
  return Match::no;
}

Match rule_matches(const policy::Rule& rule, const Request& request, std::string& missing) {
  if (rule.cls != request.cls) return Match::no;
  Match match = object_matches(rule, request, missing);
  for (const auto& subject : rule.subjects) {
    if (match == Match::no) break;
    match = both(match, subject_matches(subject, request.subject, missing));
  }
  return match;
}

std::string rule_name(const policy::Policy& policy, std::size_t index) {
  const auto& rule = policy.rules[index];
  std::string where = rule.location.file.empty()
                          ? std::string()
                          : fmt::format(", {}:{}", rule.location.file, rule.location.line);
  return fmt::format("rule {}{}", index + 1, where);
}

std::string prot_words(std::uint32_t prot) {
  std::vector<std::string_view> words;
  if (prot & policy::prot_read) words.push_back("read");
  if (prot & policy::prot_write) words.push_back("write");
  if (prot & policy::prot_exec) words.push_back("exec");
  return fmt::format("{}", fmt::join(words, ","));
}

// path as a suggested rule writes it, or nullopt with the reason in
// `problem`: the language cannot hold a newline, and a suggestion is
// printed as it is, so it must not hold what printable() would escape.
std::optional<std::string> path_as_written(const std::string& path, std::string& problem) {
  const std::optional<std::string> word = policy::quote_word(path);
  if (!word) {
    problem = fmt::format(
        "the file's path holds {}, which a policy file cannot express: name the file by another "
        "path (path rules match its inode) or use a tree or fs rule",
        path.find('\n') != std::string::npos ? "a newline" : "a NUL byte");
    return std::nullopt;
  }
  if (printable(*word) != *word) {
    problem =
        "the file's path holds characters that cannot be shown as they are (escaped above): name "
        "the file by another path (path rules match its inode) or write the rule by hand";
    return std::nullopt;
  }
  return word;
}

// The narrowest rule that decides this request with `verdict`: this object,
// this protection, this task's uid. Returns nullopt with a reason in `why`
// when the request does not name its object well enough.
std::optional<policy::Rule> flip_rule(const Request& request, Verdict verdict, std::string& why) {
  policy::Rule rule;
  rule.cls = request.cls;
  rule.verdict = verdict;
  std::string object;
  switch (request.cls) {
    case Class::pkey:
      rule.pkey_lo = rule.pkey_hi = request.pkey;
      rule.subnet = request.subnet;
      object = fmt::format("pkey {:#06x} subnet {}", request.pkey, subnet_string(request.subnet));
      break;
    case Class::endport:
      if (!policy::valid_object_name(request.device)) {
        why = fmt::format(
            "the device name '{}' cannot be written in a policy (1-63 characters of A-Z, a-z, "
            "0-9, '_', '.' and '-')",
            printable(request.device));
        return std::nullopt;
      }
      rule.device = request.device;
      rule.port = request.port;
      object = fmt::format("endport {} {}", request.device, request.port);
      break;
    case Class::map: {
      const MapObject& map = request.map;
      std::string path_problem = "the file's path is not known: name it in a path rule by hand";
      const std::optional<std::string> path =
          map.path && map.file ? path_as_written(*map.path, path_problem) : std::nullopt;
      if (path) {
        rule.object = policy::MapObject::path;
        rule.dev = map.file->dev;
        rule.ino = map.file->ino;
        object = "map path " + *path;
      } else if (map.chardev) {
        rule.object = policy::MapObject::chardev;
        rule.chr_major = map.chardev->first;
        rule.minor_lo = rule.minor_hi = map.chardev->second;
        object = fmt::format("map chardev {}:{}", map.chardev->first, map.chardev->second);
      } else {
        why = path_problem;
        return std::nullopt;
      }
      rule.prot = map.prot;
      if (map.prot) object += " prot " + prot_words(map.prot);
      rule.shared = map.shared;
      if (map.shared) object += " shared";
      break;
    }
  }
  policy::Subject subject;
  if (request.subject.kernel) {
    subject.type = policy::Subject::Type::kernel;
    rule.source = fmt::format("{} {} kernel", object, policy::to_string(verdict));
  } else {
    subject.type = policy::Subject::Type::uid;
    subject.lo = subject.hi = request.subject.uid;
    rule.source =
        fmt::format("{} {} uid {}", object, policy::to_string(verdict), request.subject.uid);
  }
  rule.subjects.push_back(subject);
  return rule;
}

Explanation decide(const policy::Policy& policy, const Request& request) {
  Explanation ex;
  ex.verdict = policy.default_for(request.cls);
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    const auto& rule = policy.rules[i];
    std::string missing;
    const Match match = rule_matches(rule, request, missing);
    if (!ex.rule) {
      if (match == Match::yes) {
        ex.rule = i;
        ex.verdict = rule.verdict;
      } else if (match == Match::unknown) {
        ex.undecidable.push_back(i);
        ex.notes.push_back(
            fmt::format("{} may match too: {} is not known", rule_name(policy, i), missing));
      }
    } else if (match == Match::yes && rule.verdict != ex.verdict) {
      ex.shadowed.push_back(i);
    }
  }
  return ex;
}

}  // namespace

Explanation explain(const policy::Policy& policy, const Request& request) {
  Explanation ex = decide(policy, request);
  if (request.reported) {
    const Reported& reported = *request.reported;
    const std::optional<std::uint32_t> computed =
        ex.rule ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*ex.rule + 1))
                : std::nullopt;
    if (computed != reported.rule || ex.verdict != reported.verdict) {
      ex.notes.push_back(fmt::format(
          "the kernel decided {} by {}; this policy decides {} by {}: the policy changed since, "
          "or the task differed from what the {} shows",
          policy::to_string(reported.verdict),
          reported.rule ? fmt::format("rule {}", *reported.rule) : std::string("the default"),
          policy::to_string(ex.verdict),
          ex.rule ? fmt::format("rule {}", *ex.rule + 1) : std::string("the default"),
          reported.source));
    }
  }

  std::string why;
  auto rule = flip_rule(request, opposite(ex.verdict), why);
  if (!rule) {
    ex.notes.push_back(why);
    return ex;
  }
  // Before the deciding rule and before any rule that might decide instead.
  std::optional<std::size_t> position = ex.rule;
  if (!ex.undecidable.empty()) position = ex.undecidable.front();
  policy::Policy changed = policy;
  changed.rules.insert(position ? changed.rules.begin() + static_cast<std::ptrdiff_t>(*position)
                                : changed.rules.end(),
                       *rule);
  const Explanation check = decide(changed, request);
  if (check.verdict != opposite(ex.verdict)) {
    ex.notes.push_back("no single rule flips this decision with what is known of the task");
    return ex;
  }
  ex.flip_rule = rule->source;
  ex.insert_before = position;
  return ex;
}

// ---------------------------------------------------------------------------
// Requests from reports

namespace {

[[noreturn]] void bad_input(const std::string& message) {
  throw Error(ExitCode::invalid_input, message);
}

Class class_named(std::string_view name) {
  if (name == "pkey") return Class::pkey;
  if (name == "endport") return Class::endport;
  if (name == "map") return Class::map;
  bad_input(fmt::format("unknown class '{}'", name));
}

template <typename T>
T number(std::string_view text, std::string_view field, int base = 10) {
  T value{};
  const char* end = text.data() + text.size();
  if (base == 16 && text.starts_with("0x")) text.remove_prefix(2);
  auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || ptr != end)
    bad_input(fmt::format("invalid {} '{}'", field, text));
  return value;
}

// "8:1" (decimal major:minor) to the kernel encoding.
std::uint32_t parse_dev(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) bad_input(fmt::format("invalid device number '{}'", text));
  return policy::kernel_dev(number<unsigned>(text.substr(0, colon), "device major"),
                            number<unsigned>(text.substr(colon + 1), "device minor"));
}

// "rw-", "rw", "r" (the event and audit forms).
std::uint32_t parse_prot_letters(std::string_view text) {
  std::uint32_t prot = 0;
  for (char c : text) {
    if (c == 'r')
      prot |= policy::prot_read;
    else if (c == 'w')
      prot |= policy::prot_write;
    else if (c == 'x')
      prot |= policy::prot_exec;
    else if (c != '-')
      bad_input(fmt::format("invalid protection '{}'", text));
  }
  return prot;
}

std::uint64_t subnet_value(std::string_view text) {
  std::string error;
  auto subnet = policy::parse_subnet(text, error);
  if (!subnet) bad_input(error);
  return *subnet;
}

std::uint16_t pkey_value(std::string_view text) {
  std::string error;
  auto pkey = policy::parse_pkey(text, error);
  if (!pkey) bad_input(error);
  return *pkey;
}

// A JSON value as text for a message (never throws on invalid UTF-8).
std::string json_shown(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A whole number of an event within T's range: get<T>() converts with a
// cast, so 4294967297 became 1 and -1 the largest value.
template <typename T>
T json_number(const nlohmann::json& value, std::string_view key) {
  if (!value.is_number_integer())
    bad_input(fmt::format("{} must be a whole number, found {}", key, json_shown(value)));
  const bool negative = !value.is_number_unsigned() && value.get<std::int64_t>() < 0;
  if (!negative && value.get<std::uint64_t>() <= std::numeric_limits<T>::max())
    return static_cast<T>(value.get<std::uint64_t>());
  bad_input(fmt::format("{} {} out of range (0-{})", key, json_shown(value),
                        std::numeric_limits<T>::max()));
}

// An event's uid (group false) or gid, held to the policy file's bounds as
// the --uid and --gid options are: (uid_t)-1 names no one.
std::uint32_t json_id(const nlohmann::json& value, bool group) {
  const std::string_view key = group ? "gid" : "uid";
  if (!value.is_number_integer())
    bad_input(fmt::format("{} must be a whole number, found {}", key, json_shown(value)));
  std::string error;
  const std::optional<std::uint32_t> id = policy::parse_id(json_shown(value), group, error);
  if (!id) bad_input(error);
  return *id;
}

// Completes the subject's cgroup chain from its reported id.
void resolve_cgroup(Subject& subject, const Environment& env) {
  if (!subject.cgroup_id) return;
  std::string error;
  subject.cgroup_chain = env.cgroup_chain(*subject.cgroup_id, error);
}

// What the file's path tells: everything map rules match on.
void apply_facts(MapObject& map, const Environment::FileFacts& facts) {
  map.file = facts.key;
  map.chardev = facts.chardev;
  map.chardev_known = true;
  map.fstype = facts.fstype;
  map.ancestors = facts.ancestors;
  map.unknown_above = facts.unknown_above;
}

// Completes a reported map object from its path, when the path still names
// the same inode.
void resolve_reported_file(MapObject& map, const Environment& env) {
  std::string error;
  if (map.file) map.fstype = env.fstype(map.file->dev, error);
  if (!map.path) return;
  auto facts = env.file_facts(*map.path, error);
  if (facts && (!map.file || facts->key == *map.file)) apply_facts(map, *facts);
}

}  // namespace

Ancestors ancestors_in_mount(
    const std::string& path, std::uint32_t dev, const std::vector<MountEntry>& mounts,
    const std::function<std::optional<FileKey>(const std::string&)>& key_of) {
  namespace fs = std::filesystem;
  // Where mounts are stacked, the last one at a mount point is seen.
  auto mount_at = [&](const fs::path& at) {
    const MountEntry* seen = nullptr;
    for (const auto& mount : mounts)
      if (mount.mount_point == at.string()) seen = &mount;
    return seen;
  };
  Ancestors result;
  for (fs::path at = path;;) {
    if (const MountEntry* mount = mount_at(at)) {
      if (mount->root != "/")
        result.unknown_above = fmt::format("{} (a mount of {} of its filesystem)",
                                           printable(at.string()), printable(mount->root));
      return result;
    }
    if (at == at.parent_path()) {
      result.unknown_above = fmt::format("{} (no mount table entry)", printable(at.string()));
      return result;
    }
    const fs::path parent = at.parent_path();
    const std::optional<FileKey> key = key_of(parent.string());
    if (!key || key->dev != dev) {
      result.unknown_above = fmt::format("{} (its parent {})", printable(at.string()),
                                         key ? "is on another device" : "cannot be read");
      return result;
    }
    result.keys.push_back(*key);
    at = parent;
  }
}

Subject kernel_thread(const Environment& env) {
  Subject who;
  who.kernel = true;
  who.uid = 0;
  who.gid = 0;
  who.groups = std::vector<std::uint32_t>{};
  std::string error;
  who.cgroup_chain = env.cgroup_chain(std::string("/"), error);
  who.exe.reset();  // exe rules never match a kernel thread
  who.exe_known = true;
  return who;
}

void complete_map_object(MapObject& object, const Environment& env) {
  std::string error;
  auto facts = env.file_facts(*object.path, error);
  if (!facts) bad_input(error);
  apply_facts(object, *facts);
}

Request request_from_json(const nlohmann::json& event, const Environment& env) {
  try {
    const std::string type = event.at("type").get<std::string>();
    if (type != "denied" && type != "logged" && type != "revoked")
      bad_input(fmt::format("a '{}' event is not a decision", type));
    Request request;
    request.cls = class_named(event.at("class").get<std::string>());
    request.operation = event.at("operation").get<std::string>();
    Reported reported;
    reported.source = "monitor event";
    reported.verdict =
        event.at("verdict").get<std::string>() == "deny" ? Verdict::deny : Verdict::allow;
    reported.permissive = event.value("permissive", false);
    reported.revoked = type == "revoked";
    if (!event.at("rule").is_null())
      reported.rule = json_number<std::uint32_t>(event.at("rule"), "rule");
    if (event.contains("generation"))
      reported.generation = json_number<std::uint64_t>(event["generation"], "generation");
    if (event.contains("pid")) reported.pid = json_number<std::uint32_t>(event["pid"], "pid");
    reported.comm = event.value("comm", "");
    request.reported = reported;

    Subject& who = request.subject;
    who.uid = json_id(event.at("uid"), false);
    who.gid = json_id(event.at("gid"), true);
    if (event.contains("cgroup") && !event["cgroup"].is_null())
      who.cgroup_id = json_number<std::uint64_t>(event["cgroup"], "cgroup");
    resolve_cgroup(who, env);
    if (event.contains("exe_ino") && !event["exe_ino"].is_null()) {
      who.exe = FileKey{parse_dev(event.at("exe_dev").get<std::string>()),
                        json_number<std::uint64_t>(event["exe_ino"], "exe_ino")};
    } else if (event.contains("exe_ino")) {
      who.kernel = true;  // no executable: a kernel thread
    } else {
      who.exe_known = false;
    }

    switch (request.cls) {
      case Class::map:
        request.map.file = FileKey{parse_dev(event.at("dev").get<std::string>()),
                                   json_number<std::uint64_t>(event.at("ino"), "ino")};
        if (event.contains("path")) request.map.path = event["path"].get<std::string>();
        request.map.prot = parse_prot_letters(event.value("prot", ""));
        request.map.shared = event.value("shared", false);
        resolve_reported_file(request.map, env);
        break;
      case Class::pkey:
        request.pkey = pkey_value(event.at("pkey").get<std::string>());
        request.subnet = subnet_value(event.at("subnet").get<std::string>());
        [[fallthrough]];
      case Class::endport:
        request.device = event.at("device").get<std::string>();
        request.port = json_number<std::uint32_t>(event.at("port"), "port");
        break;
    }
    return request;
  } catch (const nlohmann::json::exception& e) {
    bad_input(fmt::format("not an ibguard decision event: {}", e.what()));
  }
}

namespace {

// key=value fields of an audit record; values quoted ("..."), hex-encoded
// (untrusted strings with special characters) or plain.
std::map<std::string, std::string, std::less<>> audit_fields(std::string_view line) {
  std::map<std::string, std::string, std::less<>> fields;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    while (i < n && line[i] == ' ') ++i;
    const std::size_t eq = line.find('=', i);
    if (eq == std::string_view::npos) break;
    const std::string key(line.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < n && line[i] == '"') {
      const std::size_t close = line.find('"', i + 1);
      const std::size_t end = close == std::string_view::npos ? n : close;
      value = line.substr(i + 1, end - i - 1);
      i = end == n ? n : end + 1;
    } else if (i < n && line[i] == '\'') {  // msg='...' of user records
      const std::size_t close = line.find('\'', i + 1);
      const std::size_t end = close == std::string_view::npos ? n : close;
      value = line.substr(i + 1, end - i - 1);
      i = end == n ? n : end + 1;
    } else {
      const std::size_t space = line.find(' ', i);
      const std::size_t end = space == std::string_view::npos ? n : space;
      value = line.substr(i, end - i);
      i = end;
    }
    fields.emplace(key, std::move(value));
  }
  return fields;
}

bool is_hex_string(std::string_view text) {
  return !text.empty() && text.size() % 2 == 0 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
  });
}

// An untrusted string as audit writes it: quoted (already stripped), or hex.
std::string untrusted(std::string_view raw, bool was_quoted) {
  if (was_quoted || !is_hex_string(raw)) return std::string(raw);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); i += 2)
    out += static_cast<char>(number<unsigned>(raw.substr(i, 2), "hex string", 16));
  return out;
}

}  // namespace

bool is_audit_decision(std::string_view line) {
  return line.find("lsm=ibguard") != std::string_view::npos &&
         line.find(" class=") != std::string_view::npos &&
         (line.find(fmt::format("type={} ", IBGUARD_AUDIT_DECISION)) != std::string_view::npos ||
          line.find(fmt::format("UNKNOWN[{}]", IBGUARD_AUDIT_DECISION)) != std::string_view::npos);
}

Request request_from_audit(std::string_view record, const Environment& env) {
  if (!is_audit_decision(record)) bad_input("not an ibguard decision audit record");
  // auditd's ENRICHED format appends interpreted fields after a 0x1d.
  record = record.substr(0, record.find('\x1d'));
  // The fields start after "msg=audit(TIME:SERIAL): ".
  const std::size_t start = record.find("): ");
  const std::string_view body = start == std::string_view::npos ? record : record.substr(start + 3);
  auto fields = audit_fields(body);
  auto quoted = [&](std::string_view key) {
    const std::size_t at = body.find(fmt::format(" {}=\"", key));
    return at != std::string_view::npos || body.starts_with(fmt::format("{}=\"", key));
  };
  auto field = [&](std::string_view key) -> const std::string& {
    auto it = fields.find(key);
    if (it == fields.end()) bad_input(fmt::format("the audit record has no '{}' field", key));
    return it->second;
  };
  auto has = [&](std::string_view key) { return fields.contains(key); };
  const policy::Resolver& names = env.resolver();
  // ausearch -i prints names for ids; resolve them back.
  auto id_field = [&](std::string_view key, bool group) -> std::uint32_t {
    const std::string& text = field(key);
    if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit))
      return number<std::uint32_t>(text, key);
    std::string error;
    auto id = group ? names.group(text, error) : names.user(text, error);
    if (!id) bad_input(fmt::format("{} {}: {}", key, text, error));
    return *id;
  };

  Request request;
  request.cls = class_named(field("class"));
  request.operation = field("op");
  Reported reported;
  reported.source = "audit record";
  reported.verdict = field("verdict") == "deny" ? Verdict::deny : Verdict::allow;
  reported.permissive = field("permissive") == "1";
  reported.revoked = has("revoked") && field("revoked") == "1";
  if (field("rule") != "default") reported.rule = number<std::uint32_t>(field("rule"), "rule");
  if (has("generation"))
    reported.generation = number<std::uint64_t>(field("generation"), "generation");
  if (has("pid")) reported.pid = number<std::uint32_t>(field("pid"), "pid");
  if (has("comm")) reported.comm = untrusted(field("comm"), quoted("comm"));
  request.reported = reported;

  Subject& who = request.subject;
  who.uid = id_field(has("euid") ? "euid" : "uid", false);
  who.gid = id_field(has("egid") ? "egid" : "gid", true);
  if (has("groups") && !field("groups").ends_with("...")) {
    std::vector<std::uint32_t> groups;
    const std::string& list = field("groups");
    for (std::size_t start = 0; list != "(none)" && start <= list.size();) {
      std::size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      groups.push_back(number<std::uint32_t>(list.substr(start, comma - start), "groups"));
      start = comma + 1;
    }
    who.groups = groups;
  }
  if (has("cgroup")) {
    who.cgroup_id = number<std::uint64_t>(field("cgroup"), "cgroup");
    resolve_cgroup(who, env);
  }
  if (has("exe_ino")) {
    const auto ino = number<std::uint64_t>(field("exe_ino"), "exe_ino");
    if (ino)
      who.exe = FileKey{parse_dev(field("exe_dev")), ino};
    else
      who.kernel = true;
  } else {
    who.exe_known = false;
  }

  switch (request.cls) {
    case Class::map:
      request.map.file =
          FileKey{parse_dev(field("dev")), number<std::uint64_t>(field("ino"), "ino")};
      if (has("path")) request.map.path = untrusted(field("path"), quoted("path"));
      if (has("rdev")) {
        const std::uint32_t rdev = parse_dev(field("rdev"));
        request.map.chardev =
            std::pair{rdev >> IBGUARD_DEV_MINOR_BITS, rdev & ((1u << IBGUARD_DEV_MINOR_BITS) - 1)};
      }
      request.map.chardev_known = true;  // the record has rdev= for character devices
      request.map.prot = parse_prot_letters(field("prot"));
      request.map.shared = field("shared") == "1";
      resolve_reported_file(request.map, env);
      break;
    case Class::pkey:
      request.pkey = pkey_value(field("pkey"));
      request.subnet = subnet_value(field("subnet"));
      [[fallthrough]];
    case Class::endport:
      request.device = untrusted(field("device"), quoted("device"));
      request.port = number<std::uint32_t>(field("port"), "port");
      break;
  }
  return request;
}

std::optional<Request> request_from_line(std::string_view line, const Environment& env) {
  const std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::nullopt;
  if (line[start] == '{') {
    nlohmann::json event;
    try {
      event = nlohmann::json::parse(line.substr(start));
    } catch (const nlohmann::json::exception& e) {
      bad_input(e.what());
    }
    const std::string type = event.is_object() ? event.value("type", "") : "";
    if (type == "policy-loaded" || type == "mode-changed") return std::nullopt;
    return request_from_json(event, env);
  }
  if (is_audit_decision(line)) return request_from_audit(line, env);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Output

std::string describe(const Request& request) {
  // "map mmap of FILE" for a report, "map FILE" for a hypothetical request.
  // Every string from a report is escaped: the description is one line.
  std::string what(policy::to_string(request.cls));
  if (!request.operation.empty())
    what += " " + printable(request.operation) + (request.cls == Class::map ? " of" : "");
  switch (request.cls) {
    case Class::map: {
      const MapObject& map = request.map;
      what += " " + (map.path ? printable(*map.path) : std::string("a file"));
      if (map.file)
        what += fmt::format(" (dev {} ino {})", dev_string(map.file->dev), map.file->ino);
      what += fmt::format(" prot {}{}", map.prot ? prot_words(map.prot) : "none",
                          map.shared ? ", shared" : "");
      break;
    }
    case Class::pkey:
      what += fmt::format(" P_Key {:#06x} subnet {}", request.pkey, subnet_string(request.subnet));
      if (!request.device.empty())
        what += fmt::format(" on {} port {}", printable(request.device), request.port);
      break;
    case Class::endport:
      what += fmt::format(" on {} port {}", printable(request.device), request.port);
      break;
  }
  const Subject& who = request.subject;
  if (who.kernel) return what + " by a kernel thread";
  what += fmt::format(" by uid {} gid {}", who.uid, who.gid);
  if (who.groups)
    what += who.groups->empty() ? std::string(" groups none")
                                : fmt::format(" groups {}", fmt::join(*who.groups, ","));
  if (who.cgroup_chain && !who.cgroup_chain->empty())
    what += fmt::format(" cgroup {}", who.cgroup_chain->front());
  else if (who.cgroup_id)
    what += fmt::format(" cgroup {}", *who.cgroup_id);
  if (who.exe) what += fmt::format(" exe {} ino {}", dev_string(who.exe->dev), who.exe->ino);
  if (request.reported && request.reported->pid)
    what +=
        fmt::format(" (pid {} comm {})", request.reported->pid, printable(request.reported->comm));
  return what;
}

namespace {

std::string decided_by(const policy::Policy& policy, const Request& request,
                       const Explanation& ex) {
  if (!ex.rule)
    return fmt::format("the {} default (no rule matches)", policy::to_string(request.cls));
  return fmt::format("{}: {}", rule_name(policy, *ex.rule),
                     printable(policy.rules[*ex.rule].source));
}

std::string placement(const policy::Policy& policy, const Explanation& ex) {
  if (!ex.insert_before) return "add at the end of the policy";
  return fmt::format("insert before {}", rule_name(policy, *ex.insert_before));
}

}  // namespace

std::string to_text(const policy::Policy& policy, std::string_view name, const Request& request,
                    const Explanation& ex) {
  std::string text = fmt::format("request:  {}\n", describe(request));
  if (request.reported) {
    const Reported& r = *request.reported;
    text += fmt::format(
        "reported: {}{} by {}{} ({})\n", r.revoked ? "revoked" : policy::to_string(r.verdict),
        r.permissive ? " (permissive: not enforced)" : "",
        r.rule ? fmt::format("rule {}", *r.rule) : std::string("the default"),
        r.generation ? fmt::format(", policy generation {}", *r.generation) : "", r.source);
  }
  text += fmt::format("policy:   {}\n", name);
  text += fmt::format("verdict:  {}\n", policy::to_string(ex.verdict));
  text += fmt::format("decided:  by {}\n", decided_by(policy, request, ex));
  for (std::size_t index : ex.shadowed)
    text += fmt::format("shadowed: {} ({}) would {} it, but comes later\n",
                        rule_name(policy, index), printable(policy.rules[index].source),
                        policy::to_string(policy.rules[index].verdict));
  for (const auto& note : ex.notes) text += fmt::format("note:     {}\n", note);
  if (ex.flip_rule)
    text += fmt::format("to {} it, {}:\n    {}\n", policy::to_string(opposite(ex.verdict)),
                        placement(policy, ex), *ex.flip_rule);
  return text;
}

nlohmann::ordered_json to_json(const policy::Policy& policy, std::string_view name,
                               const Request& request, const Explanation& ex) {
  auto rule_json = [&](std::size_t index) {
    const auto& rule = policy.rules[index];
    nlohmann::ordered_json doc = {{"number", index + 1},
                                  {"verdict", policy::to_string(rule.verdict)},
                                  {"source", rule.source}};
    if (!rule.location.file.empty())
      doc["location"] = fmt::format("{}:{}", rule.location.file, rule.location.line);
    return doc;
  };
  nlohmann::ordered_json doc = {{"schema_version", 1},
                                {"request", describe(request)},
                                {"class", policy::to_string(request.cls)},
                                {"policy", name},
                                {"verdict", policy::to_string(ex.verdict)}};
  doc["rule"] = ex.rule ? rule_json(*ex.rule) : nlohmann::ordered_json(nullptr);
  if (request.reported) {
    const Reported& r = *request.reported;
    doc["reported"] = {{"verdict", policy::to_string(r.verdict)},
                       {"rule", r.rule ? nlohmann::ordered_json(*r.rule) : nullptr},
                       {"permissive", r.permissive},
                       {"revoked", r.revoked},
                       {"source", r.source}};
  }
  doc["shadowed"] = nlohmann::ordered_json::array();
  for (std::size_t index : ex.shadowed) doc["shadowed"].push_back(rule_json(index));
  doc["notes"] = ex.notes;
  if (ex.flip_rule) {
    doc["change"] = {
        {"rule", *ex.flip_rule},
        {"insert_before", ex.insert_before ? nlohmann::ordered_json(*ex.insert_before + 1)
                                           : nlohmann::ordered_json(nullptr)}};
  } else {
    doc["change"] = nullptr;
  }
  return doc;
}

std::string explanation_output(const policy::Policy& policy, std::string_view name,
                               std::optional<std::uint64_t> generation, const Request& request,
                               bool json, bool first) {
  Explanation explanation = explain(policy, request);
  if (generation && request.reported && request.reported->generation &&
      *request.reported->generation != *generation)
    explanation.notes.push_back(fmt::format("the {} comes from policy generation {}",
                                            request.reported->source,
                                            *request.reported->generation));
  if (json) return json_text(to_json(policy, name, request, explanation)) + '\n';
  return (first ? "" : "\n") + to_text(policy, name, request, explanation);
}

StreamCounts explain_stream(std::istream& in, std::ostream& out, const policy::Policy& policy,
                            std::string_view name, std::optional<std::uint64_t> generation,
                            const Environment& env, bool json,
                            const std::function<void(unsigned, const std::string&)>& on_bad_line) {
  StreamCounts counts;
  std::string line;
  for (unsigned number = 1; std::getline(in, line); ++number) {
    std::optional<Request> request;
    try {
      request = request_from_line(line, env);
    } catch (const Error& e) {
      ++counts.bad_lines;
      on_bad_line(number, e.what());
      continue;
    }
    if (!request) continue;
    out << explanation_output(policy, name, generation, *request, json, counts.explained == 0)
        << std::flush;
    ++counts.explained;
  }
  return counts;
}

}  // namespace ibguard::explain
