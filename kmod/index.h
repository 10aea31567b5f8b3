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

#endif /* IBGUARD_INDEX_H */
