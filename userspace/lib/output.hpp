// How ibguardctl writes what it reports. Strings in reports come from users
// (a task's comm, a file's path, a rule's text): any byte may be in them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ibguard {

// JSON text of doc (indent < 0: one line). Bytes that are not valid UTF-8
// become U+FFFD: nlohmann's default dump() throws on them, which ended
// `monitor -j` at the first such comm or path.
std::string json_text(const nlohmann::ordered_json& doc, int indent = -1);

}  // namespace ibguard
