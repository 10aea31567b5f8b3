#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "policy.hpp"

namespace ibguard::policy {
namespace {

// Deterministic names for the tests.
class FakeResolver : public Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string& name, std::string& error) const override {
    if (auto it = users_.find(name); it != users_.end()) return it->second;
    error = "unknown user '" + name + "'";
    return std::nullopt;
  }
  std::optional<std::uint32_t> group(const std::string& name, std::string& error) const override {
    if (auto it = groups_.find(name); it != groups_.end()) return it->second;
    error = "unknown group '" + name + "'";
    return std::nullopt;
  }
  std::optional<FileId> file(const std::string& path, std::string& error) const override {
    if (auto it = files_.find(path); it != files_.end()) return it->second;
    error = "cannot resolve '" + path + "': No such file or directory";
    return std::nullopt;
  }
  std::optional<std::uint64_t> cgroup(const std::string& path, std::string& error) const override {
    if (auto it = cgroups_.find(path); it != cgroups_.end()) return it->second;
    error = "cannot resolve cgroup '" + path + "': No such file or directory";
    return std::nullopt;
  }

 private:
  std::map<std::string, std::uint32_t> users_{{"root", 0}, {"alice", 1000}, {"1234", 77}};
  std::map<std::string, std::uint32_t> groups_{{"rdma", 300}, {"rdma-b", 301}, {"my group", 302}};
  std::map<std::string, FileId> files_{
      {"/usr/sbin/opensm", {kernel_dev(8, 1), 1001, false, true}},
      {"/srv/untrusted", {kernel_dev(8, 2), 2002, true, false}},
      {"/dev/infiniband/uverbs0", {kernel_dev(0, 5), 3003, false, false}},
      {"/srv/my data #1/lib.so", {kernel_dev(8, 3), 4004, false, true}},
      {"/srv/q\"uote\\d", {kernel_dev(8, 4), 5005, false, true}},
  };
  std::map<std::string, std::uint64_t> cgroups_{{"/tenants/a", 4242}, {"/", 1}};
};

// A resolver that fails without saying why.
class SilentResolver : public Resolver {
 public:
  std::optional<std::uint32_t> user(const std::string&, std::string&) const override {
    return std::nullopt;
  }
  std::optional<std::uint32_t> group(const std::string&, std::string&) const override {
    return std::nullopt;
  }
  std::optional<FileId> file(const std::string&, std::string&) const override {
    return std::nullopt;
  }
  std::optional<std::uint64_t> cgroup(const std::string&, std::string&) const override {
    return std::nullopt;
  }
};

const FakeResolver resolver;

std::string describe(const CompileResult& result) {
  std::string text;
  for (const Diagnostic& d : result.errors) text += format(d);
  return text;
}

CompileResult compile_ok(std::string_view text) {
  CompileResult result = compile(text, "t.conf", resolver);
  EXPECT_TRUE(result.ok()) << describe(result);
  return result;
}

Rule one_rule(std::string_view text) {
  CompileResult result = compile_ok(text);
  EXPECT_EQ(result.policy.rules.size(), 1u);
  if (result.policy.rules.empty()) return Rule{};
  return result.policy.rules.front();
}

Subject one_subject(std::string_view text) {
  const Rule rule = one_rule(text);
  EXPECT_EQ(rule.subjects.size(), 1u);
  if (rule.subjects.empty()) return Subject{};
  return rule.subjects.front();
}

// ---------------------------------------------------------------------------
// Basics

TEST(PolicyBasics, ToString) {
  EXPECT_EQ(to_string(Class::pkey), "pkey");
  EXPECT_EQ(to_string(Class::endport), "endport");
  EXPECT_EQ(to_string(Class::map), "map");
  EXPECT_EQ(to_string(Verdict::allow), "allow");
  EXPECT_EQ(to_string(Verdict::deny), "deny");
}

TEST(PolicyBasics, KernelDev) {
  EXPECT_EQ(kernel_dev(0, 0), 0u);
  EXPECT_EQ(kernel_dev(8, 1), 0x800001u);
  EXPECT_EQ(kernel_dev(231, 192), (231u << 20) | 192u);
  EXPECT_EQ(kernel_dev(4095, 1048575), 0xffffffffu);
}

TEST(PolicyBasics, EmptyAndCommentOnlyFiles) {
  for (std::string_view text : {"", "\n\n", "# only a comment\n   \t\n  # indented\n"}) {
    const CompileResult result = compile_ok(text);
    EXPECT_TRUE(result.policy.rules.empty());
    EXPECT_FALSE(result.policy.mode.has_value());
    EXPECT_FALSE(result.policy.pkey_on_roce.has_value());
    for (const auto& d : result.policy.defaults) EXPECT_FALSE(d.has_value());
    EXPECT_EQ(result.policy.default_for(Class::map), Verdict::allow);
  }
}

// ---------------------------------------------------------------------------
// Global statements

TEST(PolicyStatements, Mode) {
  EXPECT_EQ(compile_ok("mode enforcing").policy.mode, Mode::enforcing);
  EXPECT_EQ(compile_ok("mode permissive\n").policy.mode, Mode::permissive);
}

TEST(PolicyStatements, Defaults) {
  const CompileResult result =
      compile_ok("default pkey deny\ndefault endport allow\ndefault map deny\n");
  EXPECT_EQ(result.policy.defaults[0], Verdict::deny);
  EXPECT_EQ(result.policy.defaults[1], Verdict::allow);
  EXPECT_EQ(result.policy.defaults[2], Verdict::deny);
  EXPECT_EQ(result.policy.default_for(Class::pkey), Verdict::deny);
  EXPECT_EQ(result.policy.default_for(Class::endport), Verdict::allow);
  EXPECT_EQ(result.policy.default_for(Class::map), Verdict::deny);

  const CompileResult only_map = compile_ok("default map deny");
  EXPECT_FALSE(only_map.policy.defaults[0].has_value());
  EXPECT_FALSE(only_map.policy.defaults[1].has_value());
  EXPECT_EQ(only_map.policy.defaults[2], Verdict::deny);
}

TEST(PolicyStatements, Option) {
  EXPECT_EQ(compile_ok("option pkey-on-roce yes").policy.pkey_on_roce, true);
  EXPECT_EQ(compile_ok("option pkey-on-roce no").policy.pkey_on_roce, false);
}

TEST(PolicyStatements, ExampleFile) {
  const CompileResult result = compile_file(IBGUARD_TEST_DATA "/example.conf", resolver);
  ASSERT_TRUE(result.ok()) << describe(result);
  const Policy& p = result.policy;
  EXPECT_EQ(p.mode, Mode::permissive);
  EXPECT_EQ(p.defaults[0], Verdict::deny);
  EXPECT_EQ(p.pkey_on_roce, true);
  ASSERT_EQ(p.rules.size(), 8u);
  EXPECT_EQ(p.rules[0].source, "pkey 0xffff allow");
  EXPECT_EQ(p.rules[0].location.file, IBGUARD_TEST_DATA "/example.conf");
  EXPECT_EQ(p.rules[0].location.line, 6u);
  EXPECT_EQ(p.rules[0].location.column, 1u);
  EXPECT_EQ(p.rules[1].cls, Class::pkey);
  EXPECT_EQ(p.rules[1].pkey_lo, 0x8001);
  EXPECT_EQ(p.rules[1].pkey_hi, 0x80ff);
  EXPECT_EQ(p.rules[1].subnet, 0xfe80000000000000u);
  ASSERT_EQ(p.rules[1].subjects.size(), 1u);
  EXPECT_EQ(p.rules[1].subjects[0].cgroup_id, 4242u);
  EXPECT_EQ(p.rules[3].cls, Class::endport);
  EXPECT_EQ(p.rules[3].subjects[0].ino, 1001u);
  EXPECT_TRUE(p.rules[4].log);
  EXPECT_EQ(p.rules[4].verdict, Verdict::deny);
  EXPECT_EQ(p.rules[5].source, "map chardev 231:192-223 allow group rdma");
  EXPECT_EQ(p.rules[5].minor_lo, 192u);
  EXPECT_EQ(p.rules[5].minor_hi, 223u);
  EXPECT_EQ(p.rules[7].object, MapObject::tree);
  EXPECT_EQ(p.rules[7].prot, prot_exec);
  EXPECT_EQ(p.rules[7].location.line, 13u);
}

// ---------------------------------------------------------------------------
// pkey rules

TEST(PolicyPkey, Single) {
  const Rule rule = one_rule("pkey 0x8001 allow");
  EXPECT_EQ(rule.cls, Class::pkey);
  EXPECT_EQ(rule.verdict, Verdict::allow);
  EXPECT_EQ(rule.pkey_lo, 0x8001);
  EXPECT_EQ(rule.pkey_hi, 0x8001);
  EXPECT_FALSE(rule.subnet.has_value());
  EXPECT_FALSE(rule.log);
  EXPECT_TRUE(rule.subjects.empty());
}

TEST(PolicyPkey, RangeDecimalAndUpperCaseHex) {
  Rule rule = one_rule("pkey 0X8001-0x80FF deny");
  EXPECT_EQ(rule.pkey_lo, 0x8001);
  EXPECT_EQ(rule.pkey_hi, 0x80ff);
  EXPECT_EQ(rule.verdict, Verdict::deny);
  rule = one_rule("pkey 10-65535 deny");
  EXPECT_EQ(rule.pkey_lo, 10);
  EXPECT_EQ(rule.pkey_hi, 0xffff);
  rule = one_rule("pkey 7-7 deny");
  EXPECT_EQ(rule.pkey_lo, 7);
  EXPECT_EQ(rule.pkey_hi, 7);
  rule = one_rule("pkey 0 deny");
  EXPECT_EQ(rule.pkey_lo, 0);
  EXPECT_EQ(rule.pkey_hi, 0);
  rule = one_rule("pkey 010 deny");  // leading zeros: still decimal
  EXPECT_EQ(rule.pkey_lo, 10);
}

TEST(PolicyPkey, Any) {
  const Rule rule = one_rule("pkey any deny");
  EXPECT_EQ(rule.pkey_lo, 0);
  EXPECT_EQ(rule.pkey_hi, 0xffff);
}

TEST(PolicyPkey, SubnetForms) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"fe80::", 0xfe80000000000000u},
      {"fe80:0000:0000:0000", 0xfe80000000000000u},
      {"FE80:0:0:0", 0xfe80000000000000u},
      {"::1", 0x0000000000000001u},
      {"::", 0},
      {"fe80::1:2", 0xfe80000000010002u},
      {"1:2:3:4", 0x0001000200030004u},
      {"1::4", 0x0001000000000004u},
      {"1:2:3::", 0x0001000200030000u},
      {"::2:3:4", 0x0000000200030004u},
      {"ffff:ffff:ffff:ffff", 0xffffffffffffffffu},
  };
  for (const auto& [text, value] : cases) {
    const Rule rule = one_rule("pkey any subnet " + text + " allow");
    EXPECT_EQ(rule.subnet, value) << text;
  }
  EXPECT_FALSE(one_rule("pkey any subnet any allow").subnet.has_value());
}

// ---------------------------------------------------------------------------
// endport rules

TEST(PolicyEndport, Forms) {
  Rule rule = one_rule("endport mlx5_0 1 allow");
  EXPECT_EQ(rule.cls, Class::endport);
  EXPECT_EQ(rule.device, "mlx5_0");
  EXPECT_EQ(rule.port, 1u);
  rule = one_rule("endport * 0xff deny");
  EXPECT_FALSE(rule.device.has_value());
  EXPECT_EQ(rule.port, 255u);
  rule = one_rule("endport rxe.eth-0 * deny");
  EXPECT_EQ(rule.device, "rxe.eth-0");
  EXPECT_FALSE(rule.port.has_value());
  rule = one_rule("endport * * deny");
  EXPECT_FALSE(rule.device.has_value());
  EXPECT_FALSE(rule.port.has_value());
  const std::string longest(63, 'd');
  EXPECT_EQ(one_rule("endport " + longest + " 2 allow").device, longest);
}

// ---------------------------------------------------------------------------
// map rules

TEST(PolicyMap, Path) {
  const Rule rule = one_rule("map path /dev/infiniband/uverbs0 deny");
  EXPECT_EQ(rule.cls, Class::map);
  EXPECT_EQ(rule.object, MapObject::path);
  EXPECT_EQ(rule.dev, kernel_dev(0, 5));
  EXPECT_EQ(rule.ino, 3003u);
  EXPECT_EQ(rule.prot, 0u);
  EXPECT_FALSE(rule.shared);
  EXPECT_EQ(rule.verdict, Verdict::deny);
}

TEST(PolicyMap, PathAcceptsDirectoriesToo) {
  const Rule rule = one_rule("map path /srv/untrusted allow");
  EXPECT_EQ(rule.ino, 2002u);
}

TEST(PolicyMap, Tree) {
  const Rule rule = one_rule("map tree /srv/untrusted prot exec deny");
  EXPECT_EQ(rule.object, MapObject::tree);
  EXPECT_EQ(rule.dev, kernel_dev(8, 2));
  EXPECT_EQ(rule.ino, 2002u);
  EXPECT_EQ(rule.prot, prot_exec);
}

TEST(PolicyMap, ChardevForms) {
  Rule rule = one_rule("map chardev 231 deny");
  EXPECT_EQ(rule.object, MapObject::chardev);
  EXPECT_EQ(rule.chr_major, 231u);
  EXPECT_FALSE(rule.minor_lo.has_value());
  EXPECT_FALSE(rule.minor_hi.has_value());
  rule = one_rule("map chardev 231:192 deny");
  EXPECT_EQ(rule.chr_major, 231u);
  EXPECT_EQ(rule.minor_lo, 192u);
  EXPECT_EQ(rule.minor_hi, 192u);
  rule = one_rule("map chardev 231:192-223 deny");
  EXPECT_EQ(rule.minor_lo, 192u);
  EXPECT_EQ(rule.minor_hi, 223u);
  rule = one_rule("map chardev 0xfff:0-0xfffff deny");
  EXPECT_EQ(rule.chr_major, 4095u);
  EXPECT_EQ(rule.minor_lo, 0u);
  EXPECT_EQ(rule.minor_hi, 1048575u);
  rule = one_rule("map chardev 0:0 deny");
  EXPECT_EQ(rule.chr_major, 0u);
  EXPECT_EQ(rule.minor_lo, 0u);
}

TEST(PolicyMap, Fs) {
  const Rule rule = one_rule("map fs tmpfs allow");
  EXPECT_EQ(rule.object, MapObject::fs);
  EXPECT_EQ(rule.fstype, "tmpfs");
  EXPECT_EQ(one_rule("map fs fuse_2-x allow").fstype, "fuse_2-x");
  EXPECT_EQ(one_rule("map fs fuseblk allow").fstype, "fuseblk");
}

TEST(PolicyMap, ProtAndShared) {
  EXPECT_EQ(one_rule("map fs tmpfs prot read deny").prot, prot_read);
  EXPECT_EQ(one_rule("map fs tmpfs prot write deny").prot, prot_write);
  EXPECT_EQ(one_rule("map fs tmpfs prot exec,read deny").prot, prot_exec | prot_read);
  EXPECT_EQ(one_rule("map fs tmpfs prot read,write,exec deny").prot,
            prot_read | prot_write | prot_exec);
  Rule rule = one_rule("map fs tmpfs shared deny");
  EXPECT_TRUE(rule.shared);
  EXPECT_EQ(rule.prot, 0u);
  rule = one_rule("map fs tmpfs prot write shared deny");
  EXPECT_TRUE(rule.shared);
  EXPECT_EQ(rule.prot, prot_write);
}

// ---------------------------------------------------------------------------
// Subjects and log

TEST(PolicySubjects, UidAndGid) {
  Subject s = one_subject("map fs tmpfs deny uid 1000");
  EXPECT_EQ(s.type, Subject::Type::uid);
  EXPECT_EQ(s.lo, 1000u);
  EXPECT_EQ(s.hi, 1000u);
  s = one_subject("map fs tmpfs deny uid 1000-0x7ff");
  EXPECT_EQ(s.type, Subject::Type::uid);
  EXPECT_EQ(s.lo, 1000u);
  EXPECT_EQ(s.hi, 2047u);
  s = one_subject("map fs tmpfs deny uid 0-4294967294");
  EXPECT_EQ(s.lo, 0u);
  EXPECT_EQ(s.hi, 4294967294u);
  s = one_subject("map fs tmpfs deny gid 100");
  EXPECT_EQ(s.type, Subject::Type::gid);
  EXPECT_EQ(s.lo, 100u);
  EXPECT_EQ(s.hi, 100u);
  s = one_subject("map fs tmpfs deny gid 100-200");
  EXPECT_EQ(s.type, Subject::Type::gid);
  EXPECT_EQ(s.lo, 100u);
  EXPECT_EQ(s.hi, 200u);
}

TEST(PolicySubjects, UserAndGroup) {
  Subject s = one_subject("map fs tmpfs deny user alice");
  EXPECT_EQ(s.type, Subject::Type::uid);
  EXPECT_EQ(s.lo, 1000u);
  EXPECT_EQ(s.hi, 1000u);
  s = one_subject("map fs tmpfs deny user 1234");  // looked up as a name
  EXPECT_EQ(s.lo, 77u);
  EXPECT_EQ(s.hi, 77u);
  s = one_subject("map fs tmpfs deny group rdma");
  EXPECT_EQ(s.type, Subject::Type::gid);
  EXPECT_EQ(s.lo, 300u);
  EXPECT_EQ(s.hi, 300u);
  s = one_subject("map fs tmpfs deny group \"my group\"");
  EXPECT_EQ(s.lo, 302u);
}

TEST(PolicySubjects, CgroupExeKernel) {
  Subject s = one_subject("map fs tmpfs deny cgroup /tenants/a");
  EXPECT_EQ(s.type, Subject::Type::cgroup);
  EXPECT_EQ(s.cgroup_id, 4242u);
  s = one_subject("map fs tmpfs deny exe /usr/sbin/opensm");
  EXPECT_EQ(s.type, Subject::Type::exe);
  EXPECT_EQ(s.dev, kernel_dev(8, 1));
  EXPECT_EQ(s.ino, 1001u);
  s = one_subject("map fs tmpfs deny kernel");
  EXPECT_EQ(s.type, Subject::Type::kernel);
}

TEST(PolicySubjects, SeveralInOrderWithLog) {
  const Rule rule = one_rule(
      "pkey any allow kernel gid 5 user root uid 3-4 group rdma-b exe /usr/sbin/opensm "
      "cgroup / log");
  EXPECT_TRUE(rule.log);
  ASSERT_EQ(rule.subjects.size(), 7u);
  EXPECT_EQ(rule.subjects[0].type, Subject::Type::kernel);
  EXPECT_EQ(rule.subjects[1].type, Subject::Type::gid);
  EXPECT_EQ(rule.subjects[1].lo, 5u);
  EXPECT_EQ(rule.subjects[2].type, Subject::Type::uid);
  EXPECT_EQ(rule.subjects[2].lo, 0u);
  EXPECT_EQ(rule.subjects[3].type, Subject::Type::uid);
  EXPECT_EQ(rule.subjects[3].lo, 3u);
  EXPECT_EQ(rule.subjects[3].hi, 4u);
  EXPECT_EQ(rule.subjects[4].type, Subject::Type::gid);
  EXPECT_EQ(rule.subjects[4].lo, 301u);
  EXPECT_EQ(rule.subjects[5].type, Subject::Type::exe);
  EXPECT_EQ(rule.subjects[5].ino, 1001u);
  EXPECT_EQ(rule.subjects[6].type, Subject::Type::cgroup);
  EXPECT_EQ(rule.subjects[6].cgroup_id, 1u);
}

TEST(PolicySubjects, LogWithoutSubjects) {
  const Rule rule = one_rule("endport * * deny log");
  EXPECT_TRUE(rule.log);
  EXPECT_TRUE(rule.subjects.empty());
}

// ---------------------------------------------------------------------------
// Source text, locations, comments, quoting

TEST(PolicySource, SourceAndLocation) {
  const CompileResult result = compile_ok(
      "# header\n"
      "\n"
      "   \tpkey  0x8001   allow   # a comment\n"
      "map path \"/srv/my data #1/lib.so\" deny # quoted # kept\n"
      "endport * * deny\t\n");
  ASSERT_EQ(result.policy.rules.size(), 3u);
  const Rule& r0 = result.policy.rules[0];
  EXPECT_EQ(r0.source, "pkey  0x8001   allow");
  EXPECT_EQ(r0.location.file, "t.conf");
  EXPECT_EQ(r0.location.line, 3u);
  EXPECT_EQ(r0.location.column, 5u);
  const Rule& r1 = result.policy.rules[1];
  EXPECT_EQ(r1.source, "map path \"/srv/my data #1/lib.so\" deny");
  EXPECT_EQ(r1.location.line, 4u);
  EXPECT_EQ(r1.location.column, 1u);
  EXPECT_EQ(r1.ino, 4004u);
  const Rule& r2 = result.policy.rules[2];
  EXPECT_EQ(r2.source, "endport * * deny");
  EXPECT_EQ(r2.location.line, 5u);
}

TEST(PolicySource, Escapes) {
  const Rule rule = one_rule(R"(map path "/srv/q\"uote\\d" allow)");
  EXPECT_EQ(rule.ino, 5005u);
  EXPECT_EQ(rule.source, R"(map path "/srv/q\"uote\\d" allow)");
}

TEST(PolicySource, QuotedKeywordsAreWords) {
  const Rule rule = one_rule(R"("pkey" "0x8001" "allow" "log")");
  EXPECT_EQ(rule.pkey_lo, 0x8001);
  EXPECT_TRUE(rule.log);
}

TEST(PolicySource, CrLfLineEndings) {
  const CompileResult result = compile_ok("mode enforcing\r\npkey any allow\r\n");
  ASSERT_EQ(result.policy.rules.size(), 1u);
  EXPECT_EQ(result.policy.rules[0].source, "pkey any allow");
  EXPECT_EQ(result.policy.mode, Mode::enforcing);
}

TEST(PolicySource, LastLineWithoutNewline) {
  const CompileResult result = compile_ok("pkey any allow\npkey 1 deny");
  ASSERT_EQ(result.policy.rules.size(), 2u);
  EXPECT_EQ(result.policy.rules[1].location.line, 2u);
}

// ---------------------------------------------------------------------------
// Errors: one per line, exact position and message

struct ErrorCase {
  std::string text;
  unsigned column;
  unsigned length;
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.text; }

class PolicyError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(PolicyError, ExactDiagnostic) {
  const ErrorCase& c = GetParam();
  const CompileResult result = compile(c.text, "e.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_FALSE(result.ok());
  const Diagnostic& d = result.errors[0];
  EXPECT_EQ(d.message, c.message);
  EXPECT_EQ(d.location.file, "e.conf");
  EXPECT_EQ(d.location.line, 1u);
  EXPECT_EQ(d.location.column, c.column);
  EXPECT_EQ(d.length, c.length);
  EXPECT_EQ(d.line_text, c.text);
}

const char* const kNumber = " (expected a decimal or 0x hexadecimal number)";
const char* const kName = " (1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-')";
const char* const kFsName = " (1-63 characters of A-Z, a-z, 0-9, '_' and '-')";

INSTANTIATE_TEST_SUITE_P(
    Lexer, PolicyError,
    ::testing::Values(
        ErrorCase{R"(map path "/a\qb" deny)", 13, 2,
                  R"(invalid escape '\q' in quoted string (only \" and \\ are allowed))"},
        ErrorCase{R"(map path "/abc deny)", 10, 10, "unterminated quoted string"},
        ErrorCase{R"(map path "/x\)", 10, 4, "unterminated quoted string"},
        ErrorCase{R"(map path "/a"b deny)", 14, 1,
                  "expected a blank after the closing quote, found 'b'"},
        ErrorCase{R"(map path /a"b" deny)", 12, 1,
                  R"(unexpected '"' inside a word (quote the whole word instead))"},
        // The first error of the line wins, whether the lexer's or the parser's.
        ErrorCase{R"(mpa "x)", 1, 3, "unknown statement 'mpa'"},
        ErrorCase{R"(map fs tmpfs deny user "bob)", 24, 4, "unterminated quoted string"},
        ErrorCase{"pkey 0x10#comment allow", 10, 1,
                  "expected 'allow' or 'deny', found end of line"}));

INSTANTIATE_TEST_SUITE_P(
    Statements, PolicyError,
    ::testing::Values(
        ErrorCase{"mpa fs tmpfs deny", 1, 3, "unknown statement 'mpa'"},
        ErrorCase{"  allow", 3, 5, "unknown statement 'allow'"},
        ErrorCase{"mode", 5, 1, "expected 'enforcing' or 'permissive', found end of line"},
        ErrorCase{"mode strict", 6, 6, "expected 'enforcing' or 'permissive', found 'strict'"},
        ErrorCase{"mode enforcing now", 16, 3, "expected end of line, found 'now'"},
        ErrorCase{"default", 8, 1, "expected 'pkey', 'endport' or 'map', found end of line"},
        ErrorCase{"default mmap deny", 9, 4, "expected 'pkey', 'endport' or 'map', found 'mmap'"},
        ErrorCase{"default map", 12, 1, "expected 'allow' or 'deny', found end of line"},
        ErrorCase{"default map maybe", 13, 5, "expected 'allow' or 'deny', found 'maybe'"},
        ErrorCase{"default map deny deny", 18, 4, "expected end of line, found 'deny'"},
        ErrorCase{"option", 7, 1, "expected an option name ('pkey-on-roce'), found end of line"},
        ErrorCase{"option foo yes", 8, 3, "unknown option 'foo' (known options: pkey-on-roce)"},
        ErrorCase{"option pkey-on-roce", 20, 1, "expected 'yes' or 'no', found end of line"},
        ErrorCase{"option pkey-on-roce maybe", 21, 5, "expected 'yes' or 'no', found 'maybe'"},
        ErrorCase{"option pkey-on-roce yes no", 25, 2, "expected end of line, found 'no'"}));

INSTANTIATE_TEST_SUITE_P(
    Numbers, PolicyError,
    ::testing::Values(
        ErrorCase{"pkey 08x allow", 6, 3, std::string("invalid pkey '08x'") + kNumber},
        ErrorCase{"pkey 0x allow", 6, 2, std::string("invalid pkey '0x'") + kNumber},
        ErrorCase{"pkey 0xg allow", 6, 3, std::string("invalid pkey '0xg'") + kNumber},
        ErrorCase{"pkey 0x8001- allow", 6, 7, std::string("invalid pkey '0x8001-'") + kNumber},
        ErrorCase{"pkey 1-2-3 allow", 8, 3, std::string("invalid pkey '2-3'") + kNumber},
        ErrorCase{"pkey 0x1ffff allow", 6, 7, "pkey 0x1ffff out of range (0-0xffff)"},
        ErrorCase{"pkey 65536 allow", 6, 5, "pkey 65536 out of range (0-0xffff)"},
        ErrorCase{"pkey 0x8001-0x1ffff allow", 13, 7, "pkey 0x1ffff out of range (0-0xffff)"},
        ErrorCase{"pkey 0x80ff-0x8001 allow", 6, 13, "range 0x80ff-0x8001 is reversed"},
        ErrorCase{R"(pkey "0x1ffff-1" allow)", 6, 11, "pkey 0x1ffff out of range (0-0xffff)"},
        ErrorCase{"endport * 1e3 allow", 11, 3, std::string("invalid port '1e3'") + kNumber},
        ErrorCase{"endport * \"\" allow", 11, 2, std::string("invalid port ''") + kNumber},
        ErrorCase{"endport * -1 allow", 11, 2, std::string("invalid port '-1'") + kNumber},
        ErrorCase{"endport * 0 allow", 11, 1, "port 0 out of range (1-255)"},
        ErrorCase{"endport * 256 allow", 11, 3, "port 256 out of range (1-255)"},
        ErrorCase{"endport * 1-2 allow", 11, 3, std::string("invalid port '1-2'") + kNumber},
        ErrorCase{"map fs tmpfs allow uid -1", 24, 2, std::string("invalid uid '-1'") + kNumber},
        ErrorCase{"map fs tmpfs allow uid 4294967295", 24, 10,
                  "uid 4294967295 out of range (0-4294967294)"},
        ErrorCase{"map fs tmpfs allow gid 99999999999999999999999", 24, 23,
                  "gid 99999999999999999999999 out of range (0-4294967294)"},
        ErrorCase{"map fs tmpfs allow gid 5-4294967295", 26, 10,
                  "gid 4294967295 out of range (0-4294967294)"},
        ErrorCase{"map fs tmpfs allow uid 10-9", 24, 4, "range 10-9 is reversed"}));

INSTANTIATE_TEST_SUITE_P(
    Subnets, PolicyError,
    ::testing::Values(
        ErrorCase{"pkey any subnet fe80::: allow", 17, 7,
                  "invalid subnet prefix 'fe80:::': '::' may appear only once"},
        ErrorCase{"pkey any subnet 1::2::3 allow", 17, 7,
                  "invalid subnet prefix '1::2::3': '::' may appear only once"},
        ErrorCase{"pkey any subnet 1:2:3:4:5 allow", 17, 9,
                  "invalid subnet prefix '1:2:3:4:5': expected 4 groups, found 5"},
        ErrorCase{"pkey any subnet fe80:0:0 allow", 17, 8,
                  "invalid subnet prefix 'fe80:0:0': expected 4 groups, found 3"},
        ErrorCase{"pkey any subnet fe800:: allow", 17, 7,
                  "invalid subnet prefix 'fe800::': group 'fe800' has more than 4 hex digits"},
        ErrorCase{"pkey any subnet fe80::g allow", 17, 7,
                  "invalid subnet prefix 'fe80::g': group 'g' is not hexadecimal"},
        ErrorCase{"pkey any subnet 1:2::3:4 allow", 17, 8,
                  "invalid subnet prefix '1:2::3:4': too many groups with '::'"},
        ErrorCase{"pkey any subnet :1:2:3 allow", 17, 6,
                  "invalid subnet prefix ':1:2:3': empty group"},
        ErrorCase{"pkey any subnet 0xfe80 allow", 17, 6,
                  "invalid subnet prefix '0xfe80': group '0xfe80' has more than 4 hex digits"},
        ErrorCase{"pkey any subnet", 16, 1, "expected a subnet prefix or 'any', found end of line"},
        ErrorCase{"pkey any allow subnet fe80::", 16, 6,
                  "unknown subject 'subnet' (expected uid, gid, user, group, cgroup, exe, "
                  "kernel or log)"}));

INSTANTIATE_TEST_SUITE_P(
    Rules, PolicyError,
    ::testing::Values(
        ErrorCase{"pkey", 5, 1, "expected a pkey, a pkey range or 'any', found end of line"},
        ErrorCase{"pkey any", 9, 1, "expected 'allow' or 'deny', found end of line"},
        ErrorCase{"pkey any   # comment", 9, 1, "expected 'allow' or 'deny', found end of line"},
        ErrorCase{"pkey any alow", 10, 4, "expected 'allow' or 'deny', found 'alow'"},
        ErrorCase{"endport", 8, 1, "expected a device name or '*', found end of line"},
        ErrorCase{"endport mlx5_0", 15, 1, "expected a port number or '*', found end of line"},
        ErrorCase{"endport mlx5_0 1", 17, 1, "expected 'allow' or 'deny', found end of line"},
        ErrorCase{"endport mlx/0 1 allow", 9, 5,
                  std::string("invalid device name 'mlx/0'") + kName},
        ErrorCase{"endport " + std::string(64, 'd') + " 1 allow", 9, 64,
                  "invalid device name '" + std::string(64, 'd') + "'" + kName},
        ErrorCase{"map", 4, 1, "expected 'path', 'tree', 'chardev' or 'fs', found end of line"},
        ErrorCase{"map file /x deny", 5, 4,
                  "expected 'path', 'tree', 'chardev' or 'fs', found 'file'"},
        ErrorCase{"map path", 9, 1, "expected a file path after 'path', found end of line"},
        ErrorCase{"map path relative deny", 10, 8, "'relative' is not an absolute path"},
        ErrorCase{"map path /nope deny", 10, 5,
                  "cannot resolve '/nope': No such file or directory"},
        ErrorCase{"map tree ./srv deny", 10, 5, "'./srv' is not an absolute path"},
        ErrorCase{"map tree /usr/sbin/opensm deny", 10, 16,
                  "'/usr/sbin/opensm' is not a directory"},
        ErrorCase{"map tree /nope deny", 10, 5,
                  "cannot resolve '/nope': No such file or directory"},
        ErrorCase{"map chardev", 12, 1,
                  "expected a device number after 'chardev', found end of line"},
        ErrorCase{"map chardev 4096 deny", 13, 4, "chardev major 4096 out of range (0-4095)"},
        ErrorCase{"map chardev 1:1048576 deny", 15, 7,
                  "chardev minor 1048576 out of range (0-1048575)"},
        ErrorCase{"map chardev 231:223-192 deny", 17, 7, "range 223-192 is reversed"},
        ErrorCase{"map chardev 231:1-0x100000 deny", 19, 8,
                  "chardev minor 0x100000 out of range (0-1048575)"},
        ErrorCase{"map chardev 231: deny", 13, 4,
                  "invalid chardev '231:' (expected <major>[:<minor>[-<minor>]])"},
        ErrorCase{"map chardev :5 deny", 13, 2,
                  "invalid chardev ':5' (expected <major>[:<minor>[-<minor>]])"},
        ErrorCase{"map chardev 1:2:3 deny", 13, 5,
                  "invalid chardev '1:2:3' (expected <major>[:<minor>[-<minor>]])"},
        ErrorCase{"map chardev abc deny", 13, 3,
                  std::string("invalid chardev major 'abc'") + kNumber},
        ErrorCase{"map chardev 1:x-3 deny", 15, 1,
                  std::string("invalid chardev minor 'x'") + kNumber},
        ErrorCase{"map fs", 7, 1, "expected a filesystem type after 'fs', found end of line"},
        ErrorCase{"map fs tmp/fs deny", 8, 6,
                  std::string("invalid filesystem type 'tmp/fs'") + kFsName},
        ErrorCase{"map fs \"\" deny", 8, 2, std::string("invalid filesystem type ''") + kFsName},
        // The kernel compares s_type->name: "fuse" or "fuseblk" for every
        // FUSE mount; a subtype as mountinfo shows it would never match.
        ErrorCase{"map fs fuse.sshfs deny", 12, 6,
                  "FUSE subtypes cannot be told apart: the kernel names every FUSE filesystem "
                  "'fuse' ('fuseblk' when it is on a block device); write 'fs fuse' or "
                  "'fs fuseblk'"},
        ErrorCase{"map fs fuseblk.ntfs-3g deny", 15, 8,
                  "FUSE subtypes cannot be told apart: the kernel names every FUSE filesystem "
                  "'fuse' ('fuseblk' when it is on a block device); write 'fs fuse' or "
                  "'fs fuseblk'"},
        ErrorCase{"map fs ext4.x deny", 12, 2,
                  "invalid filesystem type 'ext4.x': the kernel's type names (/proc/filesystems) "
                  "have no '.'"},
        ErrorCase{"map fs \"fuse.a\" deny", 8, 8,
                  "FUSE subtypes cannot be told apart: the kernel names every FUSE filesystem "
                  "'fuse' ('fuseblk' when it is on a block device); write 'fs fuse' or "
                  "'fs fuseblk'"},
        ErrorCase{"map fs tmpfs alow", 14, 4, "expected 'allow' or 'deny', found 'alow'"},
        ErrorCase{"map fs tmpfs shared prot read deny", 21, 4,
                  "expected 'allow' or 'deny', found 'prot'"},
        ErrorCase{"map fs tmpfs prot read prot write deny", 24, 4,
                  "expected 'allow' or 'deny', found 'prot'"}));

INSTANTIATE_TEST_SUITE_P(
    Prot, PolicyError,
    ::testing::Values(
        ErrorCase{"map fs tmpfs prot", 18, 1, "expected read, write or exec, found end of line"},
        ErrorCase{"map fs tmpfs prot read,read deny", 24, 4, "duplicate protection 'read'"},
        ErrorCase{"map fs tmpfs prot exec,write,exec deny", 30, 4, "duplicate protection 'exec'"},
        ErrorCase{"map fs tmpfs prot read,exex deny", 24, 4,
                  "unknown protection 'exex' (expected read, write or exec)"},
        ErrorCase{"map fs tmpfs prot deny", 19, 4,
                  "unknown protection 'deny' (expected read, write or exec)"},
        ErrorCase{"map fs tmpfs prot read, write deny", 19, 5,
                  "empty protection in 'read,' (expected read, write or exec, separated by commas "
                  "without blanks)"},
        ErrorCase{"map fs tmpfs prot ,read deny", 19, 5,
                  "empty protection in ',read' (expected read, write or exec, separated by commas "
                  "without blanks)"}));

INSTANTIATE_TEST_SUITE_P(
    Subjects, PolicyError,
    ::testing::Values(
        ErrorCase{"map fs tmpfs deny log uid 0", 23, 3,
                  "unexpected 'uid' after 'log' (it must come last)"},
        ErrorCase{"map fs tmpfs deny kernel log log", 30, 3,
                  "unexpected 'log' after 'log' (it must come last)"},
        ErrorCase{"map fs tmpfs deny foo", 19, 3,
                  "unknown subject 'foo' (expected uid, gid, user, group, cgroup, exe, kernel or "
                  "log)"},
        ErrorCase{"map fs tmpfs deny uid", 22, 1,
                  "expected a uid or uid range after 'uid', found end of line"},
        ErrorCase{"map fs tmpfs deny gid", 22, 1,
                  "expected a gid or gid range after 'gid', found end of line"},
        ErrorCase{"map fs tmpfs deny user", 23, 1,
                  "expected a user name after 'user', found end of line"},
        ErrorCase{"map fs tmpfs deny group", 24, 1,
                  "expected a group name after 'group', found end of line"},
        ErrorCase{"map fs tmpfs deny cgroup", 25, 1,
                  "expected a cgroup path after 'cgroup', found end of line"},
        ErrorCase{"map fs tmpfs deny exe", 22, 1,
                  "expected an executable path after 'exe', found end of line"},
        ErrorCase{"map fs tmpfs deny user bob", 24, 3, "unknown user 'bob'"},
        ErrorCase{"map fs tmpfs deny user 0", 24, 1, "unknown user '0'"},
        ErrorCase{"map fs tmpfs deny group nogroup", 25, 7, "unknown group 'nogroup'"},
        ErrorCase{"map fs tmpfs deny cgroup /nope", 26, 5,
                  "cannot resolve cgroup '/nope': No such file or directory"},
        ErrorCase{"map fs tmpfs deny cgroup tenants/a", 26, 9,
                  "'tenants/a' is not an absolute path"},
        ErrorCase{"map fs tmpfs deny exe /srv/untrusted", 23, 14,
                  "'/srv/untrusted' is not a regular file"},
        ErrorCase{"map fs tmpfs deny exe /dev/infiniband/uverbs0", 23, 23,
                  "'/dev/infiniband/uverbs0' is not a regular file"},
        ErrorCase{"map fs tmpfs deny exe /nope", 23, 5,
                  "cannot resolve '/nope': No such file or directory"},
        ErrorCase{"map fs tmpfs deny exe opensm", 23, 6, "'opensm' is not an absolute path"},
        ErrorCase{"map fs tmpfs deny kernel 5", 26, 1,
                  "unknown subject '5' (expected uid, gid, user, group, cgroup, exe, kernel or "
                  "log)"}));

TEST(PolicyErrors, ResolverWithoutReason) {
  const SilentResolver silent;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"map path /x deny", "cannot resolve '/x'"},
      {"map fs tmpfs deny user u", "unknown user 'u'"},
      {"map fs tmpfs deny group g", "unknown group 'g'"},
      {"map fs tmpfs deny cgroup /c", "cannot resolve cgroup '/c'"},
  };
  for (const auto& [text, message] : cases) {
    const CompileResult result = compile(text, "s.conf", silent);
    ASSERT_EQ(result.errors.size(), 1u) << text;
    EXPECT_EQ(result.errors[0].message, message);
  }
}

TEST(PolicyErrors, Duplicates) {
  const CompileResult result = compile(
      "mode enforcing\n"
      "default map deny\n"
      "option pkey-on-roce no\n"
      "default pkey allow\n"
      "mode permissive\n"
      "default  map allow\n"
      "option pkey-on-roce yes\n"
      "default endport deny\n"
      "  default pkey deny # again\n",
      "d.conf", resolver);
  ASSERT_EQ(result.errors.size(), 4u) << describe(result);
  EXPECT_EQ(result.errors[0].message, "duplicate 'mode' (first set on line 1)");
  EXPECT_EQ(result.errors[0].location.line, 5u);
  EXPECT_EQ(result.errors[0].location.column, 1u);
  EXPECT_EQ(result.errors[0].length, 4u);
  EXPECT_EQ(result.errors[1].message, "duplicate 'default map' (first set on line 2)");
  EXPECT_EQ(result.errors[1].location.line, 6u);
  EXPECT_EQ(result.errors[1].location.column, 1u);
  EXPECT_EQ(result.errors[1].length, 12u);
  EXPECT_EQ(result.errors[2].message, "duplicate 'option pkey-on-roce' (first set on line 3)");
  EXPECT_EQ(result.errors[2].location.line, 7u);
  EXPECT_EQ(result.errors[2].length, 19u);
  EXPECT_EQ(result.errors[3].message, "duplicate 'default pkey' (first set on line 4)");
  EXPECT_EQ(result.errors[3].location.line, 9u);
  EXPECT_EQ(result.errors[3].location.column, 3u);
  EXPECT_EQ(result.errors[3].length, 12u);
  EXPECT_EQ(result.errors[3].line_text, "  default pkey deny # again");
}

// An invalid statement sets nothing: the corrected line after it is no
// duplicate (it was reported as one, a second error for one mistake).
TEST(PolicyErrors, AnInvalidFirstOccurrenceSetsNothing) {
  const CompileResult result = compile(
      "default map alow\n"
      "default map deny\n"
      "mode bogus\n"
      "mode enforcing\n"
      "option pkey-on-roce maybe\n"
      "option pkey-on-roce yes\n"
      "mode permissive extra\n",
      "d.conf", resolver);
  ASSERT_EQ(result.errors.size(), 4u) << describe(result);
  EXPECT_EQ(result.errors[0].message, "expected 'allow' or 'deny', found 'alow'");
  EXPECT_EQ(result.errors[1].message, "expected 'enforcing' or 'permissive', found 'bogus'");
  EXPECT_EQ(result.errors[2].message, "expected 'yes' or 'no', found 'maybe'");
  EXPECT_EQ(result.errors[3].message, "duplicate 'mode' (first set on line 4)");
  EXPECT_EQ(result.errors[3].location.line, 7u);
  const CompileResult fixed = compile("mode bogus x\nmode permissive\n", "d.conf", resolver);
  ASSERT_EQ(fixed.errors.size(), 1u);
  EXPECT_EQ(fixed.errors[0].location.line, 1u);
}

// A file saved with a UTF-8 byte order mark: "unknown statement
// '\xef\xbb\xbfpkey'" before.
TEST(PolicySource, LeadingByteOrderMarkIsSkipped) {
  const CompileResult result =
      compile("\xef\xbb\xbfpkey 0x10 allow\r\nmpa\r\n", "b.conf", resolver);
  ASSERT_EQ(result.policy.rules.size(), 1u);
  EXPECT_EQ(result.policy.rules[0].source, "pkey 0x10 allow");
  EXPECT_EQ(result.policy.rules[0].location.column, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].location.line, 2u);
  const CompileResult first = compile("\xef\xbb\xbfmpa x", "b.conf", resolver);
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_EQ(format(first.errors[0]), "b.conf:1:1: error: unknown statement 'mpa'\nmpa x\n^~~\n");
  EXPECT_TRUE(compile("\xef\xbb\xbf", "b.conf", resolver).ok());
}

// The summary after a file's errors names the file as the errors do and
// says what did not happen: check and explain --policy never load.
TEST(PolicyFile, ErrorSummary) {
  EXPECT_EQ(source_name("-"), "<stdin>");
  EXPECT_EQ(source_name("/etc/ibguard/policy.conf"), "/etc/ibguard/policy.conf");
  EXPECT_EQ(errors_summary("-", 1, Purpose::check), "<stdin>: 1 error; the policy is not valid");
  EXPECT_EQ(errors_summary("p.conf", 2, Purpose::load), "p.conf: 2 errors; nothing was loaded");
  EXPECT_EQ(errors_summary("p.conf", 1, Purpose::explain),
            "p.conf: 1 error; nothing was explained");
}

// The kernel keeps at most IBGUARD_MAX_SOURCE_LEN - 1 bytes of a rule's
// text and refuses a longer one: check must refuse it too, at the rule.
TEST(PolicyErrors, RuleLongerThanTheKernelKeeps) {
  std::string longest = "pkey any allow";
  for (int i = 0; i < 679; ++i) longest += " uid 1";
  longest += " uid 12";
  ASSERT_EQ(longest.size(), 4095u);
  const CompileResult fits =
      compile("  " + longest + "  # comments do not count\n", "l.conf", resolver);
  EXPECT_TRUE(fits.ok()) << describe(fits);
  ASSERT_EQ(fits.policy.rules.size(), 1u);
  EXPECT_EQ(fits.policy.rules[0].source, longest);

  const std::string too_long = longest + "3";
  const CompileResult result = compile("pkey 1 allow\n  " + too_long + "\n", "l.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  const Diagnostic& d = result.errors[0];
  EXPECT_EQ(d.location.line, 2u);
  EXPECT_EQ(d.location.column, 2u + 4096u);
  EXPECT_EQ(d.length, 1u);
  EXPECT_EQ(d.message,
            "rule is 4096 bytes long, the kernel takes at most 4095 (comments and blanks around "
            "the rule do not count)");
  ASSERT_EQ(result.policy.rules.size(), 1u);  // only the first line's
}

TEST(PolicyErrors, AllErrorsInOrderAndGoodLinesStillCompile) {
  const CompileResult result = compile(
      "pkey 0x8001 allow\n"
      "pkey 0x1ffff allow\n"
      "# fine\n"
      "map path /nope deny user bob\n"
      "endport * * deny\n"
      "mpa fs tmpfs deny\n"
      "map fs tmpfs deny user bob\n",
      "m.conf", resolver);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 4u);
  EXPECT_EQ(result.errors[0].location.line, 2u);
  EXPECT_EQ(result.errors[0].message, "pkey 0x1ffff out of range (0-0xffff)");
  EXPECT_EQ(result.errors[1].location.line, 4u);
  EXPECT_EQ(result.errors[1].message, "cannot resolve '/nope': No such file or directory");
  EXPECT_EQ(result.errors[2].location.line, 6u);
  EXPECT_EQ(result.errors[2].message, "unknown statement 'mpa'");
  EXPECT_EQ(result.errors[3].location.line, 7u);
  EXPECT_EQ(result.errors[3].location.column, 24u);
  EXPECT_EQ(result.errors[3].message, "unknown user 'bob'");
  for (const Diagnostic& d : result.errors) EXPECT_EQ(d.location.file, "m.conf");
  ASSERT_EQ(result.policy.rules.size(), 2u);
  EXPECT_EQ(result.policy.rules[0].source, "pkey 0x8001 allow");
  EXPECT_EQ(result.policy.rules[1].source, "endport * * deny");
}

// ---------------------------------------------------------------------------
// format()

TEST(PolicyFormat, DesignExample) {
  const CompileResult result =
      compile("mode enforcing\n\n# c\nmap path /nope deny\n", "p.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(format(result.errors[0]),
            "p.conf:4:10: error: cannot resolve '/nope': No such file or directory\n"
            "map path /nope deny\n"
            "         ^~~~~\n");
}

TEST(PolicyFormat, TabsBecomeSpaces) {
  const CompileResult result = compile("\tmap\tpath /nope deny\t# x\n", "t.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].location.column, 11u);
  EXPECT_EQ(result.errors[0].line_text, "\tmap\tpath /nope deny\t# x");
  EXPECT_EQ(format(result.errors[0]),
            "t.conf:1:11: error: cannot resolve '/nope': No such file or directory\n"
            " map path /nope deny # x\n"
            "          ^~~~~\n");
}

TEST(PolicyFormat, MissingTokenPointsPastTheLine) {
  const CompileResult result = compile("pkey any", "x.conf", resolver);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(format(result.errors[0]),
            "x.conf:1:9: error: expected 'allow' or 'deny', found end of line\n"
            "pkey any\n"
            "        ^\n");
}

TEST(PolicyFormat, HandBuiltDiagnostic) {
  Diagnostic d;
  d.location = SourceLocation{"a.conf", 12, 1};
  d.length = 3;
  d.message = "unknown statement 'mpa'";
  d.line_text = "mpa x";
  EXPECT_EQ(format(d), "a.conf:12:1: error: unknown statement 'mpa'\nmpa x\n^~~\n");
  d.length = 0;  // treated as 1
  EXPECT_EQ(format(d), "a.conf:12:1: error: unknown statement 'mpa'\nmpa x\n^\n");
}

// ---------------------------------------------------------------------------
// compile_file()

TEST(PolicyFile, MissingFileThrows) {
  const std::string path = IBGUARD_TEST_DATA "/no-such-file.conf";
  try {
    compile_file(path, resolver);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_EQ(std::string(e.what()), "cannot read " + path + ": No such file or directory");
  }
}

TEST(PolicyFile, DirectoryThrows) {
  try {
    compile_file(IBGUARD_TEST_DATA, resolver);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_input);
    EXPECT_EQ(std::string(e.what()),
              std::string("cannot read ") + IBGUARD_TEST_DATA + ": Is a directory");
  }
}

TEST(PolicyFile, StandardInput) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string text = "pkey 0x10 allow\nmpa\n";
  ASSERT_EQ(::write(pipe_fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(pipe_fds[1]);
  const int saved = ::dup(STDIN_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(pipe_fds[0], STDIN_FILENO), STDIN_FILENO);
  ::close(pipe_fds[0]);
  CompileResult result;
  try {
    result = compile_file("-", resolver);
  } catch (...) {
    ::dup2(saved, STDIN_FILENO);
    ::close(saved);
    throw;
  }
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ASSERT_EQ(result.policy.rules.size(), 1u);
  EXPECT_EQ(result.policy.rules[0].location.file, "<stdin>");
  EXPECT_EQ(result.policy.rules[0].pkey_lo, 0x10);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(format(result.errors[0]), "<stdin>:2:1: error: unknown statement 'mpa'\nmpa\n^~~\n");
}

// explain suggests rules with quote_word(): what it gives must parse back
// to the same name, and a name the language cannot hold gives nothing.
TEST(PolicyQuoteWord, ParsesBackOrRefuses) {
  EXPECT_EQ(quote_word("/usr/sbin/opensm"), "/usr/sbin/opensm");
  EXPECT_EQ(quote_word(""), "\"\"");
  for (const std::string name : {"/srv/my data #1/lib.so", "/srv/q\"uote\\d"}) {
    const std::optional<std::string> word = quote_word(name);
    ASSERT_TRUE(word.has_value()) << name;
    const Rule rule = one_rule("map path " + *word + " deny");
    std::string error;
    EXPECT_EQ(rule.ino, resolver.file(name, error)->ino) << *word;
  }
  EXPECT_EQ(quote_word("/srv/my data #1/lib.so"), "\"/srv/my data #1/lib.so\"");
  EXPECT_EQ(quote_word("/srv/q\"uote\\d"), "\"/srv/q\\\"uote\\\\d\"");
  EXPECT_EQ(quote_word("/tmp/a\rb"), "\"/tmp/a\rb\"");  // a word may not hold a CR
  // Statements end at a newline and quoted strings have no escape for one;
  // a NUL would end the name where it goes to the C library.
  EXPECT_EQ(quote_word("/tmp/a\nb"), std::nullopt);
  EXPECT_EQ(quote_word(std::string_view("/tmp/a\0b", 8)), std::nullopt);
}

// Command-line values (explain --uid/--gid/--groups) are held to the file's
// bounds: a uid past 32 bits must not wrap to another user.
TEST(PolicyValue, IdsWithinTheFilesBounds) {
  std::string error;
  EXPECT_EQ(parse_id("0", false, error), 0u);
  EXPECT_EQ(parse_id("4294967294", false, error), 4294967294u);
  EXPECT_EQ(parse_id("0x3e8", true, error), 1000u);
  EXPECT_EQ(parse_id("4294967296", false, error), std::nullopt);
  EXPECT_EQ(error, "uid 4294967296 out of range (0-4294967294)");
  EXPECT_EQ(parse_id("4294967295", true, error), std::nullopt);
  EXPECT_EQ(error, "gid 4294967295 out of range (0-4294967294)");
  EXPECT_EQ(parse_id("99999999999999999999999", false, error), std::nullopt);
  EXPECT_EQ(error, "uid 99999999999999999999999 out of range (0-4294967294)");
  EXPECT_EQ(parse_id("", false, error), std::nullopt);
  EXPECT_EQ(error, "invalid uid '' (expected a decimal or 0x hexadecimal number)");
}

}  // namespace
}  // namespace ibguard::policy
