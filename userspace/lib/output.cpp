#include "output.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace ibguard {

namespace {

// The length of the well-formed UTF-8 sequence at the start of text, and
// its code point; 0 when it is not one (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length;
  unsigned char low = 0x80, high = 0xbf;  // bounds of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code_point = lead & 0x0f;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char lo = i == 1 ? low : 0x80, hi = i == 1 ? high : 0xbf;
    if (byte(i) < lo || byte(i) > hi) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  return length;
}

// Code points a terminal acts on or that change how the line reads.
bool shown_as_is(char32_t code_point) {
  const bool c1_control = code_point >= 0x80 && code_point <= 0x9f;
  const bool line_separator = code_point == 0x2028 || code_point == 0x2029;
  const bool bidi_control = (code_point >= 0x202a && code_point <= 0x202e) ||
                            (code_point >= 0x2066 && code_point <= 0x2069);
  return !c1_control && !line_separator && !bidi_control;
}

void append_escaped_bytes(std::string& out, std::string_view bytes) {
  for (char c : bytes) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
}

}  // namespace

std::string json_text(const nlohmann::ordered_json& doc, int indent) {
  return doc.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      char32_t code_point = 0;
      std::size_t length = utf8_sequence(text.substr(i), code_point);
      if (length != 0 && shown_as_is(code_point))
        out += text.substr(i, length);
      else
        append_escaped_bytes(out, text.substr(i, length == 0 ? 1 : length));
      i += length == 0 ? 1 : length;
      continue;
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f)
          append_escaped_bytes(out, text.substr(i, 1));
        else
          out += c;
    }
    ++i;
  }
  return out;
}

}  // namespace ibguard
