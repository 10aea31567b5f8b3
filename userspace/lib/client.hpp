// A connection to the ibguard kernel module.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "netlink.hpp"
#include "policy.hpp"
#include "status.hpp"
#include "wire.hpp"

namespace ibguard {

struct LoadOptions {
  bool dry_run = false;
  // Refuse (ExitCode::conflict) unless the active generation is this one.
  std::optional<std::uint64_t> expected_generation;
  // Re-decide live QPs against the new policy (false: they keep going).
  bool revoke = true;
};

// The error for a load whose answer to the commit was lost, from the active
// generation before the commit and after it (unset: unreadable). The kernel
// ends the staging whatever it answers, so the generation is what tells.
Error lost_commit_error(const AnswerLost& lost, bool dry_run, std::optional<std::uint64_t> before,
                        std::optional<std::uint64_t> after);

// The status read after a commit the kernel acknowledged. The policy is in
// force whatever that read does, so its failure is no failure of `load` or
// `flush`: nullopt, with the reason in `why`.
std::optional<Status> status_after_commit(const std::function<Status()>& read, std::string& why);

// What `load` and `flush` print after the commit; the generation is said to
// be unknown when the status could not be read.
std::string loaded_report(std::string_view file, const std::optional<Status>& after,
                          std::string_view rules);
std::string flushed_report(const std::optional<Status>& after);

class Client {
 public:
  // Connects and finds the family; throws Error(module_not_loaded) with a
  // hint when the module is not loaded.
  Client();

  Status status();

  // Loads policy atomically: every rule or none. A rule the kernel rejects
  // is reported at its source location. Returns the status as the load
  // began staging (from then on no other load can commit), unset for a dry
  // run or when it could not be read.
  std::optional<Status> load(const policy::Policy& policy, const LoadOptions& options);
  // Every rule removed, every default allow; the mode is unchanged. Returns
  // what load() does.
  std::optional<Status> flush();
  void set_mode(Mode mode);
  void reset_stats();
  void lock();

  LoadedPolicy policy();
  Stats stats(bool with_rules);

  std::uint32_t events_group() const;

 private:
  nl::Message request(std::uint8_t cmd, std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK) const;
  // Unset when the status cannot be read.
  std::optional<Status> readable_status();
  // Runs a dump, retrying when a policy load interrupts it.
  void dump(std::uint8_t cmd, const std::function<void(nl::Message&)>& fill,
            const std::function<void()>& reset, const nl::Socket::Handler& on_reply,
            std::string_view context);

  nl::Socket socket_;
  nl::Family family_;
};

}  // namespace ibguard
