// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching to kernel functions at run time. A loadable module cannot
 * register LSM hooks, so ibguard puts an ftrace_ops with IPMODIFY on each
 * attach point. To deny, a handler points the saved instruction pointer at
 * ibguard_deny_eacces(): the traced function's body never runs and its
 * caller receives -EACCES, as if the function itself had refused.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/module.h>
#include "ibguard.h"

/*
 * Entered in place of the traced function, with its caller's return address
 * on the stack: returning from here returns to that caller.
 */
static noinline notrace long ibguard_deny_eacces(void)
{
	return -EACCES;
}

void ibguard_deny_call(struct pt_regs *regs)
{
	instruction_pointer_set(regs, (unsigned long)ibguard_deny_eacces);
}
EXPORT_SYMBOL_GPL(ibguard_deny_call);

/*
 * Filters ops on names and registers it. -EBUSY means another IPMODIFY user
 * (livepatch, fail_function, another module) owns one of the functions.
 */
int ibguard_attach(struct ftrace_ops *ops, const char *const *names,
		   unsigned int nr_names)
{
	unsigned int i;
	int err;

	for (i = 0; i < nr_names; i++) {
		/* ftrace_set_filter() wants a writable buffer. */
		char buf[KSYM_NAME_LEN];

		strscpy(buf, names[i], sizeof(buf));
		err = ftrace_set_filter(ops, buf, strlen(buf), i == 0);
		if (err) {
			pr_err("cannot attach to %s: %d (function missing or not traceable)\n",
			       names[i], err);
			return err;
		}
	}
	err = register_ftrace_function(ops);
	if (err == -EBUSY)
		pr_err("cannot attach to %s: another user modifies its instruction pointer (livepatch, fail_function, another module) or kernel.ftrace_enabled is 0\n",
		       names[0]);
	else if (err)
		pr_err("cannot attach to %s: %d\n", names[0], err);
	return err;
}
EXPORT_SYMBOL_GPL(ibguard_attach);

/*
 * Could ibguard_attach() reach every name? Checked when a module loads, so
 * that a kernel without one (renamed, inlined, notrace) is refused up front
 * rather than at the first policy that needs it. Returns 0, or an error
 * with *missing set to the first name that cannot be traced.
 */
int ibguard_attach_probe(const char *const *names, unsigned int nr_names,
			 const char **missing)
{
	struct ftrace_ops *ops;
	unsigned int i;
	int err = 0;

	ops = kzalloc(sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	for (i = 0; i < nr_names && !err; i++) {
		char buf[KSYM_NAME_LEN];

		strscpy(buf, names[i], sizeof(buf));
		err = ftrace_set_filter(ops, buf, strlen(buf), 1);
		if (err)
			*missing = names[i];
	}
	ftrace_free_filter(ops);
	kfree(ops);
	return err;
}
EXPORT_SYMBOL_GPL(ibguard_attach_probe);

/* Returns once no handler of ops runs any more. */
void ibguard_detach(struct ftrace_ops *ops)
{
	int err = unregister_ftrace_function(ops);

	WARN_ON_ONCE(err);
}
EXPORT_SYMBOL_GPL(ibguard_detach);

/*
 * Before the module's text goes away: no task may still be inside
 * ibguard_deny_eacces() after being preempted there.
 */
void ibguard_attach_exit(void)
{
	synchronize_rcu_tasks();
}
