// SPDX-License-Identifier: GPL-2.0
/*
 * The map class: mmap and mprotect of files, decided at
 * security_mmap_file() and security_file_mprotect() before they run.
 * Anonymous mappings are never looked at.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/personality.h>
#include <linux/ptrace.h>
#include "ibguard.h"
#include "ibguard_compat.h"

static_assert(PROT_READ == IBGUARD_PROT_READ);
static_assert(PROT_WRITE == IBGUARD_PROT_WRITE);
static_assert(PROT_EXEC == IBGUARD_PROT_EXEC);

static bool map_attached;

/*
 * The protection the mapping will really get: a READ_IMPLIES_EXEC task's
 * readable mapping also becomes executable, unless its mount is noexec.
 * This mirrors what security_mmap_file() computes before calling LSMs.
 */
static unsigned long effective_prot(const struct path *path, unsigned long prot)
{
	const struct vfsmount *mnt = path->mnt;

	if ((prot & (PROT_READ | PROT_EXEC)) != PROT_READ)
		return prot;
	if (!(current->personality & READ_IMPLIES_EXEC))
		return prot;
	if ((mnt->mnt_flags & MNT_NOEXEC) ||
	    (mnt->mnt_sb->s_iflags & SB_I_NOEXEC))
		return prot;
	return prot | PROT_EXEC;
}

/* The rare decisions that are counted as more than an allow, or reported. */
static noinline bool map_conclude(const struct ibguard_policy *p,
				  const struct ibguard_rule *rule,
				  const struct path *path, u32 prot,
				  bool shared, const char *operation)
{
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_MAP,
		.operation = operation,
		.path = path,
		.prot = prot,
		.shared = shared,
	};

	return ibguard_conclude(p, rule, &d);
}

/*
 * Both hooks decide on the path user space named (ibguard_file_user_path()),
 * not on the file they are handed: after mmap a stacked filesystem may have
 * put a lower layer's file into the vma, and mprotect must decide on the
 * object mmap decided on.
 */
static bool map_decide(const struct path *path, unsigned long prot,
		       bool shared, const char *operation)
{
	const struct ibguard_policy *p;
	const struct ibguard_rule *rule;
	bool deny = false;

	prot &= IBGUARD_PROT_ALL;
	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p) {
		rule = ibguard_map_first_match(p, path, prot, shared);
		if (!ibguard_allow_quietly(p, rule, IBGUARD_CLASS_MAP))
			deny = map_conclude(p, rule, path, prot, shared,
					    operation);
	}
	rcu_read_unlock();
	return deny;
}

/* int security_mmap_file(struct file *file, unsigned long prot, unsigned long flags) */
static void notrace mmap_file_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct file *file = (struct file *)regs->di;
	unsigned long type = regs->dx & MAP_TYPE;
	const struct path *path;

	if (!file)
		return;
	path = ibguard_file_user_path(file);
	if (map_decide(path, effective_prot(path, regs->si),
		       type == MAP_SHARED || type == MAP_SHARED_VALIDATE, "mmap"))
		ibguard_deny_call(regs);
}

/*
 * int security_file_mprotect(struct vm_area_struct *vma,
 *			      unsigned long reqprot, unsigned long prot)
 */
static void notrace mprotect_handler(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops,
				     struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct vm_area_struct *vma = (struct vm_area_struct *)regs->di;

	if (!vma->vm_file)
		return;
	/*
	 * VM_MAYSHARE, not VM_SHARED: do_mmap() clears VM_SHARED on a
	 * MAP_SHARED mapping of a file opened without write access, which is
	 * still a shared mapping of that file.
	 */
	if (map_decide(ibguard_file_user_path(vma->vm_file), regs->dx,
		       vma->vm_flags & VM_MAYSHARE, "mprotect"))
		ibguard_deny_call(regs);
}

#define IBGUARD_OPS_FLAGS (FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
			   FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT)

static struct ftrace_ops mmap_file_ops = {
	.func = mmap_file_handler,
	.flags = IBGUARD_OPS_FLAGS,
};

static struct ftrace_ops mprotect_ops = {
	.func = mprotect_handler,
	.flags = IBGUARD_OPS_FLAGS,
};

static const char *const mmap_file_fn[] = { "security_mmap_file" };
static const char *const mprotect_fn[] = { "security_file_mprotect" };

/* Called with the policy lock held. */
int ibguard_map_attach(void)
{
	int err;

	if (map_attached)
		return 0;
	err = ibguard_attach(&mmap_file_ops, mmap_file_fn, 1);
	if (err)
		return err;
	err = ibguard_attach(&mprotect_ops, mprotect_fn, 1);
	if (err) {
		ibguard_detach(&mmap_file_ops);
		return err;
	}
	map_attached = true;
	return 0;
}

void ibguard_map_detach(void)
{
	if (!map_attached)
		return;
	ibguard_detach(&mprotect_ops);
	ibguard_detach(&mmap_file_ops);
	map_attached = false;
}

bool ibguard_map_is_attached(void)
{
	return map_attached;
}

/* Does this kernel have the map class's attach points? */
int ibguard_map_probe(const char **missing)
{
	return ibguard_attach_probe(mmap_file_fn, 1, missing) ?:
	       ibguard_attach_probe(mprotect_fn, 1, missing);
}

void ibguard_map_exit(void)
{
	ftrace_free_filter(&mmap_file_ops);
	ftrace_free_filter(&mprotect_ops);
}
