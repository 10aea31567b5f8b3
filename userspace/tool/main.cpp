// ibguardctl: load ibguard policies and read the module's state.
#include <fmt/format.h>
#include <linux/ibguard.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "client.hpp"
#include "error.hpp"
#include "monitor.hpp"
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

void print_json(const nlohmann::ordered_json& doc) { std::cout << doc.dump(2) << std::endl; }

// Compiles a policy file; prints every error and raises when there is one.
ibguard::policy::Policy compile_or_fail(const std::string& file) {
  ibguard::policy::SystemResolver resolver;
  auto result = ibguard::policy::compile_file(file, resolver);
  if (!result.ok()) {
    for (const auto& diagnostic : result.errors) std::cerr << ibguard::policy::format(diagnostic);
    throw Error(ExitCode::invalid_input,
                fmt::format("{}: {} error{}; nothing was loaded", file, result.errors.size(),
                            result.errors.size() == 1 ? "" : "s"));
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
  auto policy = compile_or_fail(file);
  std::cout << fmt::format("{}: valid, {}\n", file, rule_summary(policy));
  return 0;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

int run_load(const std::string& file, bool dry_run, bool revoke, bool timing) {
  auto start = std::chrono::steady_clock::now();
  auto policy = compile_or_fail(file);
  double compiled = milliseconds_since(start);
  start = std::chrono::steady_clock::now();
  ibguard::Client client;
  client.load(policy, {.dry_run = dry_run, .expected_generation = {}, .revoke = revoke});
  double loaded = milliseconds_since(start);
  if (timing)
    std::cerr << fmt::format("timing: compile {:.3f} ms, kernel load {:.3f} ms\n", compiled,
                             loaded);
  if (dry_run) {
    std::cout << fmt::format("{}: accepted by the kernel (dry run, nothing changed), {}\n", file,
                             rule_summary(policy));
  } else {
    auto status = client.status();
    std::cout << fmt::format("{}: loaded as generation {}, {}\n", file, status.generation,
                             rule_summary(policy));
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
      std::cout << shown.to_json(rules).dump() << std::endl;
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
  client.flush();
  std::cout << fmt::format("policy flushed: no rules, every default allow (generation {})\n",
                           client.status().generation);
  return 0;
}

int run_lock() {
  ibguard::Client client;
  client.lock();
  std::cout << "ibguard locked until reboot: rmmod, permissive mode and flush are refused\n";
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
          std::cout << event.to_json().dump() << std::endl;
        else
          std::cout << event.to_text() << std::endl;
        return count == 0 || ++seen < count;
      },
      [] {
        std::cerr << "ibguardctl: events were lost: the receive buffer overran; continuing"
                  << std::endl;
      },
      [] { return interrupted != 0; });
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
                 "Leave live QPs alone: only new setups follow the new policy (by default QPs "
                 "it denies are moved to the error state)");
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
      "lock", "Until reboot, refuse rmmod, permissive mode and flush (loads still allowed)");

  auto* monitor = app.add_subcommand("monitor", "Print denials and policy events as they come");
  monitor->add_flag("-j,--json", json, "Print one JSON object per line");
  monitor->add_option("-n,--count", count, "Exit after N events");

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
