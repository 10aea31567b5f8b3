// stats -i: the numbers of one interval, from two readings of the counters.
#include <gtest/gtest.h>

#include "wire.hpp"

namespace ibguard {
namespace {

Stats reading(std::uint64_t generation, std::uint64_t checked, std::vector<std::uint64_t> hits) {
  Stats stats;
  stats.generation = generation;
  stats.events_dropped = checked / 10;
  for (auto& c : stats.classes) {
    c.checked = checked;
    c.allowed = checked / 2;
    c.denied = checked / 4;
    c.rules = static_cast<std::uint32_t>(hits.size());
  }
  for (std::uint32_t i = 0; i < hits.size(); ++i) {
    LoadedRule rule;
    rule.index = i;
    rule.source = "pkey any allow";
    rule.hits = hits[i];
    stats.rules.push_back(rule);
  }
  return stats;
}

TEST(StatsInterval, RuleHitsAreSubtractedToo) {
  const Stats shown = reading(7, 300, {50, 9}).minus(reading(7, 100, {20, 9}));
  EXPECT_EQ(shown.classes[0].checked, 200u);
  EXPECT_EQ(shown.classes[2].allowed, 100u);
  EXPECT_EQ(shown.events_dropped, 20u);
  ASSERT_EQ(shown.rules.size(), 2u);
  EXPECT_EQ(shown.rules[0].hits, 30u);
  EXPECT_EQ(shown.rules[1].hits, 0u);
  ASSERT_TRUE(shown.interval.has_value());
  EXPECT_FALSE(shown.interval->counters_reset);
  EXPECT_FALSE(shown.interval->generation_changed);
  EXPECT_EQ(shown.to_text(true).find("note:"), std::string::npos);
  EXPECT_EQ(shown.to_json(false)["interval"].dump(),
            R"({"counters_reset":false,"generation_changed":false})");
}

// After `stats reset` (or a module reload) the counters are below the
// previous reading: subtracting wrapped to 18446744073709551556.
TEST(StatsInterval, ResetCountersAreShownAsTheyAreAndSaidSo) {
  const Stats shown = reading(7, 40, {3, 1}).minus(reading(7, 100, {20, 9}));
  EXPECT_EQ(shown.classes[0].checked, 40u);
  EXPECT_EQ(shown.classes[1].denied, 10u);
  EXPECT_EQ(shown.events_dropped, 4u);
  EXPECT_EQ(shown.rules[0].hits, 3u);
  EXPECT_EQ(shown.rules[1].hits, 1u);
  ASSERT_TRUE(shown.interval.has_value());
  EXPECT_TRUE(shown.interval->counters_reset);
  const std::string text = shown.to_text(true);
  EXPECT_NE(text.find("\nnote: the counters were reset during this interval (stats reset or "
                      "module reload): these are the counts since the reset\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(shown.to_json(true)["interval"].dump(),
            R"({"counters_reset":true,"generation_changed":false})");

  // One rule's hits going down is a reset as well (the class counters may
  // have climbed past their old values since).
  const Stats hits_only = reading(7, 300, {3, 9}).minus(reading(7, 100, {20, 9}));
  EXPECT_TRUE(hits_only.interval->counters_reset);
  EXPECT_EQ(hits_only.classes[0].checked, 300u);
  EXPECT_EQ(hits_only.rules[0].hits, 3u);
}

// A load in the interval: new rules, counted from their load; the class
// counters go on.
TEST(StatsInterval, NewGenerationRuleHitsCountFromItsLoad) {
  const Stats shown = reading(8, 300, {4}).minus(reading(7, 100, {20, 9}));
  EXPECT_EQ(shown.classes[0].checked, 200u);
  ASSERT_EQ(shown.rules.size(), 1u);
  EXPECT_EQ(shown.rules[0].hits, 4u);
  EXPECT_FALSE(shown.interval->counters_reset);
  EXPECT_TRUE(shown.interval->generation_changed);
  EXPECT_NE(shown.to_text(true).find("\nnote: policy generation 8 was loaded during this "
                                     "interval: rule hits count from its load\n"),
            std::string::npos);
  // Without --rules there are no hits to speak of.
  EXPECT_EQ(shown.to_text(false).find("note:"), std::string::npos);
}

TEST(StatsInterval, CumulativeReadingsSayNothing) {
  const Stats stats = reading(7, 100, {1});
  EXPECT_FALSE(stats.interval.has_value());
  EXPECT_FALSE(stats.to_json(true).contains("interval"));
}

}  // namespace
}  // namespace ibguard
