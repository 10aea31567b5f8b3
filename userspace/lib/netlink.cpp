#include "netlink.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace ibguard::nl {

namespace {

constexpr std::size_t initial_message_size = 8192;
constexpr std::size_t receive_buffer_size = 32768;

// Calls fn for every attribute in [data, data + len).
template <typename Fn>
void for_each_attr(const void* data, std::size_t len, Fn&& fn) {
  auto* attr = static_cast<const nlattr*>(data);
  int remaining = static_cast<int>(len);
  while (mnl_attr_ok(attr, remaining)) {
    fn(*attr);
    remaining -= static_cast<int>(MNL_ALIGN(attr->nla_len));
    attr = mnl_attr_next(attr);
  }
}

// Reads the extended ACK that follows the echoed request in an NLMSG_ERROR.
void parse_ext_ack(const nlmsghdr& msg, std::string& text, std::uint32_t& offset) {
  if (!(msg.nlmsg_flags & NLM_F_ACK_TLVS)) return;
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(&msg));
  std::size_t echoed = (msg.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : err->msg.nlmsg_len;
  std::size_t tlv_offset = sizeof(nlmsghdr) + sizeof(int) + MNL_ALIGN(echoed);
  if (tlv_offset >= msg.nlmsg_len) return;
  auto* base = reinterpret_cast<const char*>(&msg);
  for_each_attr(base + tlv_offset, msg.nlmsg_len - tlv_offset, [&](const nlattr& attr) {
    switch (mnl_attr_get_type(&attr)) {
      case NLMSGERR_ATTR_MSG:
        if (mnl_attr_validate(&attr, MNL_TYPE_NUL_STRING) == 0) text = mnl_attr_get_str(&attr);
        break;
      case NLMSGERR_ATTR_OFFS:
        if (mnl_attr_validate(&attr, MNL_TYPE_U32) == 0) offset = mnl_attr_get_u32(&attr);
        break;
    }
  });
}

}  // namespace

Message::Message(std::uint16_t family_id, std::uint8_t cmd, std::uint8_t version,
                 std::uint16_t flags)
    : buffer_(initial_message_size / sizeof(std::uint64_t), 0) {
  header_ = mnl_nlmsg_put_header(buffer_.data());
  header_->nlmsg_type = family_id;
  header_->nlmsg_flags = flags;
  auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(header_, sizeof(genlmsghdr)));
  genl->cmd = cmd;
  genl->version = version;
}

void Message::require(std::size_t payload) {
  if (MNL_ATTR_HDRLEN + payload > UINT16_MAX)
    throw Error(ExitCode::invalid_input,
                fmt::format("a netlink attribute of {} bytes does not fit in 64 KiB", payload));
  reserve(header_->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(payload));
}

void Message::reserve(std::size_t needed) {
  if (needed <= capacity()) return;
  auto used = header_->nlmsg_len;
  std::vector<std::uint64_t> bigger(
      (needed * 2 + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t), 0);
  std::memcpy(bigger.data(), buffer_.data(), used);
  buffer_ = std::move(bigger);
  header_ = reinterpret_cast<nlmsghdr*>(buffer_.data());
}

void Message::put_u8(std::uint16_t type, std::uint8_t value) {
  require(sizeof(value));
  mnl_attr_put_u8(header_, type, value);
}

void Message::put_u16(std::uint16_t type, std::uint16_t value) {
  require(sizeof(value));
  mnl_attr_put_u16(header_, type, value);
}

void Message::put_flag(std::uint16_t type) {
  require(0);
  mnl_attr_put(header_, type, 0, nullptr);
}

void Message::append(const void* data, std::size_t len) {
  if (len == 0) return;
  reserve(header_->nlmsg_len + MNL_ALIGN(len));
  std::memcpy(reinterpret_cast<char*>(header_) + header_->nlmsg_len, data, len);
  header_->nlmsg_len += MNL_ALIGN(len);
}

const char* Message::payload() const noexcept {
  return reinterpret_cast<const char*>(header_) + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(genlmsghdr));
}

std::size_t Message::payload_size() const noexcept {
  return header_->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(genlmsghdr));
}

void for_each_attr(const nlmsghdr& msg, const std::function<void(const nlattr&)>& fn) {
  std::size_t header = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(genlmsghdr));
  if (msg.nlmsg_len < header) return;
  for_each_attr(reinterpret_cast<const char*>(&msg) + header, msg.nlmsg_len - header, fn);
}

void Message::put_u32(std::uint16_t type, std::uint32_t value) {
  require(sizeof(value));
  mnl_attr_put_u32(header_, type, value);
}

void Message::put_u64(std::uint16_t type, std::uint64_t value) {
  require(sizeof(value));
  mnl_attr_put_u64(header_, type, value);
}

void Message::put_string(std::uint16_t type, std::string_view value) {
  require(value.size() + 1);
  std::string copy(value);
  mnl_attr_put_strz(header_, type, copy.c_str());
}

Message::Nest Message::begin_nest(std::uint16_t type) {
  require(0);
  const nlattr* nest = mnl_attr_nest_start(header_, type);
  return Nest{static_cast<std::size_t>(reinterpret_cast<const char*>(nest) -
                                       reinterpret_cast<const char*>(header_))};
}

void Message::end_nest(Nest nest) {
  const std::size_t length = header_->nlmsg_len - nest.offset;
  if (length > UINT16_MAX)
    throw Error(ExitCode::invalid_input,
                fmt::format("a netlink attribute of {} bytes does not fit in 64 KiB",
                            length - MNL_ATTR_HDRLEN));
  auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(header_) + nest.offset);
  attr->nla_len = static_cast<std::uint16_t>(length);
}

Attributes Attributes::of_genl(const nlmsghdr& msg, std::uint16_t max) {
  Attributes attrs(max);
  for_each_attr(msg, [&](const nlattr& attr) { attrs.store(attr); });
  return attrs;
}

Attributes Attributes::of_nest(const nlattr& nest, std::uint16_t max) {
  Attributes attrs(max);
  for_each_attr(mnl_attr_get_payload(&nest), mnl_attr_get_payload_len(&nest),
                [&](const nlattr& attr) { attrs.store(attr); });
  return attrs;
}

void Attributes::store(const nlattr& attr) {
  auto type = mnl_attr_get_type(&attr);
  if (type < table_.size()) table_[type] = &attr;
}

const nlattr& Attributes::require(std::uint16_t type, int mnl_type) const {
  const nlattr* attr = (*this)[type];
  if (!attr)
    throw Error(ExitCode::invalid_input,
                fmt::format("malformed reply from the kernel: attribute {} missing", type));
  if (mnl_attr_validate(attr, static_cast<mnl_attr_data_type>(mnl_type)) < 0)
    throw Error(ExitCode::invalid_input,
                fmt::format("malformed reply from the kernel: attribute {} has a bad size", type));
  return *attr;
}

std::uint8_t Attributes::u8(std::uint16_t type) const {
  return mnl_attr_get_u8(&require(type, MNL_TYPE_U8));
}

std::uint16_t Attributes::u16(std::uint16_t type) const {
  return mnl_attr_get_u16(&require(type, MNL_TYPE_U16));
}

std::uint32_t Attributes::u32(std::uint16_t type) const {
  return mnl_attr_get_u32(&require(type, MNL_TYPE_U32));
}

std::uint64_t Attributes::u64(std::uint16_t type) const {
  return mnl_attr_get_u64(&require(type, MNL_TYPE_U64));
}

std::string Attributes::str(std::uint16_t type) const {
  return mnl_attr_get_str(&require(type, MNL_TYPE_NUL_STRING));
}

Socket::Socket() : socket_(mnl_socket_open(NETLINK_GENERIC)) {
  if (!socket_) throw_system_error("cannot open a generic netlink socket", errno);
  int on = 1;
  // Extended ACKs carry the kernel's reason; capped ACKs keep them short.
  setsockopt(fd(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
  setsockopt(fd(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw_system_error("cannot bind a generic netlink socket", errno);
  portid_ = mnl_socket_get_portid(socket_.get());
}

void Socket::join_group(std::uint32_t group) {
  if (setsockopt(fd(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
    throw KernelError(errno, "cannot join the ibguard events group");
}

void Socket::transact(Message& msg, const Handler& on_reply, std::string_view context) {
  nlmsghdr* request = msg.header();
  request->nlmsg_seq = next_seq_++;
  if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0)
    throw KernelError(errno, std::string(context));
  static const Handler ignore = [](const nlmsghdr&) {};
  const Handler& handle = on_reply ? on_reply : ignore;

  std::vector<char> buffer(receive_buffer_size);
  for (;;) {
    ssize_t len = mnl_socket_recvfrom(socket_.get(), buffer.data(), buffer.size());
    if (len < 0 && errno == EINTR) continue;
    if (len < 0) throw AnswerLost(errno, std::string(context));
    auto* reply = reinterpret_cast<const nlmsghdr*>(buffer.data());
    int remaining = static_cast<int>(len);
    for (; mnl_nlmsg_ok(reply, remaining); reply = mnl_nlmsg_next(reply, &remaining)) {
      if (reply->nlmsg_seq != request->nlmsg_seq || reply->nlmsg_pid != portid_) continue;
      if (reply->nlmsg_type == NLMSG_DONE) {
        // A dump that failed part-way says so in its DONE message.
        int status = 0;
        if (mnl_nlmsg_get_payload_len(reply) >= sizeof(status))
          std::memcpy(&status, mnl_nlmsg_get_payload(reply), sizeof(status));
        if (status < 0) throw KernelError(-status, std::string(context));
        return;
      }
      if (reply->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
        if (err->error == 0) return;
        std::string ext_text;
        std::uint32_t ext_offset = 0;
        parse_ext_ack(*reply, ext_text, ext_offset);
        throw KernelError(-err->error, std::string(context), ext_text, ext_offset);
      }
      if (reply->nlmsg_type < NLMSG_MIN_TYPE) continue;
      handle(*reply);
      // A plain request without NLM_F_ACK ends with its single reply.
      if (!(request->nlmsg_flags & (NLM_F_ACK | NLM_F_DUMP))) return;
    }
  }
}

bool resolve_family(Socket& socket, const char* name, Family& family) {
  Message msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
  msg.put_string(CTRL_ATTR_FAMILY_NAME, name);
  try {
    socket.transact(
        msg,
        [&](const nlmsghdr& reply) {
          auto attrs = Attributes::of_genl(reply, CTRL_ATTR_MAX);
          family.id = attrs.u16(CTRL_ATTR_FAMILY_ID);
          if (attrs.has(CTRL_ATTR_VERSION)) family.version = attrs.u32(CTRL_ATTR_VERSION);
          if (const nlattr* groups = attrs[CTRL_ATTR_MCAST_GROUPS]) {
            for_each_attr(mnl_attr_get_payload(groups), mnl_attr_get_payload_len(groups),
                          [&](const nlattr& group) {
                            auto g = Attributes::of_nest(group, CTRL_ATTR_MCAST_GRP_MAX);
                            if (g.has(CTRL_ATTR_MCAST_GRP_NAME) && g.has(CTRL_ATTR_MCAST_GRP_ID))
                              family.groups[g.str(CTRL_ATTR_MCAST_GRP_NAME)] =
                                  g.u32(CTRL_ATTR_MCAST_GRP_ID);
                          });
          }
        },
        "looking up the ibguard netlink family");
  } catch (const KernelError& e) {
    if (e.errnum() == ENOENT) return false;
    throw;
  }
  return family.id != 0;
}

}  // namespace ibguard::nl
