// What load and flush say once the kernel acknowledged the commit, also
// when the status cannot be read afterwards: the policy changed all the
// same, so that is no failure of the command.
#include <gtest/gtest.h>

#include <cerrno>

#include "client.hpp"
#include "error.hpp"

namespace ibguard {
namespace {

TEST(CommitReport, GenerationFromTheStatus) {
  Status status;
  status.generation = 8;
  std::string why;
  const auto after = status_after_commit([&] { return status; }, why);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->generation, 8u);
  EXPECT_EQ(why, "");
  EXPECT_EQ(loaded_report("p.conf", after, "3 rules (1 pkey, 0 endport, 2 map)"),
            "p.conf: loaded as generation 8, 3 rules (1 pkey, 0 endport, 2 map)");
  EXPECT_EQ(flushed_report(after), "policy flushed: no rules, every default allow (generation 8)");
}

// The status read after the commit failed: load exited 4 (or 1) although
// the policy had changed.
TEST(CommitReport, UnreadableStatusLeavesTheGenerationUnknown) {
  std::string why;
  const auto after = status_after_commit(
      []() -> Status { throw KernelError(ENOMEM, "reading the module status"); }, why);
  EXPECT_FALSE(after.has_value());
  EXPECT_EQ(why, "reading the module status: Cannot allocate memory");
  EXPECT_EQ(loaded_report("p.conf", after, "1 rule (0 pkey, 0 endport, 1 map)"),
            "p.conf: loaded (generation unknown: the status could not be read after the commit), "
            "1 rule (0 pkey, 0 endport, 1 map)");
  EXPECT_EQ(flushed_report(after),
            "policy flushed: no rules, every default allow (generation unknown: the status could "
            "not be read after the commit)");
}

}  // namespace
}  // namespace ibguard
