#include <gtest/gtest.h>

#include <cerrno>

#include "client.hpp"
#include "error.hpp"

namespace ibguard {
namespace {

const AnswerLost lost(ENOMEM, "committing the policy");
const std::string lost_text =
    "committing the policy: Cannot allocate memory; the kernel's answer was lost";

TEST(LostCommit, SameGenerationMeansNotLoaded) {
  Error e = lost_commit_error(lost, false, 4, 4);
  EXPECT_EQ(std::string(e.what()),
            lost_text + ": the policy was not loaded, generation 4 is still active");
  EXPECT_EQ(e.code(), ExitCode::invalid_input);
  EXPECT_TRUE(e.hint().empty());
}

TEST(LostCommit, NewGenerationIsReportedNotClaimed) {
  Error e = lost_commit_error(lost, false, 4, 5);
  EXPECT_EQ(std::string(e.what()),
            lost_text + ": the active policy changed from generation 4 to 5");
  EXPECT_EQ(e.hint(), "check that it is this policy with 'ibguardctl show'");
}

TEST(LostCommit, UnreadableStatusIsUnknown) {
  for (auto [before, after] :
       {std::pair<std::optional<std::uint64_t>, std::optional<std::uint64_t>>{std::nullopt, 5},
        {4, std::nullopt},
        {std::nullopt, std::nullopt}}) {
    Error e = lost_commit_error(lost, false, before, after);
    EXPECT_EQ(std::string(e.what()),
              lost_text +
                  " and the status cannot be read: whether the policy was loaded is "
                  "unknown");
    EXPECT_EQ(e.hint(), "check with 'ibguardctl status' and 'ibguardctl show'");
  }
}

TEST(LostCommit, DryRunChangesNothing) {
  Error e = lost_commit_error(AnswerLost(ENOBUFS, "validating the policy"), true, 4, 4);
  EXPECT_EQ(std::string(e.what()),
            "validating the policy: No buffer space available; the kernel's answer was lost: "
            "a dry run changes nothing either way");
  EXPECT_EQ(e.hint(), "run it again to see the verdict");
}

}  // namespace
}  // namespace ibguard
