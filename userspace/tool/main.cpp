// ibguardctl: load ibguard policies and read the module's state.
#include <fmt/format.h>
#include <grp.h>
#include <linux/ibguard.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "client.hpp"
#include "error.hpp"
#include "explain.hpp"
#include "monitor.hpp"
#include "output.hpp"
#include "policy.hpp"

namespace {

using ibguard::Error;
using ibguard::ExitCode;

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) { interrupted = 1; }

void catch_signals() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void print_json(const nlohmann::ordered_json& doc) {
  std::cout << ibguard::json_text(doc, 2) << std::endl;
}

// Compiles a policy file; prints every error and raises when there is one.
ibguard::policy::Policy compile_or_fail(const std::string& file, ibguard::policy::Purpose purpose) {
  ibguard::policy::SystemResolver resolver;
  auto result = ibguard::policy::compile_file(file, resolver);
  if (!result.ok()) {
    for (const auto& diagnostic : result.errors) std::cerr << ibguard::policy::format(diagnostic);
    throw Error(ExitCode::invalid_input,
                ibguard::policy::errors_summary(file, result.errors.size(), purpose));
  }
  return std::move(result.policy);
}

std::string rule_summary(const ibguard::policy::Policy& policy) {
  std::array<std::size_t, ibguard::policy::class_count> count{};
  for (const auto& rule : policy.rules) ++count[static_cast<std::size_t>(rule.cls)];
  return fmt::format("{} rule{} ({} pkey, {} endport, {} map)", policy.rules.size(),
                     policy.rules.size() == 1 ? "" : "s", count[0], count[1], count[2]);
}

int run_status(bool json) {
  ibguard::Client client;
  auto status = client.status();
  if (json)
    print_json(status.to_json());
  else
    std::cout << status.to_text();
  if (status.protocol_version != IBGUARD_PROTOCOL_VERSION)
    std::cerr << fmt::format(
        "ibguardctl: warning: the module speaks protocol {}, this ibguardctl {}\n",
        status.protocol_version, IBGUARD_PROTOCOL_VERSION);
  return 0;
}

int run_check(const std::string& file) {
  auto policy = compile_or_fail(file, ibguard::policy::Purpose::check);
  std::cout << fmt::format("{}: valid, {}\n", ibguard::policy::source_name(file),
                           rule_summary(policy));
  return 0;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void print_live_objects_note(const std::optional<ibguard::Status>& before,
                             const ibguard::Status& after) {
  if (auto note = before ? ibguard::live_objects_note(*before, after) : std::nullopt)
    std::cerr << fmt::format("ibguardctl: note: {}\n", *note);
}

// The status once the kernel acknowledged a commit; a failure to read it
// is a warning, not the command's failure: the policy changed.
std::optional<ibguard::Status> status_after_commit(ibguard::Client& client) {
  std::string why;
  auto status = ibguard::status_after_commit([&] { return client.status(); }, why);
  if (!status)
    std::cerr << fmt::format("ibguardctl: warning: committed, but the status cannot be read: {}\n",
                             why);
  return status;
}

int run_load(const std::string& file, bool dry_run, bool revoke, bool timing) {
  auto start = std::chrono::steady_clock::now();
  auto policy = compile_or_fail(file, ibguard::policy::Purpose::load);
  double compiled = milliseconds_since(start);
  start = std::chrono::steady_clock::now();
  ibguard::Client client;
  auto before =
      client.load(policy, {.dry_run = dry_run, .expected_generation = {}, .revoke = revoke});
  double loaded = milliseconds_since(start);
  if (timing)
    std::cerr << fmt::format("timing: compile {:.3f} ms, kernel load {:.3f} ms\n", compiled,
                             loaded);
  if (dry_run) {
    std::cout << fmt::format("{}: accepted by the kernel (dry run, nothing changed), {}\n",
                             ibguard::policy::source_name(file), rule_summary(policy));
  } else {
    auto status = status_after_commit(client);
    std::cout << ibguard::loaded_report(ibguard::policy::source_name(file), status,
                                        rule_summary(policy))
              << '\n';
    if (status) print_live_objects_note(before, *status);
  }
  return 0;
}

int run_show(bool json) {
  ibguard::Client client;
  auto policy = client.policy();
  if (json)
    print_json(policy.to_json());
  else
    std::cout << policy.to_text();
  return 0;
}

int run_stats(bool json, bool rules, unsigned interval, bool cumulative, unsigned count) {
  ibguard::Client client;
  if (interval == 0) {
    auto stats = client.stats(rules);
    if (json)
      print_json(stats.to_json(rules));
    else
      std::cout << stats.to_text(rules);
    return 0;
  }
  catch_signals();
  auto previous = client.stats(rules);
  for (unsigned n = 0; !interrupted && (count == 0 || n < count); ++n) {
    for (unsigned ms = 0; ms < interval * 1000 && !interrupted; ms += 100)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (interrupted) break;
    auto current = client.stats(rules);
    auto shown = cumulative ? current : current.minus(previous);
    if (json)
      std::cout << ibguard::json_text(shown.to_json(rules)) << std::endl;
    else
      std::cout << shown.to_text(rules) << std::endl;
    previous = current;
  }
  return 0;
}

int run_mode(const std::string& mode) {
  ibguard::Client client;
  client.set_mode(mode == "enforcing" ? ibguard::Mode::enforcing : ibguard::Mode::permissive);
  std::cout << fmt::format("mode set to {}\n", mode);
  return 0;
}

int run_flush() {
  ibguard::Client client;
  auto before = client.flush();
  auto status = status_after_commit(client);
  std::cout << ibguard::flushed_report(status) << '\n';
  if (status) print_live_objects_note(before, *status);
  return 0;
}

int run_lock() {
  ibguard::Client client;
  client.lock();
  std::cout << "ibguard locked until reboot: rmmod, permissive mode, flush and policies that "
               "can deny nothing are refused\n";
  return 0;
}

int run_reset() {
  ibguard::Client client;
  client.reset_stats();
  std::cout << "statistics reset\n";
  return 0;
}

int run_monitor(bool json, unsigned count) {
  ibguard::Client client;
  ibguard::Monitor monitor(client);
  catch_signals();
  unsigned seen = 0;
  monitor.run(
      [&](const ibguard::Event& event) {
        if (json)
          std::cout << ibguard::json_text(event.to_json()) << std::endl;
        else
          std::cout << event.to_text() << std::endl;
        return count == 0 || ++seen < count;
      },
      [] {
        std::cerr << "ibguardctl: events were lost: the receive buffer overran; continuing"
                  << std::endl;
      },
      [](const Error& e) {
        std::cerr << "ibguardctl: skipped an event that cannot be read: " << e.what()
                  << "; continuing" << std::endl;
      },
      [] { return interrupted != 0; });
  return 0;
}

// What `explain` is asked: a hypothetical request (class given) or, without
// one, the reports on standard input.
struct ExplainOptions {
  std::string policy_file;  // empty: the active policy
  std::string cls, path, prot, pkey, subnet = "fe80::", device, operation;
  unsigned port = 0;
  bool shared = false, kernel = false, json = false;
  std::string uid, gid, groups, cgroup, exe;
};

template <typename T>
T checked(std::optional<T> value, const std::string& option, const std::string& error) {
  if (!value) throw Error(ExitCode::usage, fmt::format("{}: {}", option, error));
  return *value;
}

// A uid or gid given to `option` as a number or a name.
std::uint32_t id_option(const std::string& text, bool group, const std::string& option,
                        const ibguard::policy::Resolver& names) {
  std::string error;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
    return checked(ibguard::policy::parse_id(text, group, error), option, error);
  auto id = group ? names.group(text, error) : names.user(text, error);
  if (!id) throw Error(ExitCode::invalid_input, error);
  return *id;
}

// The task of a hypothetical request: its uid, its group and groups (by
// default those the group database gives the uid's user), cgroup and
// executable when named.
ibguard::explain::Subject explain_subject(const ExplainOptions& opt,
                                          const ibguard::explain::Environment& env) {
  if (opt.kernel) return ibguard::explain::kernel_thread(env);
  ibguard::explain::Subject who;
  if (opt.uid.empty()) throw Error(ExitCode::usage, "explain: give --uid (or --kernel)");
  const auto& names = env.resolver();
  who.uid = id_option(opt.uid, false, "--uid", names);
  const passwd* user = ::getpwuid(who.uid);
  if (!opt.gid.empty())
    who.gid = id_option(opt.gid, true, "--gid", names);
  else if (user)
    who.gid = user->pw_gid;
  else
    throw Error(ExitCode::usage, fmt::format("uid {} has no passwd entry: give --gid", who.uid));
  if (!opt.groups.empty()) {
    std::vector<std::uint32_t> groups;
    std::size_t start = 0;
    while (start <= opt.groups.size()) {
      std::size_t comma = opt.groups.find(',', start);
      if (comma == std::string::npos) comma = opt.groups.size();
      groups.push_back(id_option(opt.groups.substr(start, comma - start), true, "--groups", names));
      start = comma + 1;
    }
    who.groups = groups;
  } else if (user) {
    int count = 64;
    std::vector<gid_t> list(static_cast<std::size_t>(count));
    if (::getgrouplist(user->pw_name, who.gid, list.data(), &count) < 0) {
      list.resize(static_cast<std::size_t>(count));
      ::getgrouplist(user->pw_name, who.gid, list.data(), &count);
    }
    list.resize(static_cast<std::size_t>(count));
    who.groups = std::vector<std::uint32_t>(list.begin(), list.end());
  }
  std::string error;
  if (!opt.cgroup.empty())
    who.cgroup_chain = checked(env.cgroup_chain(opt.cgroup, error), "--cgroup", error);
  if (!opt.exe.empty()) {
    auto facts = checked(env.file_facts(opt.exe, error), "--exe", error);
    who.exe = facts.key;
  } else {
    who.exe_known = false;
  }
  return who;
}

ibguard::explain::Request hypothetical_request(const ExplainOptions& opt,
                                               const ibguard::explain::Environment& env) {
  using ibguard::policy::Class;
  ibguard::explain::Request request;
  request.operation = opt.operation;
  std::string error;
  if (opt.cls == "map") {
    if (opt.path.empty()) throw Error(ExitCode::usage, "explain --class map: give --path");
    request.cls = Class::map;
    request.map.path = opt.path;
    ibguard::explain::complete_map_object(request.map, env);
    if (!opt.prot.empty()) {
      // "rx" as monitor shows it, or "read,exec" as a policy writes it.
      const bool letters = opt.prot.find_first_not_of("rwx-") == std::string::npos;
      std::string words = opt.prot;
      if (letters) {
        std::vector<std::string> parts;
        for (char c : opt.prot)
          if (c != '-') parts.push_back(c == 'r' ? "read" : c == 'w' ? "write" : "exec");
        words = fmt::format("{}", fmt::join(parts, ","));
      }
      request.map.prot = checked(ibguard::policy::parse_prot(words, error), "--prot", error);
    }
    request.map.shared = opt.shared;
  } else if (opt.cls == "pkey") {
    if (opt.pkey.empty()) throw Error(ExitCode::usage, "explain --class pkey: give --pkey");
    request.cls = Class::pkey;
    request.pkey = checked(ibguard::policy::parse_pkey(opt.pkey, error), "--pkey", error);
    request.subnet = checked(ibguard::policy::parse_subnet(opt.subnet, error), "--subnet", error);
    request.device = opt.device;
    request.port = opt.port;
  } else {
    if (opt.device.empty() || opt.port == 0)
      throw Error(ExitCode::usage, "explain --class endport: give --device and --port");
    request.cls = Class::endport;
    request.device = opt.device;
    request.port = opt.port;
  }
  request.subject = explain_subject(opt, env);
  return request;
}

int run_explain(const ExplainOptions& opt) {
  ibguard::explain::SystemEnvironment env;
  std::optional<ibguard::explain::Request> hypothetical;
  if (!opt.cls.empty()) hypothetical = hypothetical_request(opt, env);

  ibguard::policy::Policy policy;
  std::string name;
  std::optional<std::uint64_t> generation;
  if (!opt.policy_file.empty()) {
    policy = compile_or_fail(opt.policy_file, ibguard::policy::Purpose::explain);
    name = ibguard::policy::source_name(opt.policy_file);
  } else {
    ibguard::Client client;
    auto active = client.policy();
    if (!active.present)
      throw Error(ExitCode::invalid_input, "no policy has been loaded: everything is allowed",
                  "give --policy FILE to explain against a policy file");
    auto result = ibguard::policy::compile(active.to_text(), "", env.resolver());
    if (!result.ok())
      throw Error(ExitCode::invalid_input,
                  fmt::format("the active policy no longer resolves on this system: {}",
                              result.errors.front().message),
                  "give --policy FILE with the policy as it should be");
    policy = std::move(result.policy);
    generation = active.generation;
    name = fmt::format("the active policy (generation {})", active.generation);
  }

  if (hypothetical) {
    std::cout << ibguard::explain::explanation_output(policy, name, generation, *hypothetical,
                                                      opt.json, true);
    return 0;
  }
  // Reports on standard input: monitor -j lines and audit records (ausearch
  // output as it is, other lines skipped), each explained as it comes.
  const auto counts = ibguard::explain::explain_stream(
      std::cin, std::cout, policy, name, generation, env, opt.json,
      [](unsigned line, const std::string& message) {
        std::cerr << fmt::format("ibguardctl: standard input, line {}: {}", line, message)
                  << std::endl;
      });
  if (counts.bad_lines != 0) return static_cast<int>(ExitCode::invalid_input);
  if (counts.explained == 0)
    throw Error(ExitCode::invalid_input,
                "no ibguard decision on standard input (expected 'ibguardctl monitor -j' lines or "
                "ausearch output with ibguard records)",
                "to explain a request that was not reported, give --class and its options");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ibguardctl: control the ibguard access-control module", "ibguardctl"};
  app.set_version_flag("--version", std::string("ibguardctl ") + IBGUARDCTL_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 invalid policy or input, 2 usage, 3 module not loaded,\n"
      "4 permission denied, 5 conflict (another load in progress or policy changed).");

  bool json = false;
  std::string file;

  auto* status =
      app.add_subcommand("status", "Show module version, protocol, mode and policy generation");
  status->add_flag("-j,--json", json, "Print JSON");

  auto* check = app.add_subcommand("check", "Validate a policy file offline (no module needed)");
  check->add_option("FILE", file, "Policy file ('-': standard input)")->required();

  bool dry_run = false;
  auto* load = app.add_subcommand("load", "Load a policy file atomically");
  load->add_option("FILE", file, "Policy file ('-': standard input)")->required();
  load->add_flag("--dry-run", dry_run, "Validate in the kernel without changing anything");
  bool no_revoke = false;
  load->add_flag("--no-revoke", no_revoke,
                 "Leave live QPs and agents alone: only new setups follow the new policy (by "
                 "default QPs it denies are moved to the error state and QP0 agents it denies "
                 "are cut off)");
  bool timing = false;
  load->add_flag("--timing", timing,
                 "Print to stderr how long compiling (reading, parsing, resolving names) and "
                 "loading (transfer, kernel compile, swap) took");

  auto* show = app.add_subcommand("show", "Print the active policy (loads back unchanged)");
  show->add_flag("-j,--json", json, "Print JSON");

  bool rules = false, cumulative = false;
  unsigned interval = 0, count = 0;
  auto* stats = app.add_subcommand("stats", "Show decision statistics");
  stats->add_flag("-j,--json", json, "Print JSON (one object per interval with -i)");
  stats->add_flag("--rules", rules, "Also show per-rule hits");
  stats->add_option("-i,--interval", interval, "Print every SECONDS the counts of that interval")
      ->check(CLI::Range(1u, 86400u));
  stats->add_flag("-c,--cumulative", cumulative, "With -i: print running totals instead");
  stats->add_option("-n,--count", count, "With -i: stop after N intervals");
  auto* reset = stats->add_subcommand("reset", "Zero every counter");

  std::string mode;
  auto* mode_cmd = app.add_subcommand("mode", "Set the mode until the next load");
  mode_cmd->add_option("MODE", mode, "enforcing or permissive")
      ->required()
      ->check(CLI::IsMember({"enforcing", "permissive"}));

  auto* flush = app.add_subcommand("flush", "Remove every rule and allow everything (mode kept)");

  auto* lock = app.add_subcommand(
      "lock",
      "Until reboot, refuse rmmod, permissive mode, flush and policies that can deny "
      "nothing");

  auto* monitor = app.add_subcommand("monitor", "Print denials and policy events as they come");
  monitor->add_flag("-j,--json", json, "Print one JSON object per line");
  monitor->add_option("-n,--count", count, "Exit after N events");

  ExplainOptions explain_opt;
  auto* explain = app.add_subcommand(
      "explain",
      "Tell which rule decides a request and what would flip it: the decisions on standard "
      "input ('monitor -j' lines, ausearch output) or the request given by --class");
  explain->add_option("--policy", explain_opt.policy_file,
                      "Explain against this policy file (default: the active policy)");
  explain->add_flag("-j,--json", explain_opt.json, "Print one JSON object per request");
  explain->add_option("--class", explain_opt.cls, "Class of a hypothetical request")
      ->check(CLI::IsMember({"pkey", "endport", "map"}));
  explain->add_option("--path", explain_opt.path, "map: the file mapped");
  explain->add_option("--prot", explain_opt.prot,
                      "map: the protection asked for ('rx' or 'read,exec'; default none)");
  explain->add_flag("--shared", explain_opt.shared, "map: a MAP_SHARED mapping");
  explain->add_option("--pkey", explain_opt.pkey, "pkey: the P_Key (0x8001)");
  explain->add_option("--subnet", explain_opt.subnet, "pkey: the subnet prefix (default fe80::)");
  explain->add_option("--device", explain_opt.device, "pkey, endport: the RDMA device");
  explain->add_option("--port", explain_opt.port, "pkey, endport: the port")
      ->check(CLI::Range(1u, 255u));
  explain->add_option("--uid", explain_opt.uid, "The task's effective uid (number or name)");
  explain->add_option("--gid", explain_opt.gid,
                      "Its effective gid (default: the user's primary group)");
  explain->add_option("--groups", explain_opt.groups,
                      "Its supplementary groups, comma-separated (default: the user's)");
  explain->add_option("--cgroup", explain_opt.cgroup, "Its cgroup v2 path (/tenants/a)");
  explain->add_option("--exe", explain_opt.exe, "Its executable");
  explain->add_flag("--kernel", explain_opt.kernel, "A kernel thread asks");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }

  try {
    if (status->parsed()) return run_status(json);
    if (check->parsed()) return run_check(file);
    if (load->parsed()) return run_load(file, dry_run, !no_revoke, timing);
    if (show->parsed()) return run_show(json);
    if (reset->parsed()) return run_reset();
    if (stats->parsed()) return run_stats(json, rules, interval, cumulative, count);
    if (mode_cmd->parsed()) return run_mode(mode);
    if (flush->parsed()) return run_flush();
    if (lock->parsed()) return run_lock();
    if (monitor->parsed()) return run_monitor(json, count);
    if (explain->parsed()) return run_explain(explain_opt);
  } catch (const Error& e) {
    std::cerr << "ibguardctl: " << e.what() << '\n';
    if (!e.hint().empty()) std::cerr << "Hint: " << e.hint() << '\n';
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "ibguardctl: " << e.what() << '\n';
    return static_cast<int>(ExitCode::invalid_input);
  }
  return static_cast<int>(ExitCode::usage);
}
