#include "status.hpp"

#include <gtest/gtest.h>
#include <linux/ibguard.h>

#include "error.hpp"
#include "netlink.hpp"

namespace ibguard {
namespace {

nl::Message status_reply(std::uint8_t mode, bool with_generation = true, bool locked = false,
                         std::uint32_t hooks = 1u << IBGUARD_CLASS_MAP) {
  nl::Message msg(0x20, IBGUARD_CMD_GET_STATUS, IBGUARD_GENL_VERSION, 0);
  msg.put_string(IBGUARD_ATTR_MODULE_VERSION, "0.1.0");
  msg.put_u32(IBGUARD_ATTR_PROTOCOL_VERSION, 1);
  msg.put_u8(IBGUARD_ATTR_MODE, mode);
  if (with_generation) msg.put_u64(IBGUARD_ATTR_GENERATION, 42);
  msg.put_u32(IBGUARD_ATTR_RULE_COUNT, 3);
  msg.put_u64(IBGUARD_ATTR_MEMORY, 4096);
  msg.put_u64(IBGUARD_ATTR_STAGING_MEMORY, 0);
  msg.put_u32(IBGUARD_ATTR_HOOKS, hooks);
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
      R"("available":["pkey","map"],"hooks":["map"],"followed":null,"events_dropped":7,)"
      R"("audit_dropped":2})");
}

// The InfiniBand part loaded: how many live objects a load would revalidate.
nl::Message status_with_followed(std::uint32_t hooks, std::uint32_t qps, std::uint32_t agents) {
  auto msg = status_reply(IBGUARD_MODE_ENFORCING, true, false, hooks);
  msg.put_u32(IBGUARD_ATTR_FOLLOWED_QPS, qps);
  msg.put_u32(IBGUARD_ATTR_FOLLOWED_AGENTS, agents);
  return msg;
}

constexpr std::uint32_t ib_hooks = (1u << IBGUARD_CLASS_PKEY) | (1u << IBGUARD_CLASS_ENDPORT);

TEST(Status, FollowedLiveObjects) {
  auto msg = status_with_followed(ib_hooks, 12, 1);
  auto status = Status::from_reply(*msg.header());
  ASSERT_TRUE(status.followed);
  EXPECT_EQ(status.followed->qps, 12u);
  EXPECT_EQ(status.followed->agents, 1u);
  EXPECT_NE(status.to_text().find("hooks attached:    pkey endport\n"
                                  "live objects:      12 QPs, 1 subnet-management agent followed\n"
                                  "events dropped:    7\n"),
            std::string::npos)
      << status.to_text();
  EXPECT_EQ(status.to_json()["followed"].dump(), R"({"qps":12,"agents":1})");

  auto one = status_with_followed(ib_hooks, 1, 0);
  EXPECT_NE(Status::from_reply(*one.header())
                .to_text()
                .find("live objects:      1 QP, 0 subnet-management agents followed\n"),
            std::string::npos);
}

Status parsed(const nl::Message& msg) { return Status::from_reply(*msg.header()); }

TEST(LiveObjectsNote, AttachingTellsHowExistingObjectsAreAdopted) {
  auto before = status_with_followed(0, 0, 0);
  auto after = status_with_followed(ib_hooks, 0, 0);
  EXPECT_EQ(live_objects_note(parsed(before), parsed(after)),
            "the pkey and endport hooks are attached from now on: the QPs that exist are adopted "
            "and followed, subnet-management agents registered before from their next send");
}

TEST(LiveObjectsNote, DetachingCountsWhatIsForgotten) {
  auto before = status_with_followed(ib_hooks, 3, 1);
  auto after = status_with_followed(0, 0, 0);
  EXPECT_EQ(live_objects_note(parsed(before), parsed(after)),
            "the pkey and endport hooks are detached (no pkey or endport rule, no deny default): "
            "ibguard no longer follows the 3 QPs and 1 subnet-management agent it followed; a "
            "policy that attaches the hooks again adopts the QPs that exist then, and the agents "
            "at their next send");
}

TEST(LiveObjectsNote, NothingToSayOtherwise) {
  auto attached = status_with_followed(ib_hooks, 3, 1);
  auto detached_empty = status_with_followed(ib_hooks, 0, 0);
  auto detached = status_with_followed(0, 0, 0);
  auto without_ib = status_reply(IBGUARD_MODE_ENFORCING);
  EXPECT_EQ(live_objects_note(parsed(attached), parsed(attached)), std::nullopt);
  EXPECT_EQ(live_objects_note(parsed(detached), parsed(detached)), std::nullopt);
  // Nothing was followed: nothing is lost.
  EXPECT_EQ(live_objects_note(parsed(detached_empty), parsed(detached)), std::nullopt);
  EXPECT_EQ(live_objects_note(parsed(without_ib), parsed(without_ib)), std::nullopt);
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
