#include "client.hpp"

#include <linux/ibguard.h>

#include "error.hpp"

namespace ibguard {

Client::Client() {
  if (!nl::resolve_family(socket_, IBGUARD_GENL_NAME, family_))
    throw Error(
        ExitCode::module_not_loaded, "the ibguard kernel module is not loaded",
        "load it with 'modprobe ibguard' (or 'insmod build/ibguard.ko' from the source tree)");
}

nl::Message Client::request(std::uint8_t cmd, std::uint16_t flags) const {
  return nl::Message(family_.id, cmd, IBGUARD_GENL_VERSION, flags);
}

Status Client::status() {
  auto msg = request(IBGUARD_CMD_GET_STATUS);
  Status status;
  socket_.transact(
      msg, [&](const nlmsghdr& reply) { status = Status::from_reply(reply); },
      "reading the module status");
  return status;
}

}  // namespace ibguard
