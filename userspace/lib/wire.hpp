// ibguard's netlink messages as C++ values: rules on their way to the
// kernel, and what dumps, stats and events bring back.
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "netlink.hpp"
#include "policy.hpp"
#include "status.hpp"

namespace ibguard {

// The IBGUARD_ATTR_DEFAULT_* attribute of each class, by class.
extern const std::array<std::uint16_t, policy::class_count> default_verdict_attrs;

// Appends one IBGUARD_ATTR_RULE nest for rule to msg.
void put_rule(nl::Message& msg, const policy::Rule& rule);

struct LoadedRule {
  std::uint32_t index = 0;
  policy::Class cls = policy::Class::map;
  policy::Verdict verdict = policy::Verdict::allow;
  std::uint32_t flags = 0;
  std::string source;
  std::uint64_t hits = 0;
};

// The active policy as the kernel reports it (POLICY_GET).
struct LoadedPolicy {
  bool present = false;  // false before any load
  std::uint64_t generation = 0;
  Mode mode = Mode::enforcing;
  std::array<policy::Verdict, policy::class_count> defaults{};
  bool pkey_on_roce = false;
  std::vector<LoadedRule> rules;

  // Policy text that loads back into this same policy.
  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
};

struct ClassStats {
  std::uint64_t checked = 0, allowed = 0, denied = 0, would_deny = 0;
  std::uint64_t revoked = 0;  // live objects a later policy cut off
  std::uint32_t rules = 0;
  policy::Verdict default_verdict = policy::Verdict::allow;
};

struct Stats {
  std::uint64_t generation = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t audit_dropped = 0;
  std::array<ClassStats, policy::class_count> classes{};
  std::vector<LoadedRule> rules;  // with hits, when asked for

  // How minus() obtained the numbers of an interval.
  struct Interval {
    // A counter went down since the earlier reading (stats reset, module
    // reload): every counter is shown as it is, the counts since the reset.
    bool counters_reset = false;
    // Another policy was loaded: its rules' hits count from its load.
    bool generation_changed = false;
  };
  std::optional<Interval> interval;  // absent: running totals

  // The counts between earlier and this reading (stats -i).
  Stats minus(const Stats& earlier) const;
  std::string to_text(bool with_rules) const;
  nlohmann::ordered_json to_json(bool with_rules) const;
};

struct Event {
  std::uint8_t type = 0;  // enum ibguard_event_type
  std::optional<policy::Class> cls;
  std::optional<policy::Verdict> verdict;
  bool permissive = false;
  std::optional<std::uint32_t> rule;
  std::uint32_t pid = 0, uid = 0, gid = 0;
  std::string comm, operation, path;
  std::optional<std::uint32_t> dev;
  std::optional<std::uint64_t> ino;
  std::optional<std::uint32_t> prot;
  bool shared = false;
  std::optional<std::uint64_t> generation;
  std::optional<Mode> mode;
  std::uint64_t dropped = 0;
  std::string device;
  std::optional<std::uint32_t> port;
  std::optional<std::uint16_t> pkey;
  std::optional<std::uint64_t> subnet;
  std::optional<std::uint32_t> qp_num;  // a revoked QP
  std::optional<std::uint64_t> cgroup;  // decisions: the subject's cgroup v2 id
  std::optional<std::pair<std::uint32_t, std::uint64_t>> exe;  // its executable (dev, ino)

  static Event from_message(const nlmsghdr& msg);
  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
};

// Parsing of dump messages, exposed for tests.
void parse_policy_message(const nlmsghdr& msg, LoadedPolicy& policy);
void parse_stats_message(const nlmsghdr& msg, Stats& stats);

std::string prot_string(std::uint32_t prot);
// fe80:0000:0000:0000, as sysfs shows the upper half of gids/0.
std::string subnet_string(std::uint64_t subnet);
// "major:minor" of a kernel-encoded device number.
std::string dev_string(std::uint32_t dev);

}  // namespace ibguard
