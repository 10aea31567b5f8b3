// A connection to the ibguard kernel module.
#pragma once

#include "netlink.hpp"
#include "status.hpp"

namespace ibguard {

class Client {
 public:
  // Connects and finds the family; throws Error(module_not_loaded) with a
  // hint when the module is not loaded.
  Client();

  Status status();

 private:
  nl::Message request(std::uint8_t cmd, std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK) const;

  nl::Socket socket_;
  nl::Family family_;
};

}  // namespace ibguard
