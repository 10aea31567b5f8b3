// SPDX-License-Identifier: GPL-2.0
/*
 * map_guard: a BPF-LSM comparator for ibguard's `map path` rules.
 *
 * It makes the decision a single `map path` rule makes, from a hash map
 * keyed like ibguard's inode index (sb->s_dev, i_ino):
 *
 *   a file mapping or mprotect asking for any protection bit in prot_mask,
 *   by a task whose effective uid is in [uid_min, uid_max], gets -EACCES if
 *   the entry's verdict is deny, 0 otherwise; anything else gets 0.
 *
 * It deliberately does nothing else in the hot path (no counters, no
 * events): it exists to compare the cost of the decision.
 *
 * No vmlinux.h: the few kernel structures used are declared here with
 * preserve_access_index, so that libbpf relocates every field access
 * against the running kernel's BTF (CO-RE).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EACCES 13

#define MAP_GUARD_PROT_MASK 0x7 /* PROT_READ | PROT_WRITE | PROT_EXEC */
#define MAP_GUARD_DENY 1

/* Default size; the loader sets it to its entry count before loading. */
#define MAP_GUARD_MAX_ENTRIES (1U << 20)

struct super_block {
	__u32 s_dev; /* dev_t: the kernel-internal encoding, MAJOR << 20 | MINOR */
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct vm_area_struct {
	struct file *vm_file;
} __attribute__((preserve_access_index));

typedef struct {
	__u32 val;
} kuid_t;

struct cred {
	kuid_t euid;
} __attribute__((preserve_access_index));

struct task_struct {
	const struct cred *cred;
} __attribute__((preserve_access_index));

/* Keep in sync with struct map_guard_key/value in map_guard.c. */
struct map_guard_key {
	__u64 dev;
	__u64 ino;
};

struct map_guard_value {
	__u32 prot_mask;
	__u32 uid_min;
	__u32 uid_max;
	__u32 verdict;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAP_GUARD_MAX_ENTRIES);
	__type(key, struct map_guard_key);
	__type(value, struct map_guard_value);
} map_guard_rules SEC(".maps");

static __always_inline int map_guard_decide(struct file *file,
					    unsigned long prot)
{
	struct map_guard_value *rule;
	struct map_guard_key key;
	struct task_struct *task;
	struct inode *inode;
	__u32 euid;

	if (!file)
		return 0;
	inode = file->f_inode;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	rule = bpf_map_lookup_elem(&map_guard_rules, &key);
	if (!rule || !(prot & MAP_GUARD_PROT_MASK & rule->prot_mask))
		return 0;
	task = bpf_get_current_task_btf();
	euid = task->cred->euid.val;
	if (euid < rule->uid_min || euid > rule->uid_max)
		return 0;
	return rule->verdict == MAP_GUARD_DENY ? -EACCES : 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(map_guard_mmap_file, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	return map_guard_decide(file, prot);
}

SEC("lsm/file_mprotect")
int BPF_PROG(map_guard_file_mprotect, struct vm_area_struct *vma,
	     unsigned long reqprot, unsigned long prot, int ret)
{
	if (ret)
		return ret;
	return map_guard_decide(vma->vm_file, prot);
}

char LICENSE[] SEC("license") = "GPL";
