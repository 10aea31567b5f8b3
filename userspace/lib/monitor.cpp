#include "monitor.hpp"

#include <linux/ibguard.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "error.hpp"

namespace ibguard {

Monitor::Monitor(const Client& client) {
  socket_.join_group(client.events_group());
  // A larger buffer rides out bursts; overruns are still reported.
  int size = 1 << 20;
  setsockopt(socket_.fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

bool deliver_events(const void* data, std::size_t len,
                    const std::function<bool(const Event&)>& on_event,
                    const std::function<void(const Error&)>& on_unreadable) {
  auto* msg = static_cast<const nlmsghdr*>(data);
  int remaining = static_cast<int>(len);
  for (; mnl_nlmsg_ok(msg, remaining); msg = mnl_nlmsg_next(msg, &remaining)) {
    if (msg->nlmsg_type < NLMSG_MIN_TYPE) continue;
    const auto* genl = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(msg));
    if (genl->cmd != IBGUARD_CMD_EVENT) continue;
    std::optional<Event> event;
    try {
      event = Event::from_message(*msg);
    } catch (const Error& e) {
      on_unreadable(e);
      continue;
    }
    if (!on_event(*event)) return false;
  }
  return true;
}

void Monitor::run(const std::function<bool(const Event&)>& on_event,
                  const std::function<void()>& on_overrun,
                  const std::function<void(const Error&)>& on_unreadable,
                  const std::function<bool()>& stop) {
  std::vector<char> buffer(1 << 16);
  while (!stop()) {
    pollfd pfd{socket_.fd(), POLLIN, 0};
    int ready = poll(&pfd, 1, 200);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_system_error("waiting for events", errno);
    }
    if (ready == 0) continue;
    ssize_t len = recv(socket_.fd(), buffer.data(), buffer.size(), 0);
    if (len < 0) {
      if (errno == ENOBUFS) {
        on_overrun();
        continue;
      }
      if (errno == EINTR) continue;
      throw_system_error("receiving events", errno);
    }
    if (!deliver_events(buffer.data(), static_cast<std::size_t>(len), on_event, on_unreadable))
      return;
  }
}

}  // namespace ibguard
