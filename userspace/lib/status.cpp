#include "status.hpp"

#include <fmt/format.h>
#include <linux/ibguard.h>

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
  return status;
}

std::string Status::to_text() const {
  return fmt::format(
      "module version:    {}\n"
      "protocol version:  {}\n"
      "mode:              {}\n"
      "policy generation: {}\n",
      module_version, protocol_version, to_string(mode), generation);
}

nlohmann::ordered_json Status::to_json() const {
  return {
      {"schema_version", json_schema_version},
      {"module_version", module_version},
      {"protocol_version", protocol_version},
      {"mode", to_string(mode)},
      {"generation", generation},
  };
}

}  // namespace ibguard
