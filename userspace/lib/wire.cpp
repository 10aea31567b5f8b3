#include "wire.hpp"

#include <fmt/format.h>
#include <linux/ibguard.h>

#include "error.hpp"
#include "output.hpp"

namespace ibguard {

namespace {

using policy::Class;
using policy::Verdict;

Class to_class(std::uint8_t value) {
  if (value > IBGUARD_CLASS_MAX)
    throw Error(ExitCode::invalid_input, fmt::format("the module reports unknown class {}", value));
  return static_cast<Class>(value);
}

Verdict to_verdict(std::uint8_t value) {
  if (value > IBGUARD_VERDICT_MAX)
    throw Error(ExitCode::invalid_input,
                fmt::format("the module reports unknown verdict {}", value));
  return static_cast<Verdict>(value);
}

Mode to_mode(std::uint8_t value) {
  if (value > IBGUARD_MODE_MAX)
    throw Error(ExitCode::invalid_input, fmt::format("the module reports unknown mode {}", value));
  return static_cast<Mode>(value);
}

void put_subject(nl::Message& msg, const policy::Subject& subject) {
  const auto nest = msg.begin_nest(IBGUARD_RULE_SUBJECT);
  msg.put_u8(IBGUARD_SUBJ_TYPE, static_cast<std::uint8_t>(subject.type));
  switch (subject.type) {
    case policy::Subject::Type::uid:
    case policy::Subject::Type::gid:
      msg.put_u32(IBGUARD_SUBJ_LO, subject.lo);
      msg.put_u32(IBGUARD_SUBJ_HI, subject.hi);
      break;
    case policy::Subject::Type::cgroup:
      msg.put_u64(IBGUARD_SUBJ_ID, subject.cgroup_id);
      break;
    case policy::Subject::Type::exe:
      msg.put_u32(IBGUARD_SUBJ_DEV, subject.dev);
      msg.put_u64(IBGUARD_SUBJ_INO, subject.ino);
      break;
    case policy::Subject::Type::kernel:
      break;
  }
  msg.end_nest(nest);
}

LoadedRule parse_rule(const nlattr& nest) {
  auto attrs = nl::Attributes::of_nest(nest, IBGUARD_RULE_MAX);
  LoadedRule rule;
  rule.index = attrs.u32(IBGUARD_RULE_INDEX);
  rule.cls = to_class(attrs.u8(IBGUARD_RULE_CLASS));
  rule.verdict = to_verdict(attrs.u8(IBGUARD_RULE_VERDICT));
  rule.flags = attrs.u32(IBGUARD_RULE_FLAGS);
  rule.source = attrs.str(IBGUARD_RULE_SOURCE);
  if (attrs.has(IBGUARD_RULE_HITS)) rule.hits = attrs.u64(IBGUARD_RULE_HITS);
  return rule;
}

nlohmann::ordered_json rule_json(const LoadedRule& rule, bool with_hits) {
  nlohmann::ordered_json doc = {
      {"index", rule.index},
      {"class", policy::to_string(rule.cls)},
      {"verdict", policy::to_string(rule.verdict)},
      {"log", (rule.flags & IBGUARD_RULE_LOG) != 0},
      {"source", rule.source},
  };
  if (with_hits) doc["hits"] = rule.hits;
  return doc;
}

}  // namespace

const std::array<std::uint16_t, policy::class_count> default_verdict_attrs = {
    IBGUARD_ATTR_DEFAULT_PKEY, IBGUARD_ATTR_DEFAULT_ENDPORT, IBGUARD_ATTR_DEFAULT_MAP};

std::string prot_string(std::uint32_t prot) {
  std::string text;
  text += (prot & IBGUARD_PROT_READ) ? 'r' : '-';
  text += (prot & IBGUARD_PROT_WRITE) ? 'w' : '-';
  text += (prot & IBGUARD_PROT_EXEC) ? 'x' : '-';
  return text;
}

void put_rule(nl::Message& msg, const policy::Rule& rule) {
  const auto nest = msg.begin_nest(IBGUARD_ATTR_RULE);
  msg.put_u8(IBGUARD_RULE_CLASS, static_cast<std::uint8_t>(rule.cls));
  msg.put_u8(IBGUARD_RULE_VERDICT, static_cast<std::uint8_t>(rule.verdict));
  std::uint32_t flags = (rule.log ? IBGUARD_RULE_LOG : 0) | (rule.shared ? IBGUARD_RULE_SHARED : 0);
  msg.put_u32(IBGUARD_RULE_FLAGS, flags);
  msg.put_string(IBGUARD_RULE_SOURCE, rule.source);
  switch (rule.cls) {
    case Class::pkey:
      msg.put_u16(IBGUARD_RULE_PKEY_LO, rule.pkey_lo);
      msg.put_u16(IBGUARD_RULE_PKEY_HI, rule.pkey_hi);
      if (rule.subnet) msg.put_u64(IBGUARD_RULE_SUBNET, *rule.subnet);
      break;
    case Class::endport:
      if (rule.device) msg.put_string(IBGUARD_RULE_DEVICE, *rule.device);
      if (rule.port) msg.put_u32(IBGUARD_RULE_PORT, *rule.port);
      break;
    case Class::map:
      msg.put_u8(IBGUARD_RULE_MAP_OBJECT, static_cast<std::uint8_t>(rule.object));
      if (rule.prot) msg.put_u32(IBGUARD_RULE_PROT, rule.prot);
      switch (rule.object) {
        case policy::MapObject::path:
        case policy::MapObject::tree:
          msg.put_u32(IBGUARD_RULE_DEV, rule.dev);
          msg.put_u64(IBGUARD_RULE_INO, rule.ino);
          break;
        case policy::MapObject::chardev:
          msg.put_u32(IBGUARD_RULE_CHR_MAJOR, rule.chr_major);
          if (rule.minor_lo && rule.minor_hi) {
            msg.put_u32(IBGUARD_RULE_CHR_MINOR_LO, *rule.minor_lo);
            msg.put_u32(IBGUARD_RULE_CHR_MINOR_HI, *rule.minor_hi);
          }
          break;
        case policy::MapObject::fs:
          msg.put_string(IBGUARD_RULE_FSTYPE, rule.fstype);
          break;
      }
      break;
  }
  for (const auto& subject : rule.subjects) put_subject(msg, subject);
  msg.end_nest(nest);
}

void parse_policy_message(const nlmsghdr& msg, LoadedPolicy& policy) {
  auto attrs = nl::Attributes::of_genl(msg, IBGUARD_ATTR_MAX);
  if (const nlattr* rule = attrs[IBGUARD_ATTR_RULE]) {
    policy.rules.push_back(parse_rule(*rule));
    return;
  }
  if (!attrs.has(IBGUARD_ATTR_GENERATION)) return;  // no policy loaded yet
  policy.present = true;
  policy.generation = attrs.u64(IBGUARD_ATTR_GENERATION);
  policy.mode = to_mode(attrs.u8(IBGUARD_ATTR_MODE));
  for (std::size_t i = 0; i < policy::class_count; ++i)
    policy.defaults[i] = to_verdict(attrs.u8(default_verdict_attrs[i]));
  policy.pkey_on_roce = attrs.u32(IBGUARD_ATTR_OPTIONS) & IBGUARD_OPT_PKEY_ON_ROCE;
}

std::string LoadedPolicy::to_text() const {
  std::string text = fmt::format("mode {}\n", to_string(mode));
  for (std::size_t i = 0; i < policy::class_count; ++i)
    text += fmt::format("default {} {}\n", policy::to_string(static_cast<Class>(i)),
                        policy::to_string(defaults[i]));
  text += fmt::format("option pkey-on-roce {}\n", pkey_on_roce ? "yes" : "no");
  for (const auto& rule : rules) text += rule.source + '\n';
  return text;
}

nlohmann::ordered_json LoadedPolicy::to_json() const {
  nlohmann::ordered_json doc = {{"schema_version", json_schema_version},
                                {"loaded", present},
                                {"generation", generation},
                                {"mode", to_string(mode)}};
  nlohmann::ordered_json defaults_json;
  for (std::size_t i = 0; i < policy::class_count; ++i)
    defaults_json[std::string(policy::to_string(static_cast<Class>(i)))] =
        policy::to_string(defaults[i]);
  doc["defaults"] = defaults_json;
  doc["options"] = {{"pkey-on-roce", pkey_on_roce}};
  doc["rules"] = nlohmann::ordered_json::array();
  for (const auto& rule : rules) doc["rules"].push_back(rule_json(rule, false));
  return doc;
}

void parse_stats_message(const nlmsghdr& msg, Stats& stats) {
  auto attrs = nl::Attributes::of_genl(msg, IBGUARD_ATTR_MAX);
  if (const nlattr* rule = attrs[IBGUARD_ATTR_RULE]) {
    stats.rules.push_back(parse_rule(*rule));
    return;
  }
  stats.generation = attrs.u64(IBGUARD_ATTR_GENERATION);
  stats.events_dropped = attrs.u64(IBGUARD_ATTR_EVENTS_DROPPED);
  if (attrs.has(IBGUARD_ATTR_AUDIT_DROPPED))
    stats.audit_dropped = attrs.u64(IBGUARD_ATTR_AUDIT_DROPPED);
  nl::for_each_attr(msg, [&](const nlattr& attr) {
    if (mnl_attr_get_type(&attr) != IBGUARD_ATTR_CLASS_STATS) return;
    auto c = nl::Attributes::of_nest(attr, IBGUARD_STATS_MAX);
    auto cls = to_class(c.u8(IBGUARD_STATS_CLASS));
    auto& out = stats.classes[static_cast<std::size_t>(cls)];
    out.checked = c.u64(IBGUARD_STATS_CHECKED);
    out.allowed = c.u64(IBGUARD_STATS_ALLOWED);
    out.denied = c.u64(IBGUARD_STATS_DENIED);
    out.would_deny = c.u64(IBGUARD_STATS_WOULD_DENY);
    // Absent from modules before revalidation: nothing revoked.
    if (c.has(IBGUARD_STATS_REVOKED)) out.revoked = c.u64(IBGUARD_STATS_REVOKED);
    out.rules = c.u32(IBGUARD_STATS_RULES);
    out.default_verdict = to_verdict(c.u8(IBGUARD_STATS_DEFAULT));
  });
}

Stats Stats::minus(const Stats& earlier) const {
  Stats delta = *this;
  delta.interval = Interval{};
  delta.interval->generation_changed =
      generation != earlier.generation || rules.size() != earlier.rules.size();
  // A counter below its earlier value was zeroed in between, and so were
  // the others (stats reset zeroes all; a reload starts afresh): the
  // current values are the counts since, even where one climbed past its
  // earlier value again.
  bool reset = events_dropped < earlier.events_dropped || audit_dropped < earlier.audit_dropped;
  for (std::size_t i = 0; i < policy::class_count; ++i) {
    const ClassStats &now = classes[i], &then = earlier.classes[i];
    reset = reset || now.checked < then.checked || now.allowed < then.allowed ||
            now.denied < then.denied || now.would_deny < then.would_deny ||
            now.revoked < then.revoked;
  }
  // Hits live with their policy: comparable only within one generation.
  const bool same_rules = !delta.interval->generation_changed;
  for (std::size_t i = 0; same_rules && i < rules.size(); ++i)
    reset = reset || rules[i].hits < earlier.rules[i].hits;
  delta.interval->counters_reset = reset;
  if (reset) return delta;

  for (std::size_t i = 0; i < policy::class_count; ++i) {
    delta.classes[i].checked -= earlier.classes[i].checked;
    delta.classes[i].allowed -= earlier.classes[i].allowed;
    delta.classes[i].denied -= earlier.classes[i].denied;
    delta.classes[i].would_deny -= earlier.classes[i].would_deny;
    delta.classes[i].revoked -= earlier.classes[i].revoked;
  }
  delta.events_dropped -= earlier.events_dropped;
  delta.audit_dropped -= earlier.audit_dropped;
  for (std::size_t i = 0; same_rules && i < rules.size(); ++i)
    delta.rules[i].hits -= earlier.rules[i].hits;
  return delta;
}

std::string Stats::to_text(bool with_rules) const {
  std::string text =
      fmt::format("{:<8} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8}  {}\n", "class", "checked",
                  "allowed", "denied", "would-deny", "revoked", "rules", "default");
  for (std::size_t i = 0; i < policy::class_count; ++i) {
    const auto& c = classes[i];
    text += fmt::format("{:<8} {:>12} {:>12} {:>12} {:>12} {:>8} {:>8}  {}\n",
                        policy::to_string(static_cast<Class>(i)), c.checked, c.allowed, c.denied,
                        c.would_deny, c.revoked, c.rules, policy::to_string(c.default_verdict));
  }
  text +=
      fmt::format("events dropped: {}, audit records dropped: {}\n", events_dropped, audit_dropped);
  if (with_rules) {
    text += fmt::format("{:>6} {:>12}  {}\n", "rule", "hits", "source");
    for (const auto& rule : rules)
      text += fmt::format("{:>6} {:>12}  {}\n", rule.index + 1, rule.hits, printable(rule.source));
  }
  if (interval && interval->counters_reset)
    text +=
        "note: the counters were reset during this interval (stats reset or module reload): "
        "these are the counts since the reset\n";
  else if (interval && interval->generation_changed && with_rules)
    text += fmt::format(
        "note: policy generation {} was loaded during this interval: rule hits count from its "
        "load\n",
        generation);
  return text;
}

nlohmann::ordered_json Stats::to_json(bool with_rules) const {
  nlohmann::ordered_json doc = {{"schema_version", json_schema_version},
                                {"generation", generation},
                                {"events_dropped", events_dropped},
                                {"audit_dropped", audit_dropped}};
  nlohmann::ordered_json classes_json;
  for (std::size_t i = 0; i < policy::class_count; ++i) {
    const auto& c = classes[i];
    classes_json[std::string(policy::to_string(static_cast<Class>(i)))] = {
        {"checked", c.checked},
        {"allowed", c.allowed},
        {"denied", c.denied},
        {"would_deny", c.would_deny},
        {"revoked", c.revoked},
        {"rules", c.rules},
        {"default", policy::to_string(c.default_verdict)}};
  }
  doc["classes"] = classes_json;
  if (with_rules) {
    doc["rules"] = nlohmann::ordered_json::array();
    for (const auto& rule : rules) doc["rules"].push_back(rule_json(rule, true));
  }
  if (interval)
    doc["interval"] = {{"counters_reset", interval->counters_reset},
                       {"generation_changed", interval->generation_changed}};
  return doc;
}

Event Event::from_message(const nlmsghdr& msg) {
  auto top = nl::Attributes::of_genl(msg, IBGUARD_ATTR_MAX);
  const nlattr* nest = top[IBGUARD_ATTR_EVENT];
  if (!nest) throw Error(ExitCode::invalid_input, "malformed event from the kernel");
  auto a = nl::Attributes::of_nest(*nest, IBGUARD_EVENT_ATTR_MAX);
  Event ev;
  ev.type = a.u8(IBGUARD_EVENT_TYPE);
  if (a.has(IBGUARD_EVENT_CLASS)) ev.cls = to_class(a.u8(IBGUARD_EVENT_CLASS));
  if (a.has(IBGUARD_EVENT_VERDICT)) ev.verdict = to_verdict(a.u8(IBGUARD_EVENT_VERDICT));
  ev.permissive = a.has(IBGUARD_EVENT_PERMISSIVE);
  if (a.has(IBGUARD_EVENT_RULE)) ev.rule = a.u32(IBGUARD_EVENT_RULE);
  if (a.has(IBGUARD_EVENT_PID)) ev.pid = a.u32(IBGUARD_EVENT_PID);
  if (a.has(IBGUARD_EVENT_UID)) ev.uid = a.u32(IBGUARD_EVENT_UID);
  if (a.has(IBGUARD_EVENT_GID)) ev.gid = a.u32(IBGUARD_EVENT_GID);
  if (a.has(IBGUARD_EVENT_COMM)) ev.comm = a.str(IBGUARD_EVENT_COMM);
  if (a.has(IBGUARD_EVENT_OPERATION)) ev.operation = a.str(IBGUARD_EVENT_OPERATION);
  if (a.has(IBGUARD_EVENT_PATH)) ev.path = a.str(IBGUARD_EVENT_PATH);
  if (a.has(IBGUARD_EVENT_DEV)) ev.dev = a.u32(IBGUARD_EVENT_DEV);
  if (a.has(IBGUARD_EVENT_INO)) ev.ino = a.u64(IBGUARD_EVENT_INO);
  if (a.has(IBGUARD_EVENT_PROT)) ev.prot = a.u32(IBGUARD_EVENT_PROT);
  ev.shared = a.has(IBGUARD_EVENT_SHARED);
  if (a.has(IBGUARD_EVENT_GENERATION)) ev.generation = a.u64(IBGUARD_EVENT_GENERATION);
  if (a.has(IBGUARD_EVENT_MODE)) ev.mode = to_mode(a.u8(IBGUARD_EVENT_MODE));
  if (a.has(IBGUARD_EVENT_DROPPED)) ev.dropped = a.u64(IBGUARD_EVENT_DROPPED);
  if (a.has(IBGUARD_EVENT_DEVICE)) ev.device = a.str(IBGUARD_EVENT_DEVICE);
  if (a.has(IBGUARD_EVENT_PORT)) ev.port = a.u32(IBGUARD_EVENT_PORT);
  if (a.has(IBGUARD_EVENT_PKEY)) ev.pkey = a.u16(IBGUARD_EVENT_PKEY);
  if (a.has(IBGUARD_EVENT_SUBNET)) ev.subnet = a.u64(IBGUARD_EVENT_SUBNET);
  if (a.has(IBGUARD_EVENT_QP_NUM)) ev.qp_num = a.u32(IBGUARD_EVENT_QP_NUM);
  if (a.has(IBGUARD_EVENT_CGROUP)) ev.cgroup = a.u64(IBGUARD_EVENT_CGROUP);
  if (a.has(IBGUARD_EVENT_EXE_INO))
    ev.exe = std::pair{a.u32(IBGUARD_EVENT_EXE_DEV), a.u64(IBGUARD_EVENT_EXE_INO)};
  return ev;
}

namespace {

std::string_view type_name(std::uint8_t type) {
  switch (type) {
    case IBGUARD_EVENT_DENIED:
      return "denied";
    case IBGUARD_EVENT_LOGGED:
      return "logged";
    case IBGUARD_EVENT_POLICY_LOADED:
      return "policy-loaded";
    case IBGUARD_EVENT_MODE_CHANGED:
      return "mode-changed";
    case IBGUARD_EVENT_REVOKED:
      return "revoked";
  }
  return "unknown";
}

}  // namespace

// As sysfs shows the upper half of gids/0: fe80:0000:0000:0000.
std::string subnet_string(std::uint64_t subnet) {
  return fmt::format("{:04x}:{:04x}:{:04x}:{:04x}", (subnet >> 48) & 0xffff,
                     (subnet >> 32) & 0xffff, (subnet >> 16) & 0xffff, subnet & 0xffff);
}

std::string dev_string(std::uint32_t dev) {
  return fmt::format("{}:{}", dev >> IBGUARD_DEV_MINOR_BITS,
                     dev & ((1u << IBGUARD_DEV_MINOR_BITS) - 1));
}

std::string Event::to_text() const {
  std::string text;
  if (type == IBGUARD_EVENT_POLICY_LOADED || type == IBGUARD_EVENT_MODE_CHANGED) {
    text = fmt::format("{} generation={} mode={} pid={} comm={} uid={}", type_name(type),
                       generation.value_or(0), mode ? to_string(*mode) : "?", pid, printable(comm),
                       uid);
    return text;
  }
  std::string what = std::string(type_name(type));
  if (type == IBGUARD_EVENT_DENIED && permissive) what = "would-deny";
  // comm, path and device are a user's choice: one event, one line.
  text =
      fmt::format("{} {} {} by {}", what, cls ? policy::to_string(*cls) : "?", printable(operation),
                  rule ? fmt::format("rule {}", *rule + 1) : std::string("default"));
  text += fmt::format(" pid={} comm={} uid={} gid={}", pid, printable(comm), uid, gid);
  if (dev) text += fmt::format(" dev={}", dev_string(*dev));
  if (ino) text += fmt::format(" ino={}", *ino);
  if (prot) text += fmt::format(" prot={}", prot_string(*prot));
  if (shared) text += " shared";
  if (!path.empty()) text += fmt::format(" path={}", printable(path));
  if (!device.empty()) text += fmt::format(" device={}", printable(device));
  if (port) text += fmt::format(" port={}", *port);
  if (pkey) text += fmt::format(" pkey={:#06x}", *pkey);
  if (subnet) text += fmt::format(" subnet={}", subnet_string(*subnet));
  if (qp_num) text += fmt::format(" qp={}", *qp_num);
  return text;
}

nlohmann::ordered_json Event::to_json() const {
  nlohmann::ordered_json doc = {{"schema_version", json_schema_version}, {"type", type_name(type)}};
  if (cls) doc["class"] = policy::to_string(*cls);
  if (verdict) doc["verdict"] = policy::to_string(*verdict);
  if (type == IBGUARD_EVENT_DENIED || type == IBGUARD_EVENT_LOGGED ||
      type == IBGUARD_EVENT_REVOKED) {
    doc["permissive"] = permissive;
    doc["rule"] = rule ? nlohmann::ordered_json(*rule + 1) : nlohmann::ordered_json(nullptr);
    doc["operation"] = operation;
  }
  doc["pid"] = pid;
  doc["comm"] = comm;
  doc["uid"] = uid;
  if (type == IBGUARD_EVENT_DENIED || type == IBGUARD_EVENT_LOGGED || type == IBGUARD_EVENT_REVOKED)
    doc["gid"] = gid;
  if (dev) doc["dev"] = dev_string(*dev);
  if (ino) doc["ino"] = *ino;
  if (prot) doc["prot"] = prot_string(*prot);
  if (prot) doc["shared"] = shared;
  if (!path.empty()) doc["path"] = path;
  if (!device.empty()) doc["device"] = device;
  if (port) doc["port"] = *port;
  if (pkey) doc["pkey"] = fmt::format("{:#06x}", *pkey);
  if (subnet) doc["subnet"] = subnet_string(*subnet);
  if (qp_num) doc["qp"] = *qp_num;
  if (cgroup) {
    // A decision: who made it, as cgroup and exe subjects match.
    doc["cgroup"] = *cgroup;
    doc["exe_dev"] = exe ? nlohmann::ordered_json(dev_string(exe->first)) : nullptr;
    doc["exe_ino"] = exe ? nlohmann::ordered_json(exe->second) : nullptr;
  }
  if (generation) doc["generation"] = *generation;
  if (mode) doc["mode"] = to_string(*mode);
  doc["dropped"] = dropped;
  return doc;
}

}  // namespace ibguard
