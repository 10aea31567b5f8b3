// What ibguardctl prints of strings it does not control (a task's comm, a
// file's path): JSON that never fails on bytes that are not UTF-8.
#include "output.hpp"

#include <gtest/gtest.h>
#include <linux/ibguard.h>

#include "wire.hpp"

namespace ibguard {
namespace {

// An unprivileged user names its process and a file it maps with a 0xff
// byte: nlohmann's dump() throws type_error 316 on it.
Event denial_with_invalid_utf8() {
  Event event;
  event.type = IBGUARD_EVENT_DENIED;
  event.cls = policy::Class::map;
  event.verdict = policy::Verdict::deny;
  event.operation = "mmap";
  event.pid = 7;
  event.uid = 1000;
  event.gid = 1000;
  event.comm = "ev\xffl";
  event.path = "/tmp/\xff\xfe.so";
  event.dev = (8u << IBGUARD_DEV_MINOR_BITS) | 1;
  event.ino = 12;
  event.prot = IBGUARD_PROT_READ;
  return event;
}

TEST(JsonText, InvalidUtf8BecomesReplacementCharacter) {
  const auto doc = denial_with_invalid_utf8().to_json();
  EXPECT_THROW(static_cast<void>(doc.dump()), nlohmann::json::type_error);
  EXPECT_EQ(json_text(doc),
            R"({"schema_version":1,"type":"denied","class":"map","verdict":"deny",)"
            R"("permissive":false,"rule":null,"operation":"mmap","pid":7,"comm":"ev)"
            "\xef\xbf\xbd"
            R"(l","uid":1000,"gid":1000,"dev":"8:1","ino":12,"prot":"r--","shared":false,)"
            R"("path":"/tmp/)"
            "\xef\xbf\xbd\xef\xbf\xbd"
            R"(.so","dropped":0})");
}

TEST(JsonText, IndentedAsStatusAndShowPrintIt) {
  nlohmann::ordered_json doc = {{"a", "\xff"}, {"b", 1}};
  EXPECT_EQ(json_text(doc, 2), "{\n  \"a\": \"\xef\xbf\xbd\",\n  \"b\": 1\n}");
}

TEST(Printable, EscapesWhatATerminalWouldActOn) {
  EXPECT_EQ(printable("plain /srv/a b.so"), "plain /srv/a b.so");
  EXPECT_EQ(printable("a\nb\tc\rd\\e"), "a\\nb\\tc\\rd\\\\e");
  EXPECT_EQ(printable("\x1b[2J\x7f\x01"), "\\x1b[2J\\x7f\\x01");
  // Printable UTF-8 stays; bytes that are not UTF-8, C1 controls (0x9b is a
  // CSI to some terminals) and bidirectional overrides are escaped byte by
  // byte.
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(printable("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(printable("\xc2\x9b"
                      "31m"),
            "\\xc2\\x9b"
            "31m");
  EXPECT_EQ(printable("\xe2\x80\xaegpj.so"), "\\xe2\\x80\\xaegpj.so");
  EXPECT_EQ(printable("\xc0\xaf\xed\xa0\x80"), "\\xc0\\xaf\\xed\\xa0\\x80");  // overlong, surrogate
  EXPECT_EQ(printable(std::string_view("a\0b", 3)), "a\\x00b");
}

// A path with a newline forged a second monitor line; escapes reached the
// terminal.
TEST(EventText, UntrustedStringsStayOnOneLine) {
  Event event = denial_with_invalid_utf8();
  event.comm = "x\x1b]0;pwned\x07";
  event.path = "/tmp/a\nlogged map mmap by rule 1 pid=1 comm=init uid=0 gid=0";
  EXPECT_EQ(event.to_text(),
            "denied map mmap by default pid=7 comm=x\\x1b]0;pwned\\x07 uid=1000 gid=1000 "
            "dev=8:1 ino=12 prot=r-- path=/tmp/a\\nlogged map mmap by rule 1 pid=1 comm=init "
            "uid=0 gid=0");
  Event loaded;
  loaded.type = IBGUARD_EVENT_POLICY_LOADED;
  loaded.generation = 3;
  loaded.mode = Mode::enforcing;
  loaded.comm = "load\r";
  EXPECT_EQ(loaded.to_text(), "policy-loaded generation=3 mode=enforcing pid=0 comm=load\\r uid=0");
  Event agent;
  agent.type = IBGUARD_EVENT_DENIED;
  agent.cls = policy::Class::endport;
  agent.operation = "register_smi_agent";
  agent.device = "mlx\t0";
  agent.port = 1;
  EXPECT_EQ(agent.to_text(),
            "denied endport register_smi_agent by default pid=0 comm= uid=0 gid=0 device=mlx\\t0 "
            "port=1");
}

}  // namespace
}  // namespace ibguard
