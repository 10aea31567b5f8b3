#include "client.hpp"

#include <fmt/format.h>
#include <linux/ibguard.h>

#include "error.hpp"

namespace ibguard {

namespace {

// One POLICY_ADD message carries at most this much of rule attributes.
constexpr std::size_t max_rules_payload = 60 * 1024;

// Raises the kernel's rejection of a rule at the rule's source location.
[[noreturn]] void throw_rule_error(const KernelError& e, const policy::Rule& rule) {
  policy::Diagnostic diagnostic;
  diagnostic.location = rule.location;
  diagnostic.length = static_cast<unsigned>(std::max<std::size_t>(rule.source.size(), 1));
  diagnostic.message = fmt::format("the kernel rejected this rule: {}",
                                   e.ext_message().empty() ? e.what() : e.ext_message());
  diagnostic.line_text = rule.source;
  // The caret display needs the rule's own line; the source is that line
  // without leading blanks, so show it from column 1.
  diagnostic.location.column = 1;
  std::string text = policy::format(diagnostic);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  throw Error(ExitCode::invalid_input, text);
}

}  // namespace

Client::Client() {
  if (!nl::resolve_family(socket_, IBGUARD_GENL_NAME, family_))
    throw Error(
        ExitCode::module_not_loaded, "the ibguard kernel module is not loaded",
        "load it with 'modprobe ibguard' (or 'insmod build/ibguard.ko' from the source tree)");
}

nl::Message Client::request(std::uint8_t cmd, std::uint16_t flags) const {
  return nl::Message(family_.id, cmd, IBGUARD_GENL_VERSION, flags);
}

std::uint32_t Client::events_group() const {
  auto it = family_.groups.find(IBGUARD_MCGRP_EVENTS);
  if (it == family_.groups.end())
    throw Error(ExitCode::invalid_input, "the module has no events multicast group");
  return it->second;
}

Status Client::status() {
  auto msg = request(IBGUARD_CMD_GET_STATUS);
  Status status;
  socket_.transact(
      msg, [&](const nlmsghdr& reply) { status = Status::from_reply(reply); },
      "reading the module status");
  return status;
}

std::optional<Status> Client::load(const policy::Policy& policy, const LoadOptions& options) {
  auto begin = request(IBGUARD_CMD_POLICY_BEGIN);
  for (std::size_t i = 0; i < policy::class_count; ++i)
    begin.put_u8(default_verdict_attrs[i],
                 static_cast<std::uint8_t>(policy.default_for(static_cast<policy::Class>(i))));
  begin.put_u32(IBGUARD_ATTR_OPTIONS,
                policy.pkey_on_roce.value_or(false) ? IBGUARD_OPT_PKEY_ON_ROCE : 0);
  if (policy.mode) begin.put_u8(IBGUARD_ATTR_MODE, static_cast<std::uint8_t>(*policy.mode));
  if (options.expected_generation)
    begin.put_u64(IBGUARD_ATTR_GENERATION, *options.expected_generation);
  try {
    socket_.transact(begin, {}, "starting the policy load");
  } catch (const KernelError& e) {
    if (e.errnum() == EBUSY)
      throw Error(ExitCode::conflict, "another policy load is in progress; nothing changed");
    if (e.errnum() == ESTALE)
      throw Error(ExitCode::conflict, "the active policy changed underneath; nothing changed");
    throw;
  }

  // No other load can commit while this one stages: if the answer to the
  // commit is lost, comparing with this tells what the commit did (a dry
  // run changes nothing either way).
  std::optional<Status> before = options.dry_run ? std::nullopt : readable_status();

  // From here on, any failure aborts the staging (closing the socket would
  // too, but the socket may live on).
  bool committed = false;
  struct Aborter {
    Client& client;
    bool& committed;
    ~Aborter() {
      if (committed) return;
      try {
        auto abort = client.request(IBGUARD_CMD_POLICY_ABORT);
        client.socket_.transact(abort, {}, "aborting the policy load");
      } catch (const std::exception&) {
        // The kernel frees the staging when the socket closes anyway.
      }
    }
  } aborter{*this, committed};

  // Rules in chunks; remember where each rule lies to map a rejection back.
  auto add = request(IBGUARD_CMD_POLICY_ADD);
  struct Span {
    std::size_t begin, end, rule;
  };
  std::vector<Span> spans;
  auto send_add = [&] {
    if (spans.empty()) return;
    try {
      socket_.transact(add, {}, "loading the policy rules");
    } catch (const KernelError& e) {
      for (const auto& span : spans)
        if (e.bad_attr_offset() >= span.begin && e.bad_attr_offset() < span.end)
          throw_rule_error(e, policy.rules[span.rule]);
      throw;
    }
    add = request(IBGUARD_CMD_POLICY_ADD);
    spans.clear();
  };
  for (std::size_t i = 0; i < policy.rules.size(); ++i) {
    auto one = request(IBGUARD_CMD_POLICY_ADD);
    put_rule(one, policy.rules[i]);
    if (add.payload_size() + one.payload_size() > max_rules_payload) send_add();
    std::size_t begin_offset = add.size();
    add.append(one.payload(), one.payload_size());
    spans.push_back({begin_offset, add.size(), i});
  }
  send_add();

  auto commit = request(IBGUARD_CMD_POLICY_COMMIT);
  if (options.dry_run) commit.put_flag(IBGUARD_ATTR_DRY_RUN);
  if (!options.revoke) commit.put_flag(IBGUARD_ATTR_NO_REVOKE);
  try {
    socket_.transact(commit, {},
                     options.dry_run ? "validating the policy" : "committing the policy");
  } catch (const AnswerLost& lost) {
    committed = true;  // The kernel ended the staging, whatever it answered.
    auto after = readable_status();
    throw lost_commit_error(lost, options.dry_run,
                            before ? std::optional(before->generation) : std::nullopt,
                            after ? std::optional(after->generation) : std::nullopt);
  }
  committed = true;
  return before;
}

std::optional<Status> Client::readable_status() {
  try {
    return status();
  } catch (const Error&) {
    return std::nullopt;
  }
}

Error lost_commit_error(const AnswerLost& lost, bool dry_run, std::optional<std::uint64_t> before,
                        std::optional<std::uint64_t> after) {
  std::string what = fmt::format("{}; the kernel's answer was lost", lost.what());
  if (dry_run)
    return Error(lost.code(), what + ": a dry run changes nothing either way",
                 "run it again to see the verdict");
  if (!before || !after)
    return Error(lost.code(),
                 what +
                     " and the status cannot be read: whether the policy "
                     "was loaded is unknown",
                 "check with 'ibguardctl status' and 'ibguardctl show'");
  if (*after == *before)
    return Error(
        lost.code(),
        fmt::format("{}: the policy was not loaded, generation {} is still active", what, *after));
  // Another load may have begun and committed once this commit ended.
  return Error(
      lost.code(),
      fmt::format("{}: the active policy changed from generation {} to {}", what, *before, *after),
      "check that it is this policy with 'ibguardctl show'");
}

std::optional<Status> status_after_commit(const std::function<Status()>& read, std::string& why) {
  try {
    return read();
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
}

namespace {

constexpr std::string_view unknown_generation =
    "generation unknown: the status could not be read after the commit";

}  // namespace

std::string loaded_report(std::string_view file, const std::optional<Status>& after,
                          std::string_view rules) {
  if (!after) return fmt::format("{}: loaded ({}), {}", file, unknown_generation, rules);
  return fmt::format("{}: loaded as generation {}, {}", file, after->generation, rules);
}

std::string flushed_report(const std::optional<Status>& after) {
  return fmt::format(
      "policy flushed: no rules, every default allow ({})",
      after ? fmt::format("generation {}", after->generation) : std::string(unknown_generation));
}

std::optional<Status> Client::flush() { return load(policy::Policy{}, {}); }

void Client::set_mode(Mode mode) {
  auto msg = request(IBGUARD_CMD_SET_MODE);
  msg.put_u8(IBGUARD_ATTR_MODE, static_cast<std::uint8_t>(mode));
  socket_.transact(msg, {}, "setting the mode");
}

void Client::lock() {
  auto msg = request(IBGUARD_CMD_LOCK);
  socket_.transact(msg, {}, "locking ibguard");
}

void Client::reset_stats() {
  auto msg = request(IBGUARD_CMD_STATS_RESET);
  socket_.transact(msg, {}, "resetting the statistics");
}

void Client::dump(std::uint8_t cmd, const std::function<void(nl::Message&)>& fill,
                  const std::function<void()>& reset, const nl::Socket::Handler& on_reply,
                  std::string_view context) {
  constexpr int attempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto msg = request(cmd, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
    if (fill) fill(msg);
    reset();
    bool interrupted = false;
    socket_.transact(
        msg,
        [&](const nlmsghdr& reply) {
          if (reply.nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
          on_reply(reply);
        },
        context);
    if (!interrupted) return;
    if (attempt == attempts)
      throw Error(ExitCode::conflict,
                  fmt::format("{}: the policy kept changing during the read", context));
  }
}

LoadedPolicy Client::policy() {
  LoadedPolicy result;
  dump(
      IBGUARD_CMD_POLICY_GET, {}, [&] { result = LoadedPolicy{}; },
      [&](const nlmsghdr& reply) { parse_policy_message(reply, result); }, "reading the policy");
  auto status = this->status();
  result.mode = status.mode;
  return result;
}

Stats Client::stats(bool with_rules) {
  Stats result;
  dump(
      IBGUARD_CMD_STATS_GET,
      [&](nl::Message& msg) {
        if (with_rules) msg.put_flag(IBGUARD_ATTR_RULE_STATS);
      },
      [&] { result = Stats{}; }, [&](const nlmsghdr& reply) { parse_stats_message(reply, result); },
      "reading the statistics");
  return result;
}

}  // namespace ibguard
