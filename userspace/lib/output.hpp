// How ibguardctl writes what it reports. Strings in reports come from users
// (a task's comm, a file's path, a rule's text): any byte may be in them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ibguard {

// JSON text of doc (indent < 0: one line). Bytes that are not valid UTF-8
// become U+FFFD: nlohmann's default dump() throws on them, which ended
// `monitor -j` at the first such comm or path.
std::string json_text(const nlohmann::ordered_json& doc, int indent = -1);

// text as it can go to a terminal and stay on its line: control characters
// and the backslash become C escapes (\n, \t, \r, \\, \xNN), and so does
// each byte that is not printable UTF-8 (invalid sequences, C1 controls,
// bidirectional overrides and line separators). Printable UTF-8 stays as it
// is. A path with a newline forged a second `monitor` line before.
std::string printable(std::string_view text);

}  // namespace ibguard
