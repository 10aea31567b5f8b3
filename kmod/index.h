/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy's lookup indexes: arrays sorted by key, then by rule number,
 * found by hashing (inodes) or binary search (the others). Plain C over
 * fixed-width types, so that the host-side unit tests compile this same
 * code.
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

/*
 * Each distinct (dev, ino) of a sorted inode index is also reachable through
 * a hash table of the positions where its entries start: open addressing
 * with linear probing, never more than half full. A lookup costs a hash and
 * a probe or two however many rules there are, where a binary search over
 * 100,000 entries takes 17 steps. A slot holds a position + 1; 0 is empty.
 */
struct ibguard_inode_index {
	struct ibguard_inode_key *keys;	/* sorted by ibguard_inode_key_cmp */
	u32 nr;
	u32 bits;			/* log2 of the number of slots */
	u32 *slots;
};

static inline u32 ibguard_inode_slot(u32 dev, u64 ino, u32 bits)
{
	/*
	 * Fibonacci hashing: the top bits of a product with 2^64 / phi. The
	 * device goes to the upper half whole: inode numbers are small where
	 * devices differ most (each filesystem's root is inode 2 or so).
	 */
	u64 h = (ino ^ ((u64)dev << 32)) * 0x9e3779b97f4a7c15ULL;

	return (u32)(h >> (64 - bits));
}

static inline bool ibguard_inode_key_same(const struct ibguard_inode_key *k,
					  u32 dev, u64 ino)
{
	return k->dev == dev && k->ino == ino;
}

/* Does keys[i] start the entries of its (dev, ino)? keys[] is sorted. */
static inline bool ibguard_inode_key_first(const struct ibguard_inode_key *keys,
					   u32 i)
{
	return !i || !ibguard_inode_key_same(&keys[i - 1], keys[i].dev,
					     keys[i].ino);
}

/* Slots for the distinct keys of keys[0..nr): at least twice as many, >= 2. */
static inline u32 ibguard_inode_index_bits(const struct ibguard_inode_key *keys,
					   u32 nr)
{
	u64 distinct = 0;
	u32 i, bits = 1;

	for (i = 0; i < nr; i++)
		if (ibguard_inode_key_first(keys, i))
			distinct++;
	while ((1ULL << bits) < 2 * distinct)
		bits++;
	return bits;
}

/* Fills the zeroed slots of an index whose keys are sorted. */
static inline void ibguard_inode_index_fill(struct ibguard_inode_index *index)
{
	u32 mask = (1U << index->bits) - 1, i, s;

	for (i = 0; i < index->nr; i++) {
		if (!ibguard_inode_key_first(index->keys, i))
			continue;
		s = ibguard_inode_slot(index->keys[i].dev, index->keys[i].ino,
				       index->bits);
		while (index->slots[s])
			s = (s + 1) & mask;
		index->slots[s] = i + 1;
	}
}

/*
 * The position of the first entry for (dev, ino), whose entries follow it
 * in rule order; index->nr when there is none.
 */
static inline u32 ibguard_inode_find(const struct ibguard_inode_index *index,
				     u32 dev, u64 ino)
{
	u32 mask = (1U << index->bits) - 1, s, pos;

	if (!index->nr)
		return index->nr;
	s = ibguard_inode_slot(dev, ino, index->bits);
	while ((pos = index->slots[s])) {
		if (ibguard_inode_key_same(&index->keys[pos - 1], dev, ino))
			return pos - 1;
		s = (s + 1) & mask;
	}
	return index->nr;
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
