#include "status.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/ibguard.h>

#include <array>

#include "error.hpp"
#include "netlink.hpp"

namespace ibguard {

std::string to_string(Mode mode) {
  switch (mode) {
    case Mode::enforcing:
      return "enforcing";
    case Mode::permissive:
      return "permissive";
  }
  return fmt::format("unknown ({})", static_cast<int>(mode));
}

Status Status::from_reply(const nlmsghdr& reply) {
  auto attrs = nl::Attributes::of_genl(reply, IBGUARD_ATTR_MAX);
  Status status;
  status.module_version = attrs.str(IBGUARD_ATTR_MODULE_VERSION);
  status.protocol_version = attrs.u32(IBGUARD_ATTR_PROTOCOL_VERSION);
  auto mode = attrs.u8(IBGUARD_ATTR_MODE);
  if (mode > IBGUARD_MODE_MAX)
    throw Error(ExitCode::invalid_input,
                fmt::format("the module reports an unknown mode {}", mode));
  status.mode = static_cast<Mode>(mode);
  status.generation = attrs.u64(IBGUARD_ATTR_GENERATION);
  // Absent until a policy has been loaded.
  if (attrs.has(IBGUARD_ATTR_RULE_COUNT)) status.rules = attrs.u32(IBGUARD_ATTR_RULE_COUNT);
  if (attrs.has(IBGUARD_ATTR_MEMORY)) status.memory = attrs.u64(IBGUARD_ATTR_MEMORY);
  status.staging_memory = attrs.u64(IBGUARD_ATTR_STAGING_MEMORY);
  status.hooks = attrs.u32(IBGUARD_ATTR_HOOKS);
  status.available = attrs.u32(IBGUARD_ATTR_AVAILABLE);
  status.locked = attrs.has(IBGUARD_ATTR_LOCKED) && attrs.u8(IBGUARD_ATTR_LOCKED) != 0;
  status.events_dropped = attrs.u64(IBGUARD_ATTR_EVENTS_DROPPED);
  if (attrs.has(IBGUARD_ATTR_AUDIT_DROPPED))
    status.audit_dropped = attrs.u64(IBGUARD_ATTR_AUDIT_DROPPED);
  if (attrs.has(IBGUARD_ATTR_FOLLOWED_QPS))
    status.followed = Followed{.qps = attrs.u32(IBGUARD_ATTR_FOLLOWED_QPS),
                               .agents = attrs.u32(IBGUARD_ATTR_FOLLOWED_AGENTS)};
  return status;
}

std::vector<std::string> Status::class_names(std::uint32_t bits) {
  static constexpr std::array names = {"pkey", "endport", "map"};
  std::vector<std::string> classes;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (bits & (1u << i)) classes.emplace_back(names[i]);
  return classes;
}

namespace {

std::string count_of(std::uint32_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string agents_text(std::uint32_t agents) {
  return count_of(agents, "subnet-management agent", "subnet-management agents");
}

}  // namespace

std::string Status::to_text() const {
  auto classes = attached_classes();
  auto available_list = available_classes();
  std::string followed_line =
      followed ? fmt::format("live objects:      {}, {} followed\n",
                             count_of(followed->qps, "QP", "QPs"), agents_text(followed->agents))
               : "";
  return fmt::format(
      "module version:    {}\n"
      "protocol version:  {}\n"
      "mode:              {}\n"
      "locked:            {}\n"
      "policy generation: {}\n"
      "rules:             {}\n"
      "policy memory:     {} bytes\n"
      "staging memory:    {} bytes\n"
      "classes available: {}\n"
      "hooks attached:    {}\n"
      "{}"
      "events dropped:    {}\n"
      "audit dropped:     {}\n",
      module_version, protocol_version, to_string(mode),
      locked ? "yes (until reboot: no rmmod, permissive mode or flush)" : "no", generation, rules,
      memory, staging_memory, fmt::format("{}", fmt::join(available_list, " ")),
      classes.empty() ? "none" : fmt::format("{}", fmt::join(classes, " ")), followed_line,
      events_dropped, audit_dropped);
}

nlohmann::ordered_json Status::to_json() const {
  return {
      {"schema_version", json_schema_version},
      {"module_version", module_version},
      {"protocol_version", protocol_version},
      {"mode", to_string(mode)},
      {"locked", locked},
      {"generation", generation},
      {"rules", rules},
      {"memory", memory},
      {"staging_memory", staging_memory},
      {"available", available_classes()},
      {"hooks", attached_classes()},
      {"followed",
       followed ? nlohmann::ordered_json{{"qps", followed->qps}, {"agents", followed->agents}}
                : nlohmann::ordered_json()},
      {"events_dropped", events_dropped},
      {"audit_dropped", audit_dropped},
  };
}

std::optional<std::string> live_objects_note(const Status& before, const Status& after) {
  constexpr std::uint32_t ib_hooks = (1u << IBGUARD_CLASS_PKEY) | (1u << IBGUARD_CLASS_ENDPORT);
  bool was_attached = before.hooks & ib_hooks;
  bool attached = after.hooks & ib_hooks;
  if (!was_attached && attached)
    return "the pkey and endport hooks are attached from now on: the QPs that exist are adopted "
           "and followed, subnet-management agents registered before from their next send";
  if (was_attached && !attached && before.followed &&
      (before.followed->qps || before.followed->agents))
    return fmt::format(
        "the pkey and endport hooks are detached (no pkey or endport rule, no deny default): "
        "ibguard no longer follows the {} and {} it followed; a policy that attaches the hooks "
        "again adopts the QPs that exist then, and the agents at their next send",
        count_of(before.followed->qps, "QP", "QPs"), agents_text(before.followed->agents));
  return std::nullopt;
}

}  // namespace ibguard
