// The module's status as ibguardctl reports it.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ibguard {

// Version of the JSON documents ibguardctl prints; bumped on incompatible
// changes to any -j output.
inline constexpr int json_schema_version = 1;

enum class Mode : std::uint8_t { enforcing = 0, permissive = 1 };

std::string to_string(Mode mode);

struct Status {
  std::string module_version;
  std::uint32_t protocol_version = 0;
  Mode mode = Mode::enforcing;
  std::uint64_t generation = 0;

  static Status from_reply(const nlmsghdr& reply);

  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
};

}  // namespace ibguard
