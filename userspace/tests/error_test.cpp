#include "error.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace ibguard {
namespace {

TEST(Error, ErrnoToExitCode) {
  EXPECT_EQ(exit_code_for_errno(EPERM), ExitCode::permission_denied);
  EXPECT_EQ(exit_code_for_errno(EACCES), ExitCode::permission_denied);
  EXPECT_EQ(exit_code_for_errno(EBUSY), ExitCode::conflict);
  EXPECT_EQ(exit_code_for_errno(ESTALE), ExitCode::conflict);
  EXPECT_EQ(exit_code_for_errno(EINVAL), ExitCode::invalid_input);
}

TEST(Error, KernelErrorCarriesExtAck) {
  KernelError e(EINVAL, "loading the policy", "bad pkey range", 24);
  EXPECT_STREQ(e.what(), "loading the policy: Invalid argument (bad pkey range)");
  EXPECT_EQ(e.ext_message(), "bad pkey range");
  EXPECT_EQ(e.bad_attr_offset(), 24u);
  EXPECT_EQ(e.code(), ExitCode::invalid_input);
  EXPECT_TRUE(e.hint().empty());
}

TEST(Error, PermissionErrorsHint) {
  KernelError e(EPERM, "reading the module status");
  EXPECT_EQ(e.code(), ExitCode::permission_denied);
  EXPECT_NE(e.hint().find("CAP_NET_ADMIN"), std::string::npos);
}

TEST(Error, LockedRefusalsDoNotBlameCapabilities) {
  KernelError e(EPERM, "setting the mode",
                "ibguard is locked: permissive mode is refused until reboot");
  EXPECT_EQ(e.code(), ExitCode::permission_denied);
  EXPECT_EQ(e.hint().find("CAP_"), std::string::npos);
  EXPECT_NE(e.hint().find("until reboot"), std::string::npos);
}

}  // namespace
}  // namespace ibguard
