// The ibguard.conf compiler: a line lexer, a recursive-descent parser per
// statement, and name resolution through a Resolver. Every error of a file is
// collected (the first one of each line), with its exact source position.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/ibguard.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "policy.hpp"

namespace ibguard::policy {

std::string_view to_string(Class cls) {
  switch (cls) {
    case Class::pkey:
      return "pkey";
    case Class::endport:
      return "endport";
    case Class::map:
      return "map";
  }
  return "unknown";
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::allow:
      return "allow";
    case Verdict::deny:
      return "deny";
  }
  return "unknown";
}

std::uint32_t kernel_dev(unsigned major, unsigned minor) {
  return (static_cast<std::uint32_t>(major) << 20) | static_cast<std::uint32_t>(minor);
}

std::string format(const Diagnostic& diagnostic) {
  const SourceLocation& loc = diagnostic.location;
  std::string line = diagnostic.line_text;
  for (char& c : line) {
    if (c == '\t') c = ' ';
  }
  const unsigned column = loc.column == 0 ? 1 : loc.column;
  const unsigned length = diagnostic.length == 0 ? 1 : diagnostic.length;
  std::string caret(column - 1, ' ');
  caret += '^';
  caret.append(length - 1, '~');
  return fmt::format("{}:{}:{}: error: {}\n{}\n{}\n", loc.file, loc.line, loc.column,
                     diagnostic.message, line, caret);
}

namespace {

// ---------------------------------------------------------------------------
// Lexer

struct Token {
  std::string text;     // the value, quotes removed and escapes applied
  unsigned column = 0;  // 1-based byte column of the first character
  unsigned length = 0;  // bytes in the line, quotes included
  bool quoted = false;
};

// An error inside one line: where, how long, and what.
struct LineError {
  unsigned column = 1;
  unsigned length = 1;
  std::string message;
};

struct LexedLine {
  std::vector<Token> tokens;
  std::optional<LineError> error;  // the tokens stop before it
  unsigned end_column = 1;         // just past the last token
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// A NUL in a token would cut it short where a name goes to the C library and
// where a rule's source goes to the kernel; a carriage return ending a word
// would be dropped as the CR of a CR LF line end when the source is loaded
// again (as 'ibguardctl show' prints it).
constexpr std::string_view nul_error = "unexpected NUL character";
constexpr std::string_view cr_error = "unexpected carriage return (lines end with LF or CR LF)";

std::string quote(std::string_view text) { return fmt::format("'{}'", text); }

LexedLine lex(std::string_view line) {
  LexedLine out;
  std::size_t i = 0;
  const std::size_t n = line.size();
  auto col = [](std::size_t index) { return static_cast<unsigned>(index + 1); };
  while (true) {
    while (i < n && is_blank(line[i])) ++i;
    if (i == n || line[i] == '#') break;
    Token token;
    token.column = col(i);
    const std::size_t start = i;
    if (line[i] == '"') {
      token.quoted = true;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        const char c = line[j];
        if (c == '"') {
          closed = true;
          ++j;
          break;
        }
        if (c == '\\' && j + 1 < n) {
          const char e = line[j + 1];
          if (e != '"' && e != '\\') {
            out.error = LineError{col(j), 2,
                                  fmt::format("invalid escape '\\{}' in quoted string (only \\\" "
                                              "and \\\\ are allowed)",
                                              e)};
            return out;
          }
          token.text += e;
          j += 2;
          continue;
        }
        if (c == '\0') {
          out.error = LineError{col(j), 1, std::string(nul_error)};
          return out;
        }
        token.text += c;
        ++j;
      }
      if (!closed) {
        out.error =
            LineError{col(start), static_cast<unsigned>(n - start), "unterminated quoted string"};
        return out;
      }
      if (j < n && !is_blank(line[j]) && line[j] != '#') {
        out.error =
            LineError{col(j), 1,
                      fmt::format("expected a blank after the closing quote, found '{}'", line[j])};
        return out;
      }
      i = j;
    } else {
      while (i < n && !is_blank(line[i]) && line[i] != '#') {
        if (line[i] == '"') {
          out.error =
              LineError{col(i), 1, "unexpected '\"' inside a word (quote the whole word instead)"};
          return out;
        }
        if (line[i] == '\0' || line[i] == '\r') {
          out.error = LineError{col(i), 1, std::string(line[i] == '\0' ? nul_error : cr_error)};
          return out;
        }
        token.text += line[i];
        ++i;
      }
    }
    token.length = static_cast<unsigned>(i - start);
    out.end_column = col(i);
    out.tokens.push_back(std::move(token));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Token cursor

class Cursor {
 public:
  explicit Cursor(const LexedLine& line) : line_(line) {}

  // The next token, or nullptr at the end of the line. Reaching the point
  // where the lexer failed reports the lexer's error.
  const Token* peek() const {
    if (pos_ < line_.tokens.size()) return &line_.tokens[pos_];
    if (line_.error) throw *line_.error;
    return nullptr;
  }

  void skip() { ++pos_; }

  const Token* accept(std::string_view word) {
    const Token* token = peek();
    if (token != nullptr && token->text == word) {
      ++pos_;
      return token;
    }
    return nullptr;
  }

  // The next token; "expected WHAT, found end of line" when there is none.
  const Token& next(std::string_view what) {
    const Token* token = peek();
    if (token == nullptr) fail_at_end(fmt::format("expected {}, found end of line", what));
    ++pos_;
    return *token;
  }

  void expect_end() const {
    if (const Token* token = peek()) {
      fail(*token, fmt::format("expected end of line, found {}", quote(token->text)));
    }
  }

  [[noreturn]] static void fail(const Token& token, std::string message) {
    throw LineError{token.column, token.length == 0 ? 1u : token.length, std::move(message)};
  }

  [[noreturn]] void fail_at_end(std::string message) const {
    throw LineError{line_.end_column, 1, std::move(message)};
  }

 private:
  const LexedLine& line_;
  std::size_t pos_ = 0;
};

// A part of a token (for error positions). Inside a quoted token the offsets
// of the value differ from the source, so the whole token is meant there.
LineError error_at(const Token& token, std::size_t offset, std::size_t length,
                   std::string message) {
  if (token.quoted || length == 0) return LineError{token.column, token.length, std::move(message)};
  return LineError{token.column + static_cast<unsigned>(offset), static_cast<unsigned>(length),
                   std::move(message)};
}

// ---------------------------------------------------------------------------
// Numbers

struct NumberKind {
  std::string_view what;  // "pkey", "uid", ...
  std::uint64_t min;
  std::uint64_t max;
  bool hex_bounds;  // show the bounds in hex
};

constexpr NumberKind pkey_kind{"pkey", 0, 0xffff, true};
constexpr NumberKind port_kind{"port", 1, 255, false};
constexpr NumberKind uid_kind{"uid", 0, 4294967294u, false};
constexpr NumberKind gid_kind{"gid", 0, 4294967294u, false};
constexpr NumberKind major_kind{"chardev major", 0, 4095, false};
constexpr NumberKind minor_kind{"chardev minor", 0, (1u << 20) - 1, false};

std::string bound(std::uint64_t value, bool hex) {
  return hex && value != 0 ? fmt::format("{:#x}", value) : fmt::format("{}", value);
}

// Parses `text`, a part of `token` at `offset`, as a number of `kind`.
std::uint64_t parse_number(const Token& token, std::size_t offset, std::string_view text,
                           const NumberKind& kind) {
  auto invalid = [&] {
    return error_at(token, offset, text.size(),
                    fmt::format("invalid {} {} (expected a decimal or 0x hexadecimal number)",
                                kind.what, quote(text)));
  };
  unsigned base = 10;
  std::string_view digits = text;
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    digits = text.substr(2);
  }
  if (digits.empty()) throw invalid();
  std::uint64_t value = 0;
  bool overflow = false;
  for (char c : digits) {
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      throw invalid();
    }
    if (value > (UINT64_MAX - digit) / base) overflow = true;
    if (!overflow) value = value * base + digit;
  }
  if (overflow || value < kind.min || value > kind.max) {
    throw error_at(token, offset, text.size(),
                   fmt::format("{} {} out of range ({}-{})", kind.what, text,
                               bound(kind.min, kind.hex_bounds), bound(kind.max, kind.hex_bounds)));
  }
  return value;
}

// "<n>" or "<n>-<m>" within `token` from `offset`.
std::pair<std::uint64_t, std::uint64_t> parse_range(const Token& token, std::size_t offset,
                                                    std::string_view text, const NumberKind& kind) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    const std::uint64_t value = parse_number(token, offset, text, kind);
    return {value, value};
  }
  const std::string_view lo_text = text.substr(0, dash);
  const std::string_view hi_text = text.substr(dash + 1);
  if (lo_text.empty() || hi_text.empty()) {
    throw error_at(token, offset, text.size(),
                   fmt::format("invalid {} {} (expected a decimal or 0x hexadecimal number)",
                               kind.what, quote(text)));
  }
  const std::uint64_t lo = parse_number(token, offset, lo_text, kind);
  const std::uint64_t hi = parse_number(token, offset + dash + 1, hi_text, kind);
  if (lo > hi) {
    throw error_at(token, offset, text.size(), fmt::format("range {} is reversed", text));
  }
  return {lo, hi};
}

// ---------------------------------------------------------------------------
// Other values

// A 64-bit subnet prefix: four 16-bit groups, or a '::'-compressed form.
std::uint64_t parse_subnet(const Token& token) {
  const std::string_view text = token.text;
  auto fail = [&](std::string_view reason) {
    return LineError{token.column, token.length,
                     fmt::format("invalid subnet prefix {}: {}", quote(text), reason)};
  };
  auto parse_groups = [&](std::string_view part, std::vector<std::uint16_t>& groups) {
    if (part.empty()) return;
    std::size_t start = 0;
    while (true) {
      const std::size_t colon = part.find(':', start);
      const std::string_view group = part.substr(
          start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
      if (group.empty()) throw fail("empty group");
      if (group.size() > 4)
        throw fail(fmt::format("group {} has more than 4 hex digits", quote(group)));
      std::uint16_t value = 0;
      for (char c : group) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
          digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
          digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
          digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
          throw fail(fmt::format("group {} is not hexadecimal", quote(group)));
        }
        value = static_cast<std::uint16_t>(value * 16 + digit);
      }
      groups.push_back(value);
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
  };

  std::vector<std::uint16_t> head, tail;
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    parse_groups(text, head);
    if (head.size() != 4) throw fail(fmt::format("expected 4 groups, found {}", head.size()));
  } else {
    if (text.find(':', gap + 2) == gap + 2 || text.find("::", gap + 2) != std::string_view::npos) {
      throw fail("'::' may appear only once");
    }
    parse_groups(text.substr(0, gap), head);
    parse_groups(text.substr(gap + 2), tail);
    if (head.size() + tail.size() > 3) throw fail("too many groups with '::'");
    head.resize(4 - tail.size(), 0);
    head.insert(head.end(), tail.begin(), tail.end());
  }
  std::uint64_t prefix = 0;
  for (std::uint16_t group : head) prefix = (prefix << 16) | group;
  return prefix;
}

std::uint32_t parse_prot(const Token& token) {
  const std::string_view text = token.text;
  std::uint32_t prot = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    const std::string_view word = text.substr(start, end - start);
    std::uint32_t bit = 0;
    if (word == "read") {
      bit = prot_read;
    } else if (word == "write") {
      bit = prot_write;
    } else if (word == "exec") {
      bit = prot_exec;
    } else if (word.empty()) {
      throw error_at(token, 0, text.size(),
                     fmt::format("empty protection in {} (expected read, write or exec, "
                                 "separated by commas without blanks)",
                                 quote(text)));
    } else {
      throw error_at(
          token, start, word.size(),
          fmt::format("unknown protection {} (expected read, write or exec)", quote(word)));
    }
    if ((prot & bit) != 0) {
      throw error_at(token, start, word.size(),
                     fmt::format("duplicate protection {}", quote(word)));
    }
    prot |= bit;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return prot;
}

// ---------------------------------------------------------------------------
// Compiler

class Compiler {
 public:
  Compiler(const std::string& file, const Resolver& resolver) : file_(file), resolver_(resolver) {}

  void compile_line(std::string_view text, unsigned line_number) {
    const LexedLine lexed = lex(text);
    if (lexed.tokens.empty() && !lexed.error) return;
    line_number_ = line_number;
    Cursor cursor(lexed);
    try {
      statement(cursor, text, lexed);
    } catch (const LineError& error) {
      result_.errors.push_back(Diagnostic{SourceLocation{file_, line_number, error.column},
                                          error.length == 0 ? 1u : error.length, error.message,
                                          std::string(text)});
    }
  }

  CompileResult take() { return std::move(result_); }

 private:
  // Where `first` .. `last` (inclusive) stand in the line.
  static LineError span(const Token& first, const Token& last, std::string message) {
    return LineError{first.column, last.column + last.length - first.column, std::move(message)};
  }

  void statement(Cursor& cursor, std::string_view text, const LexedLine& lexed) {
    const Token& keyword = cursor.next("a statement");
    const std::string& word = keyword.text;
    if (word == "mode") {
      mode_statement(cursor, keyword);
    } else if (word == "default") {
      default_statement(cursor, keyword);
    } else if (word == "option") {
      option_statement(cursor, keyword);
    } else if (word == "pkey" || word == "endport" || word == "map") {
      Rule rule;
      rule.location = SourceLocation{file_, line_number_, keyword.column};
      if (word == "pkey") {
        pkey_rule(cursor, rule);
      } else if (word == "endport") {
        endport_rule(cursor, rule);
      } else {
        map_rule(cursor, rule);
      }
      verdict_and_subjects(cursor, rule);
      const Token& last = lexed.tokens.back();
      rule.source =
          std::string(text.substr(keyword.column - 1, last.column + last.length - keyword.column));
      check_source_length(keyword, rule.source);
      result_.policy.rules.push_back(std::move(rule));
    } else {
      Cursor::fail(keyword, fmt::format("unknown statement {}", quote(word)));
    }
  }

  // The kernel keeps a rule's text for 'show' and refuses a longer one;
  // the caret marks where the rule goes past the limit.
  static void check_source_length(const Token& keyword, const std::string& source) {
    constexpr std::size_t max_source = IBGUARD_MAX_SOURCE_LEN - 1;  // without the NUL
    if (source.size() <= max_source) return;
    throw LineError{keyword.column + static_cast<unsigned>(max_source),
                    static_cast<unsigned>(source.size() - max_source),
                    fmt::format("rule is {} bytes long, the kernel takes at most {} (comments and "
                                "blanks around the rule do not count)",
                                source.size(), max_source)};
  }

  // first_line is recorded by the caller once the whole statement is
  // valid: an invalid one sets nothing, so its correction is no duplicate.
  static void check_not_set(const std::optional<unsigned>& first_line, const LineError& where,
                            std::string_view what) {
    if (first_line) {
      throw LineError{where.column, where.length,
                      fmt::format("duplicate '{}' (first set on line {})", what, *first_line)};
    }
  }

  void mode_statement(Cursor& cursor, const Token& keyword) {
    check_not_set(mode_line_, span(keyword, keyword, {}), "mode");
    const Token& value = cursor.next("'enforcing' or 'permissive'");
    if (value.text == "enforcing") {
      result_.policy.mode = Mode::enforcing;
    } else if (value.text == "permissive") {
      result_.policy.mode = Mode::permissive;
    } else {
      Cursor::fail(
          value, fmt::format("expected 'enforcing' or 'permissive', found {}", quote(value.text)));
    }
    cursor.expect_end();
    mode_line_ = line_number_;
  }

  void default_statement(Cursor& cursor, const Token& keyword) {
    const Token& cls_token = cursor.next("'pkey', 'endport' or 'map'");
    Class cls;
    if (cls_token.text == "pkey") {
      cls = Class::pkey;
    } else if (cls_token.text == "endport") {
      cls = Class::endport;
    } else if (cls_token.text == "map") {
      cls = Class::map;
    } else {
      Cursor::fail(cls_token, fmt::format("expected 'pkey', 'endport' or 'map', found {}",
                                          quote(cls_token.text)));
    }
    const auto index = static_cast<std::size_t>(cls);
    check_not_set(default_line_[index], span(keyword, cls_token, {}),
                  fmt::format("default {}", to_string(cls)));
    result_.policy.defaults[index] = verdict(cursor);
    cursor.expect_end();
    default_line_[index] = line_number_;
  }

  void option_statement(Cursor& cursor, const Token& keyword) {
    const Token& name = cursor.next("an option name ('pkey-on-roce')");
    if (name.text != "pkey-on-roce") {
      Cursor::fail(
          name, fmt::format("unknown option {} (known options: pkey-on-roce)", quote(name.text)));
    }
    check_not_set(pkey_on_roce_line_, span(keyword, name, {}), "option pkey-on-roce");
    const Token& value = cursor.next("'yes' or 'no'");
    if (value.text == "yes") {
      result_.policy.pkey_on_roce = true;
    } else if (value.text == "no") {
      result_.policy.pkey_on_roce = false;
    } else {
      Cursor::fail(value, fmt::format("expected 'yes' or 'no', found {}", quote(value.text)));
    }
    cursor.expect_end();
    pkey_on_roce_line_ = line_number_;
  }

  static Verdict verdict(Cursor& cursor) {
    const Token& token = cursor.next("'allow' or 'deny'");
    if (token.text == "allow") return Verdict::allow;
    if (token.text == "deny") return Verdict::deny;
    Cursor::fail(token, fmt::format("expected 'allow' or 'deny', found {}", quote(token.text)));
  }

  static void pkey_rule(Cursor& cursor, Rule& rule) {
    rule.cls = Class::pkey;
    const Token& pkeys = cursor.next("a pkey, a pkey range or 'any'");
    if (pkeys.text == "any") {
      rule.pkey_lo = 0;
      rule.pkey_hi = 0xffff;
    } else {
      const auto [lo, hi] = parse_range(pkeys, 0, pkeys.text, pkey_kind);
      rule.pkey_lo = static_cast<std::uint16_t>(lo);
      rule.pkey_hi = static_cast<std::uint16_t>(hi);
    }
    if (cursor.accept("subnet")) {
      const Token& prefix = cursor.next("a subnet prefix or 'any'");
      if (prefix.text != "any") rule.subnet = parse_subnet(prefix);
    }
  }

  static void endport_rule(Cursor& cursor, Rule& rule) {
    rule.cls = Class::endport;
    const Token& device = cursor.next("a device name or '*'");
    if (device.text != "*") {
      if (!valid_object_name(device.text)) {
        Cursor::fail(device, fmt::format("invalid device name {} (1-63 characters of A-Z, a-z, "
                                         "0-9, '_', '.' and '-')",
                                         quote(device.text)));
      }
      rule.device = device.text;
    }
    const Token& port = cursor.next("a port number or '*'");
    if (port.text != "*") {
      rule.port = static_cast<std::uint32_t>(parse_number(port, 0, port.text, port_kind));
    }
  }

  const Token& absolute_path(Cursor& cursor, std::string_view what) {
    const Token& path = cursor.next(what);
    if (path.text.empty() || path.text[0] != '/') {
      Cursor::fail(path, fmt::format("{} is not an absolute path", quote(path.text)));
    }
    return path;
  }

  Resolver::FileId resolve_file(const Token& path) {
    std::string error;
    const std::optional<Resolver::FileId> id = resolver_.file(path.text, error);
    if (!id) Cursor::fail(path, failure(error, "cannot resolve", path.text));
    return *id;
  }

  static std::string failure(const std::string& error, std::string_view what,
                             std::string_view name) {
    return error.empty() ? fmt::format("{} {}", what, quote(name)) : error;
  }

  void map_rule(Cursor& cursor, Rule& rule) {
    rule.cls = Class::map;
    const Token& object = cursor.next("'path', 'tree', 'chardev' or 'fs'");
    if (object.text == "path") {
      rule.object = MapObject::path;
      const Resolver::FileId id = resolve_file(absolute_path(cursor, "a file path after 'path'"));
      rule.dev = id.dev;
      rule.ino = id.ino;
    } else if (object.text == "tree") {
      rule.object = MapObject::tree;
      const Token& path = absolute_path(cursor, "a directory path after 'tree'");
      const Resolver::FileId id = resolve_file(path);
      if (!id.is_directory)
        Cursor::fail(path, fmt::format("{} is not a directory", quote(path.text)));
      rule.dev = id.dev;
      rule.ino = id.ino;
    } else if (object.text == "chardev") {
      rule.object = MapObject::chardev;
      chardev(cursor.next("a device number after 'chardev'"), rule);
    } else if (object.text == "fs") {
      rule.object = MapObject::fs;
      const Token& type = cursor.next("a filesystem type after 'fs'");
      fs_type(type);
      rule.fstype = type.text;
    } else {
      Cursor::fail(object, fmt::format("expected 'path', 'tree', 'chardev' or 'fs', found {}",
                                       quote(object.text)));
    }
    if (cursor.accept("prot")) rule.prot = parse_prot(cursor.next("read, write or exec"));
    if (cursor.accept("shared")) rule.shared = true;
  }

  // The kernel matches s_type->name, which has no '.': the "fuse.sshfs" of
  // mountinfo is a FUSE mount's subtype, and every FUSE mount is "fuse" (or
  // "fuseblk") to the kernel. A rule naming a subtype would never match.
  static void fs_type(const Token& type) {
    const std::string& name = type.text;
    const std::size_t dot = name.find('.');
    if (!valid_object_name(name)) {
      Cursor::fail(type, fmt::format("invalid filesystem type {} (1-63 characters of A-Z, a-z, "
                                     "0-9, '_' and '-')",
                                     quote(name)));
    }
    if (dot == std::string::npos) return;
    const std::string_view base = std::string_view(name).substr(0, dot);
    if (base == "fuse" || base == "fuseblk") {
      throw error_at(type, dot, name.size() - dot,
                     "FUSE subtypes cannot be told apart: the kernel names every FUSE filesystem "
                     "'fuse' ('fuseblk' when it is on a block device); write 'fs fuse' or "
                     "'fs fuseblk'");
    }
    throw error_at(type, dot, name.size() - dot,
                   fmt::format("invalid filesystem type {}: the kernel's type names "
                               "(/proc/filesystems) have no '.'",
                               quote(name)));
  }

  static void chardev(const Token& token, Rule& rule) {
    const std::string_view text = token.text;
    const std::size_t colon = text.find(':');
    const std::string_view major = text.substr(0, colon);
    if (major.empty() ||
        (colon != std::string_view::npos &&
         (colon + 1 == text.size() || text.find(':', colon + 1) != std::string_view::npos))) {
      Cursor::fail(token, fmt::format("invalid chardev {} (expected <major>[:<minor>[-<minor>]])",
                                      quote(text)));
    }
    rule.chr_major = static_cast<std::uint32_t>(parse_number(token, 0, major, major_kind));
    if (colon != std::string_view::npos) {
      const auto [lo, hi] = parse_range(token, colon + 1, text.substr(colon + 1), minor_kind);
      rule.minor_lo = static_cast<std::uint32_t>(lo);
      rule.minor_hi = static_cast<std::uint32_t>(hi);
    }
  }

  void verdict_and_subjects(Cursor& cursor, Rule& rule) {
    rule.verdict = verdict(cursor);
    while (const Token* token = cursor.peek()) {
      const Token& word = *token;
      cursor.skip();
      if (word.text == "log") {
        rule.log = true;
        if (const Token* extra = cursor.peek()) {
          Cursor::fail(*extra, fmt::format("unexpected {} after 'log' (it must come last)",
                                           quote(extra->text)));
        }
        break;
      }
      rule.subjects.push_back(subject(cursor, word));
    }
  }

  Subject subject(Cursor& cursor, const Token& word) {
    Subject subject;
    const std::string& kind = word.text;
    if (kind == "uid" || kind == "gid") {
      const bool uid = kind == "uid";
      subject.type = uid ? Subject::Type::uid : Subject::Type::gid;
      const Token& range =
          cursor.next(fmt::format("a {} or {} range after '{}'", kind, kind, kind));
      const auto [lo, hi] = parse_range(range, 0, range.text, uid ? uid_kind : gid_kind);
      subject.lo = static_cast<std::uint32_t>(lo);
      subject.hi = static_cast<std::uint32_t>(hi);
    } else if (kind == "user" || kind == "group") {
      const bool user = kind == "user";
      subject.type = user ? Subject::Type::uid : Subject::Type::gid;
      const Token& name = cursor.next(fmt::format("a {} name after '{}'", kind, kind));
      std::string error;
      const std::optional<std::uint32_t> id =
          user ? resolver_.user(name.text, error) : resolver_.group(name.text, error);
      if (!id)
        Cursor::fail(name, failure(error, user ? "unknown user" : "unknown group", name.text));
      subject.lo = subject.hi = *id;
    } else if (kind == "cgroup") {
      subject.type = Subject::Type::cgroup;
      const Token& path = absolute_path(cursor, "a cgroup path after 'cgroup'");
      std::string error;
      const std::optional<std::uint64_t> id = resolver_.cgroup(path.text, error);
      if (!id) Cursor::fail(path, failure(error, "cannot resolve cgroup", path.text));
      subject.cgroup_id = *id;
    } else if (kind == "exe") {
      subject.type = Subject::Type::exe;
      const Token& path = absolute_path(cursor, "an executable path after 'exe'");
      const Resolver::FileId id = resolve_file(path);
      if (!id.is_regular) {
        Cursor::fail(path, fmt::format("{} is not a regular file", quote(path.text)));
      }
      subject.dev = id.dev;
      subject.ino = id.ino;
    } else if (kind == "kernel") {
      subject.type = Subject::Type::kernel;
    } else {
      Cursor::fail(word, fmt::format("unknown subject {} (expected uid, gid, user, group, cgroup, "
                                     "exe, kernel or log)",
                                     quote(kind)));
    }
    return subject;
  }

  const std::string& file_;
  const Resolver& resolver_;
  CompileResult result_;
  unsigned line_number_ = 0;
  std::optional<unsigned> mode_line_;
  std::array<std::optional<unsigned>, class_count> default_line_{};
  std::optional<unsigned> pkey_on_roce_line_;
};

// Closes a file descriptor it owns.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads everything from `fd`; returns errno on failure, 0 on success.
int read_all(int fd, std::string& out) {
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

CompileResult compile(std::string_view text, const std::string& file_name,
                      const Resolver& resolver) {
  Compiler compiler(file_name, resolver);
  unsigned line_number = 0;
  // Some editors start a UTF-8 file with a byte order mark; it is no text.
  constexpr std::string_view byte_order_mark = "\xef\xbb\xbf";
  std::size_t start = text.starts_with(byte_order_mark) ? byte_order_mark.size() : 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF
    compiler.compile_line(line, ++line_number);
    start = next;
  }
  return compiler.take();
}

std::string source_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::string errors_summary(const std::string& path, std::size_t count, Purpose purpose) {
  std::string_view outcome;
  switch (purpose) {
    case Purpose::check:
      outcome = "the policy is not valid";
      break;
    case Purpose::load:
      outcome = "nothing was loaded";
      break;
    case Purpose::explain:
      outcome = "nothing was explained";
      break;
  }
  return fmt::format("{}: {} error{}; {}", source_name(path), count, count == 1 ? "" : "s",
                     outcome);
}

CompileResult compile_file(const std::string& path, const Resolver& resolver) {
  std::string text;
  if (path == "-") {
    if (const int err = read_all(STDIN_FILENO, text); err != 0) {
      throw Error(ExitCode::invalid_input,
                  fmt::format("cannot read {}: {}", source_name(path), std::strerror(err)));
    }
    return compile(text, source_name(path), resolver);
  }
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  int err = fd.get() < 0 ? errno : read_all(fd.get(), text);
  if (err != 0) {
    throw Error(ExitCode::invalid_input,
                fmt::format("cannot read {}: {}", path, std::strerror(err)));
  }
  return compile(text, path, resolver);
}

namespace {

// Runs one of the token parsers on a lone value (a command-line option).
template <typename Parse>
auto parse_value(std::string_view text, std::string& error, Parse parse)
    -> std::optional<decltype(parse(std::declval<const Token&>()))> {
  Token token;
  token.text = std::string(text);
  token.column = 1;
  token.length = static_cast<unsigned>(text.size());
  try {
    return parse(token);
  } catch (const LineError& e) {
    error = e.message;
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::uint16_t> parse_pkey(std::string_view text, std::string& error) {
  return parse_value(text, error, [](const Token& token) {
    return static_cast<std::uint16_t>(parse_number(token, 0, token.text, pkey_kind));
  });
}

std::optional<std::uint32_t> parse_id(std::string_view text, bool group, std::string& error) {
  return parse_value(text, error, [group](const Token& token) {
    return static_cast<std::uint32_t>(
        parse_number(token, 0, token.text, group ? gid_kind : uid_kind));
  });
}

std::optional<std::uint64_t> parse_subnet(std::string_view text, std::string& error) {
  return parse_value(text, error, [](const Token& token) { return parse_subnet(token); });
}

std::optional<std::uint32_t> parse_prot(std::string_view text, std::string& error) {
  return parse_value(text, error, [](const Token& token) { return parse_prot(token); });
}

bool valid_object_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> quote_word(std::string_view word) {
  if (word.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos)
    return std::nullopt;
  // A word ends at a blank or '#'; a quote or a carriage return in one is
  // an error.
  const bool plain = !word.empty() && word.find_first_of(" \t#\"\\\r") == std::string_view::npos;
  if (plain) return std::string(word);
  std::string out = "\"";
  for (char c : word) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

}  // namespace ibguard::policy
