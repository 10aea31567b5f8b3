// SPDX-License-Identifier: GPL-2.0
/*
 * Subject matching: is the current task, or one recorded earlier, the one a
 * rule speaks of? Called from hook handlers with preemption disabled, under
 * rcu_read_lock(): matching neither sleeps nor takes references.
 */
#include <linux/audit.h>
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

/* A recorded task's executable, by the numbers taken at the time. */
static bool recorded_exe_matches(const struct ibguard_identity *who,
				 const struct ibguard_subject *subj)
{
	return who->exe_ino && who->exe_ino == subj->ino &&
	       who->exe_dev == subj->dev;
}

static bool subject_matches(const struct cred *cred,
			    const struct ibguard_subject *subj,
			    const struct ibguard_identity *who)
{
	switch (subj->type) {
	case IBGUARD_SUBJ_UID:
		return uid_in(cred->euid, subj);
	case IBGUARD_SUBJ_GID:
		return gid_matches(cred, subj);
	case IBGUARD_SUBJ_CGROUP:
		if (who)
			return who->cgrp &&
			       cgroup_is_descendant(who->cgrp, subj->cgrp);
		return cgroup_is_descendant(task_dfl_cgroup(current), subj->cgrp);
	case IBGUARD_SUBJ_EXE:
		return who ? recorded_exe_matches(who, subj) : exe_matches(subj);
	case IBGUARD_SUBJ_KERNEL:
		return who ? who->kthread : current->flags & PF_KTHREAD;
	}
	WARN_ON_ONCE(1);
	return false;
}

bool ibguard_subjects_match(const struct ibguard_rule *rule,
			    const struct ibguard_identity *who)
{
	const struct cred *cred = who ? who->cred : current_cred();
	u32 i;

	for (i = 0; i < rule->nr_subjects; i++)
		if (!subject_matches(cred, &rule->subjects[i], who))
			return false;
	return true;
}

/* What does not need the task's mm: credentials are the caller's part. */
static void identity_ids(struct ibguard_identity *who, struct task_struct *task)
{
	who->kthread = task->flags & PF_KTHREAD;
	who->pid = task_tgid_nr(task);
	who->auid = from_kuid(&init_user_ns, audit_get_loginuid(task));
	get_task_comm(who->comm, task);
}

/* The cgroup and executable of task, whose mm is mm and stays put. */
static void identity_cgroup_exe(struct ibguard_identity *who,
				struct task_struct *task, struct mm_struct *mm)
{
	struct cgroup *cgrp;
	struct file *exe;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(task);
	if (cgroup_tryget(cgrp))
		who->cgrp = cgrp;
	exe = mm && !who->kthread ? rcu_dereference(mm->exe_file) : NULL;
	if (exe) {
		const struct inode *inode = file_inode(exe);

		who->exe_dev = inode->i_sb->s_dev;
		who->exe_ino = inode->i_ino;
	}
	rcu_read_unlock();
}

/*
 * Records the current task for later decisions. Takes references (its
 * credentials, its cgroup) but never sleeps: QPs are modified from atomic
 * context too.
 */
void ibguard_identity_get(struct ibguard_identity *who)
{
	memset(who, 0, sizeof(*who));
	who->cred = get_current_cred();
	identity_ids(who, current);
	identity_cgroup_exe(who, current, current->mm);
}
EXPORT_SYMBOL_GPL(ibguard_identity_get);

/*
 * Records another task, held by the caller, as ibguard_identity_get() would
 * if task called it now. Does not sleep.
 */
void ibguard_identity_of(struct ibguard_identity *who, struct task_struct *task)
{
	memset(who, 0, sizeof(*who));
	who->cred = get_task_cred(task);
	identity_ids(who, task);
	/* Keeps task->mm from going while its exe is read. */
	task_lock(task);
	identity_cgroup_exe(who, task, task->mm);
	task_unlock(task);
}
EXPORT_SYMBOL_GPL(ibguard_identity_of);

void ibguard_identity_put(struct ibguard_identity *who)
{
	if (who->cgrp)
		cgroup_put(who->cgrp);
	if (who->cred)
		put_cred(who->cred);
	memset(who, 0, sizeof(*who));
}
EXPORT_SYMBOL_GPL(ibguard_identity_put);

/* For reports: the numbers a cgroup or exe subject is matched against. */
void ibguard_subject_ids(const struct ibguard_identity *who,
			 struct ibguard_subject_ids *ids)
{
	struct mm_struct *mm = current->mm;
	struct file *exe;

	memset(ids, 0, sizeof(*ids));
	if (who) {
		ids->cgroup_id = who->cgrp ? cgroup_id(who->cgrp) : 0;
		ids->exe_dev = who->exe_dev;
		ids->exe_ino = who->exe_ino;
		return;
	}
	rcu_read_lock();
	ids->cgroup_id = cgroup_id(task_dfl_cgroup(current));
	exe = mm && !(current->flags & PF_KTHREAD) ?
	      rcu_dereference(mm->exe_file) : NULL;
	if (exe) {
		const struct inode *inode = file_inode(exe);

		ids->exe_dev = inode->i_sb->s_dev;
		ids->exe_ino = inode->i_ino;
	}
	rcu_read_unlock();
}
