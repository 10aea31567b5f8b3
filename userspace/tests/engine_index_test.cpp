// The kernel module's lookup indexes (kmod/index.h), compiled on the host:
// after sorting (and hashing inodes), a lookup finds exactly the entries a full scan finds, in
// ascending rule order, so the first applying entry is the first match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

using u32 = std::uint32_t;
using u64 = std::uint64_t;
extern "C" {
#include "../../kmod/index.h"
}

namespace {

std::vector<ibguard_inode_key> random_inode_keys(std::mt19937& rng, u32 n) {
  std::uniform_int_distribution<u32> dev(1, 4);
  std::uniform_int_distribution<u64> ino(1, 50);
  std::vector<ibguard_inode_key> keys(n);
  for (u32 rule = 0; rule < n; ++rule) keys[rule] = {ino(rng), dev(rng), rule};
  std::shuffle(keys.begin(), keys.end(), rng);
  return keys;
}

// An index as the module builds it: keys sorted, then hashed.
struct InodeIndex {
  std::vector<ibguard_inode_key> keys;
  std::vector<u32> slots;
  ibguard_inode_index index{};

  explicit InodeIndex(std::vector<ibguard_inode_key> unsorted) : keys(std::move(unsorted)) {
    std::qsort(keys.data(), keys.size(), sizeof(keys[0]), ibguard_inode_key_cmp);
    index.keys = keys.data();
    index.nr = keys.size();
    index.bits = ibguard_inode_index_bits(keys.data(), keys.size());
    slots.assign(std::size_t{1} << index.bits, 0);
    index.slots = slots.data();
    ibguard_inode_index_fill(&index);
  }

  std::vector<u32> rules(u32 dev, u64 ino) const {
    std::vector<u32> found;
    for (u32 i = ibguard_inode_find(&index, dev, ino);
         i < index.nr && ibguard_inode_key_same(&keys[i], dev, ino); ++i)
      found.push_back(keys[i].rule);
    return found;
  }
};

TEST(EngineIndex, InodeLookupFindsExactlyTheMatchingRulesInOrder) {
  std::mt19937 rng(1);
  for (u32 n : {0u, 1u, 2u, 17u, 1000u}) {
    auto original = random_inode_keys(rng, n);
    InodeIndex index(original);
    for (u32 dev = 0; dev <= 5; ++dev) {
      for (u64 ino = 0; ino <= 51; ++ino) {
        std::vector<u32> expected;
        for (const auto& key : original)
          if (key.dev == dev && key.ino == ino) expected.push_back(key.rule);
        std::sort(expected.begin(), expected.end());
        ASSERT_EQ(index.rules(dev, ino), expected) << "n=" << n << " dev=" << dev << " ino=" << ino;
      }
    }
  }
}

// 100,000 distinct inodes, as in the benchmark's largest policy: every one
// is found, absent ones are not, and the table stays at most half full.
TEST(EngineIndex, InodeHashFindsEveryKeyOfALargeIndex) {
  std::mt19937_64 rng(4);
  const u32 n = 100000;
  std::vector<ibguard_inode_key> original(n);
  for (u32 rule = 0; rule < n; ++rule)
    original[rule] = {rng() | 1, static_cast<u32>(rule % 3 + 1), rule};  // odd inodes
  InodeIndex index(original);
  EXPECT_EQ(index.index.bits, 18u);  // 2^18 = 262,144 slots >= 2 * 100,000
  EXPECT_EQ(std::count_if(index.slots.begin(), index.slots.end(), [](u32 s) { return s != 0; }), n);
  for (const auto& key : original) {
    ASSERT_EQ(index.rules(key.dev, key.ino), std::vector<u32>{key.rule});
    ASSERT_TRUE(index.rules(key.dev, key.ino + 1).empty());  // even: never a key
    ASSERT_TRUE(index.rules(key.dev + 3, key.ino).empty());
  }
}

// The same inode number on 4,095 devices that differ in their major only
// (MAJOR << 20, the kernel's encoding): no run of taken slots, which a
// lookup may have to walk, is long.
TEST(EngineIndex, InodeHashSpreadsDevicesThatDifferInTheirMajor) {
  std::vector<ibguard_inode_key> keys;
  for (u32 major = 1; major < 4096; ++major) keys.push_back({2, major << 20, major - 1});
  InodeIndex index(keys);
  std::size_t longest = 0, run = 0;
  for (std::size_t i = 0; i < 2 * index.slots.size(); ++i) {  // twice: runs wrap around
    run = index.slots[i % index.slots.size()] ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_LT(longest, 64u);
  for (const auto& key : keys) ASSERT_EQ(index.rules(key.dev, key.ino), std::vector<u32>{key.rule});
}

TEST(EngineIndex, InodeIndexEdges) {
  // Empty: nothing found, and no slot read.
  ibguard_inode_index empty{};
  EXPECT_EQ(ibguard_inode_find(&empty, 1, 1), 0u);

  // Slots are sized for distinct keys: three rules on two inodes take four.
  InodeIndex few({{7, 1, 2}, {3, 2, 0}, {7, 1, 1}});
  EXPECT_EQ(few.index.bits, 2u);
  EXPECT_EQ(few.keys[0].rule, 1u);  // dev 1 first, then by rule
  EXPECT_EQ(few.rules(1, 7), (std::vector<u32>{1, 2}));
  EXPECT_EQ(few.rules(2, 3), std::vector<u32>{0});
  EXPECT_TRUE(few.rules(2, 7).empty());
  EXPECT_TRUE(few.rules(1, 3).empty());

  // One key: two slots, so that a probe always ends at an empty one.
  InodeIndex one({{5, 9, 0}});
  EXPECT_EQ(one.index.bits, 1u);
  EXPECT_EQ(one.rules(9, 5), std::vector<u32>{0});
  EXPECT_TRUE(one.rules(9, 6).empty());
}

TEST(EngineIndex, U32LookupFindsExactlyTheMatchingRulesInOrder) {
  std::mt19937 rng(2);
  std::uniform_int_distribution<u32> key(0, 30);
  for (u32 n : {0u, 1u, 5u, 500u}) {
    std::vector<ibguard_u32_key> index(n);
    for (u32 rule = 0; rule < n; ++rule) index[rule] = {key(rng), rule};
    std::vector<ibguard_u32_key> original = index;
    std::shuffle(index.begin(), index.end(), rng);
    std::qsort(index.data(), index.size(), sizeof(index[0]), ibguard_u32_key_cmp);
    for (u32 k = 0; k <= 31; ++k) {
      std::vector<u32> expected;
      for (const auto& entry : original)
        if (entry.key == k) expected.push_back(entry.rule);
      std::vector<u32> found;
      for (u32 i = ibguard_u32_lower_bound(index.data(), n, k); i < n && index[i].key == k; ++i)
        found.push_back(index[i].rule);
      ASSERT_EQ(found, expected) << "n=" << n << " key=" << k;
    }
  }
}

TEST(EngineIndex, LowerBoundEdges) {
  std::vector<ibguard_u32_key> index = {{5, 0}, {5, 3}, {9, 1}};
  EXPECT_EQ(ibguard_u32_lower_bound(index.data(), 3, 0), 0u);
  EXPECT_EQ(ibguard_u32_lower_bound(index.data(), 3, 5), 0u);
  EXPECT_EQ(ibguard_u32_lower_bound(index.data(), 3, 6), 2u);
  EXPECT_EQ(ibguard_u32_lower_bound(index.data(), 3, 10), 3u);
  EXPECT_EQ(ibguard_u32_lower_bound(index.data(), 0, 5), 0u);
}

TEST(EngineIndex, PkeyPathLookupFindsExactlyTheCoveringRules) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<u32> pkey(0, 0xffff);
  for (u32 n : {0u, 1u, 3u, 200u}) {
    std::vector<std::pair<u32, u32>> intervals;
    std::vector<ibguard_u32_key> index;
    for (u32 rule = 0; rule < n; ++rule) {
      u32 lo = pkey(rng), hi = lo;
      if (rule % 3 == 1) hi = std::min(0xffffu, lo + pkey(rng) % 300);
      if (rule % 17 == 5) lo = 0, hi = 0xffff;
      intervals.emplace_back(lo, hi);
      u32 nodes[32];
      unsigned int count = ibguard_pkey_nodes(lo, hi, nodes);
      for (unsigned int k = 0; k < count; ++k) index.push_back({nodes[k], rule});
    }
    std::qsort(index.data(), index.size(), sizeof(ibguard_u32_key), ibguard_u32_key_cmp);
    u32 bounds[IBGUARD_PKEY_TREE_DEPTH + 1];
    ibguard_pkey_level_bounds(index.data(), index.size(), bounds);
    for (u32 key = 0; key <= 0xffff; key += (n > 3 ? 1 : 97)) {
      std::vector<u32> expected, found;
      for (u32 rule = 0; rule < n; ++rule)
        if (intervals[rule].first <= key && key <= intervals[rule].second) expected.push_back(rule);
      u32 path[IBGUARD_PKEY_TREE_DEPTH];
      ibguard_pkey_path(key, path);
      for (unsigned int k = 0; k < IBGUARD_PKEY_TREE_DEPTH; ++k) {
        u32 end;
        for (u32 i = ibguard_pkey_node_lower_bound(index.data(), bounds, path[k], k, &end);
             i < end && index[i].key == path[k]; ++i)
          found.push_back(index[i].rule);
      }
      std::sort(found.begin(), found.end());
      ASSERT_EQ(found, expected) << "n=" << n << " pkey=" << key;
    }
  }
}

}  // namespace
