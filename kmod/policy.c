// SPDX-License-Identifier: GPL-2.0
/*
 * The compiled policy: built once from a staging area, immutable afterwards,
 * read under RCU. Every class keeps its rules in file order; per-class
 * indexes (sorted arrays) find the candidate rules of a request, so that a
 * decision costs O(log n) lookups instead of a scan of all rules, and the
 * first match in file order is the candidate with the lowest index.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/jhash.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include "ibguard.h"

#define NO_RULE U32_MAX

static u32 fstype_hash(const char *name)
{
	return jhash(name, strlen(name), 0);
}

/* Slots are counted in a u32: at most 2^31 for a policy's largest index. */
static_assert(IBGUARD_MAX_RULES <= 1U << 30);

/* Sorts the keys, already in place, and hashes them. */
static int build_inode_index(struct ibguard_policy *p,
			     struct ibguard_inode_index *index)
{
	if (!index->nr)
		return 0;
	sort(index->keys, index->nr, sizeof(*index->keys),
	     ibguard_inode_key_cmp, NULL);
	index->bits = ibguard_inode_index_bits(index->keys, index->nr);
	index->slots = kvcalloc(1U << index->bits, sizeof(*index->slots),
				GFP_KERNEL_ACCOUNT);
	if (!index->slots)
		return -ENOMEM;
	ibguard_inode_index_fill(index);
	p->memory += index->nr * sizeof(*index->keys) +
		     (sizeof(*index->slots) << index->bits);
	return 0;
}

static int build_map_indexes(struct ibguard_policy *p)
{
	u32 nr[__IBGUARD_MAP_MAX] = {}, pos[__IBGUARD_MAP_MAX] = {};
	const struct ibguard_rule *rule;
	u32 i;

	for (i = 0; i < p->nr_rules; i++)
		if (p->rules[i].cls == IBGUARD_CLASS_MAP)
			nr[p->rules[i].map.object]++;

	p->map_path.keys = kvcalloc(nr[IBGUARD_MAP_PATH],
				    sizeof(*p->map_path.keys),
				    GFP_KERNEL_ACCOUNT);
	p->map_tree.keys = kvcalloc(nr[IBGUARD_MAP_TREE],
				    sizeof(*p->map_tree.keys),
				    GFP_KERNEL_ACCOUNT);
	p->map_chr = kvcalloc(nr[IBGUARD_MAP_CHARDEV], sizeof(*p->map_chr),
			      GFP_KERNEL_ACCOUNT);
	p->map_fs = kvcalloc(nr[IBGUARD_MAP_FS], sizeof(*p->map_fs),
			     GFP_KERNEL_ACCOUNT);
	if ((nr[IBGUARD_MAP_PATH] && !p->map_path.keys) ||
	    (nr[IBGUARD_MAP_TREE] && !p->map_tree.keys) ||
	    (nr[IBGUARD_MAP_CHARDEV] && !p->map_chr) ||
	    (nr[IBGUARD_MAP_FS] && !p->map_fs))
		return -ENOMEM;

	for (i = 0; i < p->nr_rules; i++) {
		struct ibguard_inode_key *ik;
		struct ibguard_u32_key *uk;

		rule = &p->rules[i];
		if (rule->cls != IBGUARD_CLASS_MAP)
			continue;
		switch (rule->map.object) {
		case IBGUARD_MAP_PATH:
		case IBGUARD_MAP_TREE:
			ik = rule->map.object == IBGUARD_MAP_PATH ?
			     p->map_path.keys : p->map_tree.keys;
			ik += pos[rule->map.object]++;
			ik->dev = rule->map.dev;
			ik->ino = rule->map.ino;
			ik->rule = i;
			break;
		case IBGUARD_MAP_CHARDEV:
			uk = &p->map_chr[pos[IBGUARD_MAP_CHARDEV]++];
			uk->key = rule->map.major;
			uk->rule = i;
			break;
		case IBGUARD_MAP_FS:
			uk = &p->map_fs[pos[IBGUARD_MAP_FS]++];
			uk->key = fstype_hash(rule->map.fstype);
			uk->rule = i;
			break;
		}
	}
	p->map_path.nr = nr[IBGUARD_MAP_PATH];
	p->map_tree.nr = nr[IBGUARD_MAP_TREE];
	p->nr_map_chr = nr[IBGUARD_MAP_CHARDEV];
	p->nr_map_fs = nr[IBGUARD_MAP_FS];
	sort(p->map_chr, p->nr_map_chr, sizeof(*p->map_chr),
	     ibguard_u32_key_cmp, NULL);
	sort(p->map_fs, p->nr_map_fs, sizeof(*p->map_fs),
	     ibguard_u32_key_cmp, NULL);
	p->memory += (p->nr_map_chr + p->nr_map_fs) * sizeof(*p->map_chr);
	return build_inode_index(p, &p->map_path) ?:
	       build_inode_index(p, &p->map_tree);
}

/* Endport rules hash their device name ("" for any) with their port (0: any). */
static u32 endport_key(const char *device, u32 port)
{
	return jhash(device ?: "", device ? strlen(device) : 0, port);
}

static int build_ib_indexes(struct ibguard_policy *p)
{
	u32 nodes[32], nr_pkey = 0, nr_endport = 0, i, n, k;
	const struct ibguard_rule *rule;

	for (i = 0; i < p->nr_rules; i++) {
		rule = &p->rules[i];
		if (rule->cls == IBGUARD_CLASS_PKEY)
			nr_pkey += ibguard_pkey_nodes(rule->pkey.lo, rule->pkey.hi,
						      nodes);
		else if (rule->cls == IBGUARD_CLASS_ENDPORT)
			nr_endport++;
	}
	p->pkey_index = kvcalloc(nr_pkey, sizeof(*p->pkey_index),
				 GFP_KERNEL_ACCOUNT);
	p->endport_index = kvcalloc(nr_endport, sizeof(*p->endport_index),
				    GFP_KERNEL_ACCOUNT);
	if ((nr_pkey && !p->pkey_index) || (nr_endport && !p->endport_index))
		return -ENOMEM;

	for (i = 0; i < p->nr_rules; i++) {
		rule = &p->rules[i];
		if (rule->cls == IBGUARD_CLASS_PKEY) {
			n = ibguard_pkey_nodes(rule->pkey.lo, rule->pkey.hi, nodes);
			for (k = 0; k < n; k++) {
				p->pkey_index[p->nr_pkey_index].key = nodes[k];
				p->pkey_index[p->nr_pkey_index++].rule = i;
			}
		} else if (rule->cls == IBGUARD_CLASS_ENDPORT) {
			p->endport_index[p->nr_endport_index].key =
				endport_key(rule->endport.device,
					    rule->endport.port);
			p->endport_index[p->nr_endport_index++].rule = i;
		}
	}
	sort(p->pkey_index, p->nr_pkey_index, sizeof(*p->pkey_index),
	     ibguard_u32_key_cmp, NULL);
	ibguard_pkey_level_bounds(p->pkey_index, p->nr_pkey_index,
				  p->pkey_level_bounds);
	sort(p->endport_index, p->nr_endport_index, sizeof(*p->endport_index),
	     ibguard_u32_key_cmp, NULL);
	p->memory += (nr_pkey + nr_endport) * sizeof(*p->pkey_index);
	return 0;
}

static int alloc_hits(struct ibguard_policy *p)
{
	u32 i;

	p->nr_hit_chunks = DIV_ROUND_UP(p->nr_rules, IBGUARD_HITS_PER_CHUNK);
	if (!p->nr_hit_chunks)
		return 0;
	p->hits = kcalloc(p->nr_hit_chunks, sizeof(*p->hits), GFP_KERNEL_ACCOUNT);
	if (!p->hits)
		return -ENOMEM;
	for (i = 0; i < p->nr_hit_chunks; i++) {
		p->hits[i] = __alloc_percpu_gfp(IBGUARD_HITS_PER_CHUNK * sizeof(u64),
						sizeof(u64), GFP_KERNEL_ACCOUNT);
		if (!p->hits[i])
			return -ENOMEM;
	}
	p->memory += p->nr_hit_chunks * (sizeof(*p->hits) +
					 IBGUARD_HITS_PER_CHUNK * sizeof(u64) *
					 num_possible_cpus());
	return 0;
}

/*
 * Builds a policy from the staged rules, which it takes over (the staging
 * is left empty). Returns the policy or an ERR_PTR.
 */
struct ibguard_policy *ibguard_policy_build(struct ibguard_staging *staging,
					    struct netlink_ext_ack *extack)
{
	struct ibguard_policy *p;
	u32 i;
	int err;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return ERR_PTR(-ENOMEM);
	memcpy(p->defaults, staging->defaults, sizeof(p->defaults));
	p->options = staging->options;
	p->rules = staging->rules;
	p->nr_rules = staging->nr_rules;
	p->memory = sizeof(*p) + staging->memory +
		    staging->capacity * sizeof(*p->rules);
	staging->rules = NULL;
	staging->nr_rules = 0;
	staging->capacity = 0;
	staging->memory = 0;

	for (i = 0; i < p->nr_rules; i++)
		p->class_rules[p->rules[i].cls]++;
	err = build_map_indexes(p);
	if (!err)
		err = build_ib_indexes(p);
	if (!err)
		err = alloc_hits(p);
	if (err) {
		ibguard_policy_free(p);
		return ERR_PTR(err);
	}
	return p;
}

static void free_rules(struct ibguard_rule *rules, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++)
		ibguard_rule_release(&rules[i]);
	kvfree(rules);
}

void ibguard_policy_free(struct ibguard_policy *p)
{
	u32 i;

	if (!p)
		return;
	free_rules(p->rules, p->nr_rules);
	kvfree(p->map_path.keys);
	kvfree(p->map_path.slots);
	kvfree(p->map_tree.keys);
	kvfree(p->map_tree.slots);
	kvfree(p->map_chr);
	kvfree(p->map_fs);
	kvfree(p->pkey_index);
	kvfree(p->endport_index);
	for (i = 0; p->hits && i < p->nr_hit_chunks; i++)
		free_percpu(p->hits[i]);
	kfree(p->hits);
	kfree(p);
}

void ibguard_staging_release(struct ibguard_staging *staging)
{
	free_rules(staging->rules, staging->nr_rules);
	memset(staging, 0, sizeof(*staging));
}

static bool map_rule_applies(const struct ibguard_rule *rule, u32 prot,
			     bool shared)
{
	if (rule->map.prot && !(rule->map.prot & prot))
		return false;
	if ((rule->flags & IBGUARD_RULE_SHARED) && !shared)
		return false;
	return ibguard_subjects_match(rule, NULL);
}

/* Lowest-index applying rule among the entries for (dev, ino), below best. */
static u32 scan_inode_index(const struct ibguard_policy *p,
			    const struct ibguard_inode_index *index,
			    u32 dev, u64 ino, u32 best, u32 prot, bool shared)
{
	const struct ibguard_inode_key *key;
	u32 i;

	for (i = ibguard_inode_find(index, dev, ino); i < index->nr; i++) {
		key = &index->keys[i];
		if (!ibguard_inode_key_same(key, dev, ino) || key->rule >= best)
			break;
		if (map_rule_applies(&p->rules[key->rule], prot, shared))
			return key->rule;
	}
	return best;
}

static u32 scan_chardev(const struct ibguard_policy *p, dev_t rdev, u32 best,
			u32 prot, bool shared)
{
	u32 major = MAJOR(rdev), minor = MINOR(rdev);
	u32 i = ibguard_u32_lower_bound(p->map_chr, p->nr_map_chr, major);

	for (; i < p->nr_map_chr && p->map_chr[i].key == major &&
	     p->map_chr[i].rule < best; i++) {
		const struct ibguard_rule *rule = &p->rules[p->map_chr[i].rule];

		if (minor >= rule->map.minor_lo && minor <= rule->map.minor_hi &&
		    map_rule_applies(rule, prot, shared))
			return p->map_chr[i].rule;
	}
	return best;
}

static u32 scan_fstype(const struct ibguard_policy *p, const char *fstype,
		       u32 best, u32 prot, bool shared)
{
	u32 hash = fstype_hash(fstype);
	u32 i = ibguard_u32_lower_bound(p->map_fs, p->nr_map_fs, hash);

	for (; i < p->nr_map_fs && p->map_fs[i].key == hash &&
	     p->map_fs[i].rule < best; i++) {
		const struct ibguard_rule *rule = &p->rules[p->map_fs[i].rule];

		if (!strcmp(rule->map.fstype, fstype) &&
		    map_rule_applies(rule, prot, shared))
			return p->map_fs[i].rule;
	}
	return best;
}

/*
 * Directories above the file, up to its filesystem's root, under RCU: a
 * concurrent rename may make the walk see the old or the new parent, never
 * freed memory.
 */
static u32 scan_trees(const struct ibguard_policy *p,
		      const struct dentry *dentry, dev_t dev, u32 best, u32 prot,
		      bool shared)
{
	for (;;) {
		const struct dentry *parent = READ_ONCE(dentry->d_parent);
		const struct inode *inode;

		if (parent == dentry)
			break;
		dentry = parent;
		inode = READ_ONCE(dentry->d_inode);
		if (inode)
			best = scan_inode_index(p, &p->map_tree, dev,
						inode->i_ino, best, prot,
						shared);
	}
	return best;
}

/*
 * The first map rule, in policy order, that applies to mapping the file at
 * path (the one user space named: the inode is its dentry's, not the
 * file's, which may be a stacked filesystem's lower one) with prot
 * (IBGUARD_PROT_*) for the current task; NULL when none does. Caller holds
 * rcu_read_lock().
 */
const struct ibguard_rule *ibguard_map_first_match(const struct ibguard_policy *p,
						   const struct path *path,
						   u32 prot, bool shared)
{
	const struct inode *inode = d_inode(path->dentry);
	u32 best = NO_RULE;

	if (!p->class_rules[IBGUARD_CLASS_MAP])
		return NULL;
	if (p->map_path.nr)
		best = scan_inode_index(p, &p->map_path, inode->i_sb->s_dev,
					inode->i_ino, best, prot, shared);
	if (p->nr_map_chr && S_ISCHR(inode->i_mode))
		best = scan_chardev(p, inode->i_rdev, best, prot, shared);
	if (p->nr_map_fs)
		best = scan_fstype(p, inode->i_sb->s_type->name, best, prot,
				   shared);
	if (p->map_tree.nr)
		best = scan_trees(p, path->dentry, inode->i_sb->s_dev, best,
				  prot, shared);
	return best == NO_RULE ? NULL : &p->rules[best];
}

/*
 * The first pkey rule, in policy order, that applies to (pkey, subnet) for
 * the current task (who == NULL) or a recorded one; NULL when none does.
 * Caller holds rcu_read_lock().
 */
const struct ibguard_rule *ibguard_pkey_first_match(const struct ibguard_policy *p,
						    u16 pkey, u64 subnet,
						    const struct ibguard_identity *who)
{
	u32 path[IBGUARD_PKEY_TREE_DEPTH], best = NO_RULE, i, end, k;

	if (!p->nr_pkey_index)
		return NULL;
	ibguard_pkey_path(pkey, path);
	for (k = 0; k < IBGUARD_PKEY_TREE_DEPTH; k++) {
		i = ibguard_pkey_node_lower_bound(p->pkey_index,
						  p->pkey_level_bounds, path[k],
						  k, &end);
		for (; i < end && p->pkey_index[i].key == path[k] &&
		     p->pkey_index[i].rule < best; i++) {
			const struct ibguard_rule *rule =
				&p->rules[p->pkey_index[i].rule];

			if ((rule->pkey.any_subnet || rule->pkey.subnet == subnet) &&
			    ibguard_subjects_match(rule, who)) {
				best = p->pkey_index[i].rule;
				break;
			}
		}
	}
	return best == NO_RULE ? NULL : &p->rules[best];
}
EXPORT_SYMBOL_GPL(ibguard_pkey_first_match);

static u32 scan_endport(const struct ibguard_policy *p, const char *device,
			u32 port, const struct ibguard_identity *who, u32 best)
{
	u32 key = endport_key(device, port);
	u32 i = ibguard_u32_lower_bound(p->endport_index, p->nr_endport_index,
					key);

	for (; i < p->nr_endport_index && p->endport_index[i].key == key &&
	     p->endport_index[i].rule < best; i++) {
		const struct ibguard_rule *rule =
			&p->rules[p->endport_index[i].rule];

		if (!!rule->endport.device == !!device &&
		    (!device || !strcmp(rule->endport.device, device)) &&
		    rule->endport.port == port &&
		    ibguard_subjects_match(rule, who))
			return p->endport_index[i].rule;
	}
	return best;
}

/*
 * The first endport rule that applies to (device, port) for the current
 * task (who == NULL) or a recorded one: rules naming both, either, or
 * neither ("*") are candidates.
 */
const struct ibguard_rule *ibguard_endport_first_match(const struct ibguard_policy *p,
						       const char *device,
						       u32 port,
						       const struct ibguard_identity *who)
{
	u32 best = NO_RULE;

	if (!p->nr_endport_index)
		return NULL;
	best = scan_endport(p, device, port, who, best);
	best = scan_endport(p, device, 0, who, best);
	best = scan_endport(p, NULL, port, who, best);
	best = scan_endport(p, NULL, 0, who, best);
	return best == NO_RULE ? NULL : &p->rules[best];
}
EXPORT_SYMBOL_GPL(ibguard_endport_first_match);

u64 ibguard_policy_rule_hits(const struct ibguard_policy *p, u32 rule)
{
	u64 __percpu *chunk = p->hits[rule / IBGUARD_HITS_PER_CHUNK];
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(chunk + rule % IBGUARD_HITS_PER_CHUNK, cpu);
	return sum;
}

void ibguard_policy_reset_hits(struct ibguard_policy *p)
{
	u32 i;
	int cpu;

	for (i = 0; i < p->nr_hit_chunks; i++)
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(p->hits[i], cpu), 0,
			       IBGUARD_HITS_PER_CHUNK * sizeof(u64));
}
