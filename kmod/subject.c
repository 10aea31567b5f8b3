// SPDX-License-Identifier: GPL-2.0
/*
 * Subject matching: is the current task the one a rule speaks of? Called from
 * hook handlers with preemption disabled, under rcu_read_lock(): nothing
 * here sleeps or takes references.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uidgid.h>
#include "ibguard.h"

static bool id_in(u32 id, const struct ibguard_subject *subj)
{
	return id >= subj->lo && id <= subj->hi;
}

/*
 * Kernel-internal ids are the initial user namespace's ids, the ones a
 * policy names: no mapping is needed to compare them.
 */
static bool uid_in(kuid_t uid, const struct ibguard_subject *subj)
{
	return id_in(__kuid_val(uid), subj);
}

static bool gid_in(kgid_t gid, const struct ibguard_subject *subj)
{
	return id_in(__kgid_val(gid), subj);
}

/* The effective gid or any supplementary group within the range. */
static bool gid_matches(const struct cred *cred,
			const struct ibguard_subject *subj)
{
	const struct group_info *groups = cred->group_info;
	int lo = 0, hi = groups->ngroups;

	if (gid_in(cred->egid, subj))
		return true;
	/* group_info is sorted: find the first group >= subj->lo. */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (__kgid_val(groups->gid[mid]) < subj->lo)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < groups->ngroups &&
	       gid_in(groups->gid[lo], subj);
}

static bool exe_matches(const struct ibguard_subject *subj)
{
	struct mm_struct *mm = current->mm;
	const struct inode *inode;
	struct file *exe;

	if (!mm || (current->flags & PF_KTHREAD))
		return false;
	exe = rcu_dereference(mm->exe_file);
	if (!exe)
		return false;
	inode = file_inode(exe);
	return inode->i_ino == subj->ino && inode->i_sb->s_dev == subj->dev;
}

static bool subject_matches(const struct cred *cred,
			    const struct ibguard_subject *subj)
{
	switch (subj->type) {
	case IBGUARD_SUBJ_UID:
		return uid_in(cred->euid, subj);
	case IBGUARD_SUBJ_GID:
		return gid_matches(cred, subj);
	case IBGUARD_SUBJ_CGROUP:
		return cgroup_is_descendant(task_dfl_cgroup(current), subj->cgrp);
	case IBGUARD_SUBJ_EXE:
		return exe_matches(subj);
	case IBGUARD_SUBJ_KERNEL:
		return current->flags & PF_KTHREAD;
	}
	WARN_ON_ONCE(1);
	return false;
}

bool ibguard_subjects_match(const struct ibguard_rule *rule)
{
	const struct cred *cred = current_cred();
	u32 i;

	for (i = 0; i < rule->nr_subjects; i++)
		if (!subject_matches(cred, &rule->subjects[i]))
			return false;
	return true;
}
