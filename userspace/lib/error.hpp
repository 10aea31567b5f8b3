// One error type for all of ibguardctl: every failure carries the exit code
// the tool documents, a message and, where it helps, a hint.
#pragma once

#include <stdexcept>
#include <string>

namespace ibguard {

enum class ExitCode : int {
  ok = 0,
  invalid_input = 1,
  usage = 2,
  module_not_loaded = 3,
  permission_denied = 4,
  conflict = 5,
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}

  ExitCode code() const noexcept { return code_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  ExitCode code_;
  std::string hint_;
};

// A request the kernel refused: the errno and, when the kernel gave one, the
// extended-ACK message and the offset of the offending attribute.
class KernelError : public Error {
 public:
  KernelError(int errnum, std::string context, std::string ext_message = {},
              std::uint32_t bad_attr_offset = 0);

  int errnum() const noexcept { return errnum_; }
  const std::string& ext_message() const noexcept { return ext_message_; }
  std::uint32_t bad_attr_offset() const noexcept { return bad_attr_offset_; }

 private:
  int errnum_;
  std::string ext_message_;
  std::uint32_t bad_attr_offset_;
};

// A request whose answer could not be read: recvmsg() failed after the kernel
// had acted on it (e.g. ENOMEM under memory pressure with audit on, or
// ENOBUFS), so whether the kernel did what was asked is unknown.
class AnswerLost : public KernelError {
 public:
  using KernelError::KernelError;
};

// The exit code a kernel errno maps to.
ExitCode exit_code_for_errno(int errnum) noexcept;

// Raises Error for a failed system call, with strerror(errno) appended.
[[noreturn]] void throw_system_error(const std::string& what, int errnum);

}  // namespace ibguard
