// The kernel module's lookup indexes (kmod/index.h), compiled on the host:
// after sorting, a lookup finds exactly the entries a full scan finds, in
// ascending rule order, so the first applying entry is the first match.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

using u32 = std::uint32_t;
using u64 = std::uint64_t;
extern "C" {
#include "../../kmod/index.h"
}

namespace {

std::vector<ibguard_inode_key> random_inode_index(std::mt19937& rng, u32 n) {
  std::uniform_int_distribution<u32> dev(1, 4);
  std::uniform_int_distribution<u64> ino(1, 50);
  std::vector<ibguard_inode_key> index(n);
  for (u32 rule = 0; rule < n; ++rule) index[rule] = {ino(rng), dev(rng), rule};
  std::shuffle(index.begin(), index.end(), rng);
  std::qsort(index.data(), index.size(), sizeof(index[0]), ibguard_inode_key_cmp);
  return index;
}

TEST(EngineIndex, InodeLookupFindsExactlyTheMatchingRulesInOrder) {
  std::mt19937 rng(1);
  for (u32 n : {0u, 1u, 2u, 17u, 1000u}) {
    auto index = random_inode_index(rng, n);
    for (u32 dev = 0; dev <= 5; ++dev) {
      for (u64 ino = 0; ino <= 51; ++ino) {
        std::vector<u32> expected;
        for (u32 rule = 0; rule < n; ++rule) {
          auto it = std::find_if(index.begin(), index.end(),
                                 [&](const ibguard_inode_key& k) { return k.rule == rule; });
          if (it->dev == dev && it->ino == ino) expected.push_back(rule);
        }
        std::vector<u32> found;
        for (u32 i = ibguard_inode_lower_bound(index.data(), n, dev, ino);
             i < n && index[i].dev == dev && index[i].ino == ino; ++i)
          found.push_back(index[i].rule);
        ASSERT_EQ(found, expected) << "n=" << n << " dev=" << dev << " ino=" << ino;
      }
    }
  }
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
  std::vector<ibguard_inode_key> inodes = {{7, 1, 2}, {3, 2, 0}, {7, 2, 1}};
  std::qsort(inodes.data(), inodes.size(), sizeof(inodes[0]), ibguard_inode_key_cmp);
  EXPECT_EQ(inodes[0].rule, 2u);  // dev 1 sorts first
  EXPECT_EQ(ibguard_inode_lower_bound(inodes.data(), 3, 2, 7), 2u);
  EXPECT_EQ(ibguard_inode_lower_bound(inodes.data(), 3, 2, 8), 3u);
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
