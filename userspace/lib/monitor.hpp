// Receiving the module's events from the "events" multicast group.
#pragma once

#include <functional>

#include "client.hpp"
#include "netlink.hpp"
#include "wire.hpp"

namespace ibguard {

class Monitor {
 public:
  // Joins the events group; needs CAP_NET_ADMIN.
  explicit Monitor(const Client& client);

  // Delivers events to on_event until it returns false or stop() is true.
  // A receive-buffer overrun (events lost) is reported to on_overrun and
  // the monitor goes on.
  void run(const std::function<bool(const Event&)>& on_event,
           const std::function<void()>& on_overrun, const std::function<bool()>& stop);

 private:
  nl::Socket socket_;
};

}  // namespace ibguard
