// ibguardctl: load ibguard policies and read the module's state.
#include <fmt/format.h>
#include <linux/ibguard.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "client.hpp"
#include "error.hpp"

namespace {

using ibguard::Error;
using ibguard::ExitCode;

void print_json(const nlohmann::ordered_json& doc) { std::cout << doc.dump(2) << '\n'; }

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ibguardctl: control the ibguard access-control module", "ibguardctl"};
  app.set_version_flag("--version", std::string("ibguardctl ") + IBGUARDCTL_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 invalid policy or input, 2 usage, 3 module not loaded,\n"
      "4 permission denied, 5 conflict (another load in progress or policy changed).");

  bool json = false;
  auto* status =
      app.add_subcommand("status", "Show module version, protocol, mode and policy generation");
  status->add_flag("-j,--json", json, "Print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
  }

  try {
    if (status->parsed()) return run_status(json);
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
