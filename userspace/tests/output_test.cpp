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

}  // namespace
}  // namespace ibguard
