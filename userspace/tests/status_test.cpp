#include "status.hpp"

#include <gtest/gtest.h>
#include <linux/ibguard.h>

#include "error.hpp"
#include "netlink.hpp"

namespace ibguard {
namespace {

nl::Message status_reply(std::uint8_t mode, bool with_generation = true, bool locked = false) {
  nl::Message msg(0x20, IBGUARD_CMD_GET_STATUS, IBGUARD_GENL_VERSION, 0);
  msg.put_string(IBGUARD_ATTR_MODULE_VERSION, "0.1.0");
  msg.put_u32(IBGUARD_ATTR_PROTOCOL_VERSION, 1);
  msg.put_u8(IBGUARD_ATTR_MODE, mode);
  if (with_generation) msg.put_u64(IBGUARD_ATTR_GENERATION, 42);
  msg.put_u32(IBGUARD_ATTR_RULE_COUNT, 3);
  msg.put_u64(IBGUARD_ATTR_MEMORY, 4096);
  msg.put_u64(IBGUARD_ATTR_STAGING_MEMORY, 0);
  msg.put_u32(IBGUARD_ATTR_HOOKS, 1u << IBGUARD_CLASS_MAP);
  msg.put_u32(IBGUARD_ATTR_AVAILABLE, (1u << IBGUARD_CLASS_MAP) | (1u << IBGUARD_CLASS_PKEY));
  msg.put_u64(IBGUARD_ATTR_EVENTS_DROPPED, 7);
  msg.put_u64(IBGUARD_ATTR_AUDIT_DROPPED, 2);
  msg.put_u8(IBGUARD_ATTR_LOCKED, locked);
  return msg;
}

TEST(Status, ParsesEveryField) {
  auto msg = status_reply(IBGUARD_MODE_PERMISSIVE);
  auto status = Status::from_reply(*msg.header());
  EXPECT_EQ(status.module_version, "0.1.0");
  EXPECT_EQ(status.protocol_version, 1u);
  EXPECT_EQ(status.mode, Mode::permissive);
  EXPECT_EQ(status.generation, 42u);
  EXPECT_EQ(status.rules, 3u);
  EXPECT_EQ(status.memory, 4096u);
  EXPECT_EQ(status.staging_memory, 0u);
  EXPECT_EQ(status.attached_classes(), std::vector<std::string>{"map"});
  EXPECT_EQ(status.available_classes(), (std::vector<std::string>{"pkey", "map"}));
  EXPECT_EQ(status.events_dropped, 7u);
  EXPECT_EQ(status.audit_dropped, 2u);
  EXPECT_FALSE(status.locked);
}

TEST(Status, LockedShowsWhatItRefuses) {
  auto msg = status_reply(IBGUARD_MODE_ENFORCING, true, true);
  auto status = Status::from_reply(*msg.header());
  EXPECT_TRUE(status.locked);
  EXPECT_NE(status.to_text().find(
                "locked:            yes (until reboot: no rmmod, permissive mode or flush)\n"),
            std::string::npos);
  EXPECT_EQ(status.to_json()["locked"], true);
}

TEST(Status, TextOutput) {
  auto msg = status_reply(IBGUARD_MODE_ENFORCING);
  EXPECT_EQ(Status::from_reply(*msg.header()).to_text(),
            "module version:    0.1.0\n"
            "protocol version:  1\n"
            "mode:              enforcing\n"
            "locked:            no\n"
            "policy generation: 42\n"
            "rules:             3\n"
            "policy memory:     4096 bytes\n"
            "staging memory:    0 bytes\n"
            "classes available: pkey map\n"
            "hooks attached:    map\n"
            "events dropped:    7\n"
            "audit dropped:     2\n");
}

TEST(Status, JsonOutputHasSchemaVersionFirst) {
  auto msg = status_reply(IBGUARD_MODE_ENFORCING);
  EXPECT_EQ(
      Status::from_reply(*msg.header()).to_json().dump(),
      R"({"schema_version":1,"module_version":"0.1.0","protocol_version":1,)"
      R"("mode":"enforcing","locked":false,"generation":42,"rules":3,"memory":4096,"staging_memory":0,)"
      R"("available":["pkey","map"],"hooks":["map"],"events_dropped":7,"audit_dropped":2})");
}

TEST(Status, RejectsUnknownMode) {
  auto msg = status_reply(7);
  try {
    Status::from_reply(*msg.header());
    FAIL() << "accepted mode 7";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_STREQ(e.what(), "the module reports an unknown mode 7");
  }
}

TEST(Status, RejectsMissingAttribute) {
  auto msg = status_reply(IBGUARD_MODE_ENFORCING, false);
  try {
    Status::from_reply(*msg.header());
    FAIL() << "accepted a reply without a generation";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "malformed reply from the kernel: attribute " +
                                         std::to_string(IBGUARD_ATTR_GENERATION) + " missing");
  }
}

TEST(Message, GrowsBeyondItsInitialBuffer) {
  nl::Message msg(0x20, IBGUARD_CMD_GET_STATUS, IBGUARD_GENL_VERSION);
  std::string big(60000, 'x');
  msg.put_string(IBGUARD_ATTR_MODULE_VERSION, big);
  msg.put_u32(IBGUARD_ATTR_PROTOCOL_VERSION, 9);
  EXPECT_GT(msg.size(), 60000u);
  auto attrs = nl::Attributes::of_genl(*msg.header(), IBGUARD_ATTR_MAX);
  EXPECT_EQ(attrs.str(IBGUARD_ATTR_MODULE_VERSION), big);
  EXPECT_EQ(attrs.u32(IBGUARD_ATTR_PROTOCOL_VERSION), 9u);
}

TEST(Message, RefusesAnAttributeOver64KiB) {
  nl::Message msg(0x20, IBGUARD_CMD_GET_STATUS, IBGUARD_GENL_VERSION);
  try {
    msg.put_string(IBGUARD_ATTR_MODULE_VERSION, std::string(70000, 'x'));
    FAIL() << "accepted a 70000-byte attribute";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
  }
}

}  // namespace
}  // namespace ibguard
