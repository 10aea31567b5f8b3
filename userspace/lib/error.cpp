#include "error.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ibguard {

namespace {

std::string describe(int errnum, const std::string& context, const std::string& ext_message) {
  std::string text = fmt::format("{}: {}", context, std::strerror(errnum));
  if (!ext_message.empty()) text += fmt::format(" ({})", ext_message);
  return text;
}

std::string hint_for(int errnum, const std::string& ext_message = {}) {
  // The module refuses some changes to anyone once locked: not a privilege matter.
  if (ext_message.starts_with("ibguard is locked"))
    return "'ibguardctl lock' lasts until reboot; policies that enforce something still load";
  switch (errnum) {
    case EPERM:
    case EACCES:
      return "reading needs CAP_NET_ADMIN and changing the policy CAP_MAC_ADMIN; run as root";
    default:
      return {};
  }
}

}  // namespace

KernelError::KernelError(int errnum, std::string context, std::string ext_message,
                         std::uint32_t bad_attr_offset)
    : Error(exit_code_for_errno(errnum), describe(errnum, context, ext_message),
            hint_for(errnum, ext_message)),
      errnum_(errnum),
      ext_message_(std::move(ext_message)),
      bad_attr_offset_(bad_attr_offset) {}

ExitCode exit_code_for_errno(int errnum) noexcept {
  switch (errnum) {
    case EPERM:
    case EACCES:
      return ExitCode::permission_denied;
    case EBUSY:
    case ESTALE:
    case EAGAIN:
      return ExitCode::conflict;
    default:
      return ExitCode::invalid_input;
  }
}

void throw_system_error(const std::string& what, int errnum) {
  throw Error(exit_code_for_errno(errnum), fmt::format("{}: {}", what, std::strerror(errnum)),
              hint_for(errnum));
}

}  // namespace ibguard
