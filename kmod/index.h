/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy's lookup indexes: arrays sorted by key, then by rule number,
 * searched by binary search. Plain C over fixed-width types, so that the
 * host-side unit tests compile this same code.
 */
#ifndef IBGUARD_INDEX_H
#define IBGUARD_INDEX_H

struct ibguard_inode_key {
	u64 ino;
	u32 dev;
	u32 rule;
};

struct ibguard_u32_key {
	u32 key;
	u32 rule;
};

static inline int ibguard_inode_key_cmp(const void *a, const void *b)
{
	/* Casts: the host unit tests compile this as C++ too. */
	const struct ibguard_inode_key *x = (const struct ibguard_inode_key *)a;
	const struct ibguard_inode_key *y = (const struct ibguard_inode_key *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return 0;
}

static inline int ibguard_u32_key_cmp(const void *a, const void *b)
{
	const struct ibguard_u32_key *x = (const struct ibguard_u32_key *)a;
	const struct ibguard_u32_key *y = (const struct ibguard_u32_key *)b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return 0;
}

/* The first entry whose (dev, ino) is not below the given one. */
static inline u32 ibguard_inode_lower_bound(const struct ibguard_inode_key *index,
					    u32 nr, u32 dev, u64 ino)
{
	u32 lo = 0, hi = nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (index[mid].dev < dev ||
		    (index[mid].dev == dev && index[mid].ino < ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first entry whose key is not below key. */
static inline u32 ibguard_u32_lower_bound(const struct ibguard_u32_key *index,
					  u32 nr, u32 key)
{
	u32 lo = 0, hi = nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (index[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * P_Key intervals live in a segment tree over the 16-bit P_Key space, kept
 * sparse: an interval is stored at the O(log) canonical nodes that cover it
 * (node 1 is the root, 0x10000 + pkey a leaf), as (node, rule) entries of a
 * u32 index. The candidates for a P_Key are the entries of the 17 nodes on
 * its leaf-to-root path.
 */
#define IBGUARD_PKEY_LEAF_BASE 0x10000U
#define IBGUARD_PKEY_TREE_DEPTH 17

/* Writes the canonical nodes of [lo, hi] to nodes (at most 32); returns how many. */
static inline unsigned int ibguard_pkey_nodes(u32 lo, u32 hi, u32 *nodes)
{
	unsigned int n = 0;

	lo += IBGUARD_PKEY_LEAF_BASE;
	hi += IBGUARD_PKEY_LEAF_BASE + 1;
	while (lo < hi) {
		if (lo & 1)
			nodes[n++] = lo++;
		if (hi & 1)
			nodes[n++] = --hi;
		lo >>= 1;
		hi >>= 1;
	}
	return n;
}

/* The nodes whose intervals contain pkey, leaf first. */
static inline void ibguard_pkey_path(u32 pkey, u32 *path)
{
	u32 node = IBGUARD_PKEY_LEAF_BASE + pkey;
	unsigned int i;

	for (i = 0; i < IBGUARD_PKEY_TREE_DEPTH; i++, node >>= 1)
		path[i] = node;
}

/*
 * A sorted index holds the nodes of each tree level (depth d: nodes 1 << d
 * to (2 << d) - 1) in one run; bounds[d] is where depth d starts and
 * bounds[d + 1] where it ends. Most policies use few levels (single P_Keys
 * are leaves, "any" is the root): a lookup skips the empty ones and
 * searches only its own level's run in the others.
 */
static inline void ibguard_pkey_level_bounds(const struct ibguard_u32_key *index,
					     u32 nr, u32 *bounds)
{
	unsigned int d;

	for (d = 0; d <= IBGUARD_PKEY_TREE_DEPTH; d++)
		bounds[d] = ibguard_u32_lower_bound(index, nr, 1U << d);
}

/*
 * The first entry of the path node at position k of ibguard_pkey_path()
 * (depth IBGUARD_PKEY_TREE_DEPTH - 1 - k) within its level; *end is where
 * the level ends.
 */
static inline u32 ibguard_pkey_node_lower_bound(const struct ibguard_u32_key *index,
						const u32 *bounds, u32 node,
						unsigned int k, u32 *end)
{
	unsigned int d = IBGUARD_PKEY_TREE_DEPTH - 1 - k;
	u32 lo = bounds[d];

	*end = bounds[d + 1];
	return lo + ibguard_u32_lower_bound(index + lo, *end - lo, node);
}

#endif /* IBGUARD_INDEX_H */
