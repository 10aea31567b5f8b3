// The monitor's delivery of received events: one event that cannot be read
// is reported and skipped, the others still arrive.
#include "monitor.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/ibguard.h>

#include <string>
#include <vector>

#include "error.hpp"

namespace ibguard {
namespace {

// A denial event as the module multicasts it, of class cls.
nl::Message denial(std::uint8_t cls, std::uint32_t pid) {
  nl::Message msg(0x20, IBGUARD_CMD_EVENT, IBGUARD_GENL_VERSION, 0);
  const auto nest = msg.begin_nest(IBGUARD_ATTR_EVENT);
  msg.put_u8(IBGUARD_EVENT_TYPE, IBGUARD_EVENT_DENIED);
  msg.put_u8(IBGUARD_EVENT_CLASS, cls);
  msg.put_u8(IBGUARD_EVENT_VERDICT, IBGUARD_VERDICT_DENY);
  msg.put_u32(IBGUARD_EVENT_PID, pid);
  msg.put_string(IBGUARD_EVENT_COMM, "app");
  msg.end_nest(nest);
  return msg;
}

// Messages back to back, as one recv() returns them.
std::string batch(const std::vector<nl::Message>& messages) {
  std::string bytes;
  for (const auto& msg : messages)
    bytes.append(reinterpret_cast<const char*>(msg.header()), msg.size());
  return bytes;
}

TEST(DeliverEvents, AnUnreadableEventIsReportedAndSkipped) {
  std::vector<nl::Message> messages;
  messages.push_back(denial(IBGUARD_CLASS_MAP, 1));
  messages.push_back(denial(IBGUARD_CLASS_MAX + 1, 2));  // a class this tool does not know
  messages.push_back(denial(IBGUARD_CLASS_PKEY, 3));
  const std::string bytes = batch(messages);
  std::vector<std::uint32_t> delivered;
  std::vector<std::string> unreadable;
  const bool go_on = deliver_events(
      bytes.data(), bytes.size(),
      [&](const Event& event) {
        delivered.push_back(event.pid);
        return true;
      },
      [&](const Error& e) { unreadable.emplace_back(e.what()); });
  EXPECT_TRUE(go_on);
  EXPECT_EQ(delivered, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(unreadable, std::vector<std::string>{fmt::format("the module reports unknown class {}",
                                                             IBGUARD_CLASS_MAX + 1)});
}

TEST(DeliverEvents, StopsWhenAsked) {
  std::vector<nl::Message> messages;
  messages.push_back(denial(IBGUARD_CLASS_MAP, 1));
  messages.push_back(denial(IBGUARD_CLASS_MAP, 2));
  const std::string bytes = batch(messages);
  std::vector<std::uint32_t> delivered;
  EXPECT_FALSE(deliver_events(
      bytes.data(), bytes.size(),
      [&](const Event& event) {
        delivered.push_back(event.pid);
        return false;
      },
      [](const Error&) { FAIL(); }));
  EXPECT_EQ(delivered, std::vector<std::uint32_t>{1});
}

}  // namespace
}  // namespace ibguard
