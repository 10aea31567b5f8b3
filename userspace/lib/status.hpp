// The module's status as ibguardctl reports it.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
  std::uint32_t rules = 0;
  std::uint64_t memory = 0;          // bytes of the active policy
  std::uint64_t staging_memory = 0;  // bytes held by a load in progress
  std::uint32_t hooks = 0;           // bit per class whose hooks are attached
  std::uint32_t available = 0;       // bit per class the module can enforce
  bool locked = false;               // ibguardctl lock: until reboot
  std::uint64_t events_dropped = 0;
  std::uint64_t audit_dropped = 0;  // audit records rate-limited or not allocated
  // Live objects a load revalidates; none without the InfiniBand part.
  struct Followed {
    std::uint32_t qps = 0;
    std::uint32_t agents = 0;  // subnet-management agents from user space
  };
  std::optional<Followed> followed;

  static Status from_reply(const nlmsghdr& reply);

  std::vector<std::string> attached_classes() const { return class_names(hooks); }
  std::vector<std::string> available_classes() const { return class_names(available); }
  static std::vector<std::string> class_names(std::uint32_t bits);
  std::string to_text() const;
  nlohmann::ordered_json to_json() const;
};

// What a load did to the following of live QPs and agents, for whoever
// loaded it: attaching the InfiniBand hooks leaves earlier objects
// unfollowed, detaching them forgets those followed. Empty when neither.
std::optional<std::string> live_objects_note(const Status& before, const Status& after);

}  // namespace ibguard
