// Regression tests for what userspace/fuzz/policy_parser_fuzz found in the
// policy compiler.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy.hpp"

namespace ibguard::policy {
namespace {

using namespace std::string_literals;

// Resolves every name, and remembers the names it was asked for.
class RecordingResolver : public Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string& name, std::string&) const override {
    names.push_back(name);
    return 1000;
  }
  std::optional<std::uint32_t> group(const std::string& name, std::string&) const override {
    names.push_back(name);
    return 300;
  }
  std::optional<FileId> file(const std::string& path, std::string&) const override {
    names.push_back(path);
    return FileId{kernel_dev(8, 1), 42, false, true};
  }
  std::optional<std::uint64_t> cgroup(const std::string& path, std::string&) const override {
    names.push_back(path);
    return 7;
  }

  mutable std::vector<std::string> names;
};

struct Case {
  std::string text;
  unsigned column;
  std::string message;
};

const std::string kNul = "unexpected NUL character";
const std::string kCr = "unexpected carriage return (lines end with LF or CR LF)";

// A NUL inside a token used to be accepted: the name was then cut short at
// the NUL by the C library (SystemResolver: stat(2), getpwnam_r(3)), and the
// rule's source by the netlink string attribute, so the policy meant another
// file or user than the one written.
TEST(PolicyFuzzRegress, NulInATokenIsAnError) {
  const std::vector<Case> cases = {
      {"map path /etc/passwd\0x deny"s, 21, kNul},
      {"map path \"/etc/passwd\0x\" deny"s, 22, kNul},
      {"map fs tmpfs deny user root\0x"s, 28, kNul},
      {"map fs tmpfs deny group rdma\0"s, 29, kNul},
      {"map fs tmpfs deny exe \"/bin/sh\0\""s, 31, kNul},
      {"pkey any allow \0"s, 16, kNul},
      {"\0"s, 1, kNul},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.text));
    RecordingResolver resolver;
    const CompileResult result = compile(c.text, "n.conf", resolver);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].message, c.message);
    EXPECT_EQ(result.errors[0].location.column, c.column);
    EXPECT_EQ(result.errors[0].length, 1u);
    EXPECT_TRUE(result.policy.rules.empty());
    EXPECT_TRUE(resolver.names.empty());
  }
}

// A word ending in a carriage return (a CR not followed by LF: "\r\r\n" line
// ends, or a CR before a blank or a comment) used to keep it, so the rule's
// source ended in CR; loaded again as 'ibguardctl show' prints it, that CR
// was taken for the CR of a CR LF line end and dropped: another name.
TEST(PolicyFuzzRegress, CarriageReturnInAWordIsAnError) {
  const std::vector<Case> cases = {
      {"map fs tmpfs deny exe /x\r \n", 25, kCr},
      {"map fs tmpfs deny exe /x\r# comment\n", 25, kCr},
      {"pkey any allow\r\r\n", 15, kCr},
      {"pkey any allow\r\r", 15, kCr},
      {"pkey any allow \r\r\n", 16, kCr},
      {"mode enforcing\rpkey any allow\n", 15, kCr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.text));
    RecordingResolver resolver;
    const CompileResult result = compile(c.text, "r.conf", resolver);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].message, c.message);
    EXPECT_EQ(result.errors[0].location.line, 1u);
    EXPECT_EQ(result.errors[0].location.column, c.column);
    EXPECT_TRUE(result.policy.rules.empty());
  }
}

TEST(PolicyFuzzRegress, CarriageReturnLineEndsAndCommentsStillWork) {
  RecordingResolver resolver;
  const CompileResult result =
      compile("mode enforcing\r\n# a comment with \r and \0 in it\r\r\npkey any allow\r"s, "r.conf",
              resolver);
  EXPECT_TRUE(result.ok());
  ASSERT_EQ(result.policy.rules.size(), 1u);
  EXPECT_EQ(result.policy.rules[0].source, "pkey any allow");
}

// Quoted, a CR is part of the name, and the source (ending in the closing
// quote) compiles again to the same name.
TEST(PolicyFuzzRegress, CarriageReturnInAQuotedNameRoundTrips) {
  RecordingResolver resolver;
  const CompileResult result = compile("map path \"/x\r\" deny\r\n", "r.conf", resolver);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result.policy.rules.size(), 1u);
  const std::string& source = result.policy.rules[0].source;
  EXPECT_EQ(source, "map path \"/x\r\" deny");
  const CompileResult again = compile(source + "\n", "r.conf", resolver);
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(resolver.names, (std::vector<std::string>{"/x\r", "/x\r"}));
}

}  // namespace
}  // namespace ibguard::policy
