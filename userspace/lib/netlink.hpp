// Generic netlink over libmnl, with RAII ownership of the socket and the
// kernel's extended ACKs turned into KernelError.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ibguard::nl {

// A generic netlink message under construction.
class Message {
 public:
  Message(std::uint16_t family_id, std::uint8_t cmd, std::uint8_t version,
          std::uint16_t flags = NLM_F_REQUEST | NLM_F_ACK);

  nlmsghdr* header() noexcept { return header_; }
  const nlmsghdr* header() const noexcept { return header_; }
  std::size_t size() const noexcept { return header_->nlmsg_len; }
  std::size_t capacity() const noexcept { return buffer_.size() * sizeof(buffer_[0]); }

  void put_u8(std::uint16_t type, std::uint8_t value);
  void put_u16(std::uint16_t type, std::uint16_t value);
  void put_flag(std::uint16_t type);
  void put_u32(std::uint16_t type, std::uint32_t value);
  void put_u64(std::uint16_t type, std::uint64_t value);
  void put_string(std::uint16_t type, std::string_view value);

  // An open nest, by its offset: a pointer into the buffer would dangle once
  // an attribute put inside the nest makes the buffer grow.
  struct Nest {
    std::size_t offset;
  };
  Nest begin_nest(std::uint16_t type);
  // Sets the nest's length; raises Error when it exceeds what nla_len holds.
  void end_nest(Nest nest);
  // Appends already-encoded attributes (another message's payload).
  void append(const void* data, std::size_t len);
  // The attributes after the genetlink header.
  const char* payload() const noexcept;
  std::size_t payload_size() const noexcept;

 private:
  void require(std::size_t payload);   // room for one more attribute
  void reserve(std::size_t needed);    // grows the buffer to hold needed bytes
  std::vector<std::uint64_t> buffer_;  // uint64_t: netlink needs aligned storage
  nlmsghdr* header_;
};

// Attributes of one message (or one nest), indexed by type; absent ones are
// null. Types above max are ignored (a newer module may send more).
class Attributes {
 public:
  static Attributes of_genl(const nlmsghdr& msg, std::uint16_t max);
  static Attributes of_nest(const nlattr& nest, std::uint16_t max);

  const nlattr* operator[](std::uint16_t type) const noexcept {
    return type < table_.size() ? table_[type] : nullptr;
  }
  bool has(std::uint16_t type) const noexcept { return (*this)[type] != nullptr; }

  std::uint8_t u8(std::uint16_t type) const;
  std::uint16_t u16(std::uint16_t type) const;
  std::uint32_t u32(std::uint16_t type) const;
  std::uint64_t u64(std::uint16_t type) const;
  std::string str(std::uint16_t type) const;

 private:
  explicit Attributes(std::uint16_t max) : table_(max + 1u, nullptr) {}
  void store(const nlattr& attr);
  const nlattr& require(std::uint16_t type, int mnl_type) const;
  std::vector<const nlattr*> table_;
};

class Socket {
 public:
  using Handler = std::function<void(const nlmsghdr&)>;

  Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&&) noexcept = default;
  Socket& operator=(Socket&&) noexcept = default;
  ~Socket() = default;

  // Sends msg and hands every reply message to on_reply until the kernel's
  // ACK (or the end of a dump). A refusal raises KernelError naming context;
  // an answer that cannot be read, AnswerLost.
  void transact(Message& msg, const Handler& on_reply, std::string_view context);

  void join_group(std::uint32_t group);
  int fd() const noexcept { return mnl_socket_get_fd(socket_.get()); }

 private:
  struct Closer {
    void operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }
  };
  std::unique_ptr<mnl_socket, Closer> socket_;
  std::uint32_t portid_ = 0;
  std::uint32_t next_seq_ = 1;
};

struct Family {
  std::uint16_t id = 0;
  std::uint32_t version = 0;
  std::map<std::string, std::uint32_t> groups;
};

// Calls fn for every top-level attribute of a genetlink message.
void for_each_attr(const nlmsghdr& msg, const std::function<void(const nlattr&)>& fn);

// Looks the family up through the generic netlink controller. Returns false
// when no such family is registered.
bool resolve_family(Socket& socket, const char* name, Family& family);

}  // namespace ibguard::nl
