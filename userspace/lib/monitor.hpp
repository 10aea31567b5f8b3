// Receiving the module's events from the "events" multicast group.
#pragma once

#include <functional>

#include "client.hpp"
#include "error.hpp"
#include "netlink.hpp"
#include "wire.hpp"

namespace ibguard {

// Hands the events among len bytes of netlink messages (what one recv()
// returns) to on_event until it returns false, and then returns false. An
// event that cannot be read (a class or verdict this tool does not know, a
// missing attribute) goes to on_unreadable and the others still arrive: one
// bad event must not end a monitor.
bool deliver_events(const void* data, std::size_t len,
                    const std::function<bool(const Event&)>& on_event,
                    const std::function<void(const Error&)>& on_unreadable);

class Monitor {
 public:
  // Joins the events group; needs CAP_NET_ADMIN.
  explicit Monitor(const Client& client);

  // Delivers events to on_event until it returns false or stop() is true.
  // A receive-buffer overrun (events lost) is reported to on_overrun, an
  // event that cannot be read to on_unreadable, and the monitor goes on.
  void run(const std::function<bool(const Event&)>& on_event,
           const std::function<void()>& on_overrun,
           const std::function<void(const Error&)>& on_unreadable,
           const std::function<bool()>& stop);

 private:
  nl::Socket socket_;
};

}  // namespace ibguard
