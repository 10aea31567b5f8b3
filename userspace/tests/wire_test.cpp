// Rules as they go to the kernel: the attributes put_rule() builds parse back.
#include "wire.hpp"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/ibguard.h>

#include <vector>

#include "error.hpp"

namespace ibguard {
namespace {

// The attributes directly inside a nest, as the kernel's nla_for_each_nested
// walks them (a wrong nla_len ends the walk early or makes it skip).
std::vector<const nlattr*> nested(const nlattr& nest) {
  std::vector<const nlattr*> attrs;
  auto* attr = static_cast<const nlattr*>(mnl_attr_get_payload(&nest));
  for (int left = static_cast<int>(mnl_attr_get_payload_len(&nest)); mnl_attr_ok(attr, left);
       attr = mnl_attr_next(attr)) {
    attrs.push_back(attr);
    left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
  }
  return attrs;
}

// 600 uid subjects encode to more than the message's first buffer (8 KiB):
// the buffer grows while the rule's nest and a subject's nest are open.
TEST(PutRule, RuleOutgrowingTheFirstBufferParsesBack) {
  constexpr std::uint32_t subjects = 600;
  policy::Rule rule;
  rule.cls = policy::Class::pkey;
  rule.source = "pkey any allow";
  for (std::uint32_t uid = 0; uid < subjects; ++uid) {
    rule.source += " uid " + std::to_string(uid);
    rule.subjects.push_back({.type = policy::Subject::Type::uid, .lo = uid, .hi = uid});
  }
  nl::Message msg(0x20, IBGUARD_CMD_POLICY_ADD, IBGUARD_GENL_VERSION);
  put_rule(msg, rule);

  std::vector<const nlattr*> top;
  nl::for_each_attr(*msg.header(), [&](const nlattr& attr) { top.push_back(&attr); });
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(mnl_attr_get_type(top[0]), IBGUARD_ATTR_RULE);
  EXPECT_EQ(top[0]->nla_len, msg.payload_size());

  std::uint32_t uid = 0;
  for (const nlattr* attr : nested(*top[0])) {
    if (mnl_attr_get_type(attr) != IBGUARD_RULE_SUBJECT) continue;
    EXPECT_EQ(attr->nla_len, MNL_ATTR_HDRLEN + 3 * MNL_ALIGN(MNL_ATTR_HDRLEN + 4));
    auto subject = nl::Attributes::of_nest(*attr, IBGUARD_SUBJ_ATTR_MAX);
    EXPECT_EQ(subject.u8(IBGUARD_SUBJ_TYPE), IBGUARD_SUBJ_UID);
    EXPECT_EQ(subject.u32(IBGUARD_SUBJ_LO), uid);
    EXPECT_EQ(subject.u32(IBGUARD_SUBJ_HI), uid);
    ++uid;
  }
  EXPECT_EQ(uid, subjects);
  auto attrs = nl::Attributes::of_nest(*top[0], IBGUARD_RULE_MAX);
  EXPECT_EQ(attrs.str(IBGUARD_RULE_SOURCE), rule.source);
  EXPECT_EQ(attrs.u16(IBGUARD_RULE_PKEY_HI), 0xffff);
}

// nla_len is 16 bits: a longer nest must not be cut to its low bits.
TEST(Message, RefusesANestOver64KiB) {
  nl::Message msg(0x20, IBGUARD_CMD_POLICY_ADD, IBGUARD_GENL_VERSION);
  auto nest = msg.begin_nest(IBGUARD_ATTR_RULE);
  for (int i = 0; i < 6000; ++i) msg.put_u64(IBGUARD_RULE_INO, 1);  // 12 bytes each
  try {
    msg.end_nest(nest);
    FAIL() << "closed a nest of 72000 bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_STREQ(e.what(), "a netlink attribute of 72000 bytes does not fit in 64 KiB");
  }
}

}  // namespace
}  // namespace ibguard
