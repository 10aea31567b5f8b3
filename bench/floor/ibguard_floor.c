// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark floor: the attach mechanism alone. Puts an ftrace_ops with the
 * flags ibguard uses (saved registers, IPMODIFY) and a handler that does
 * nothing on each function named in "points", so that a benchmark can tell
 * what attaching costs before any decision is made. Test and benchmark use
 * only; it enforces nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define FLOOR_MAX_POINTS 8

static char *points = "security_mmap_file,security_file_mprotect";
module_param(points, charp, 0444);
MODULE_PARM_DESC(points, "comma-separated functions to attach an empty handler to");

static struct ftrace_ops floor_ops[FLOOR_MAX_POINTS];
static unsigned int nr_attached;

static void notrace floor_handler(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *ops,
				  struct ftrace_regs *fregs)
{
}

static int floor_attach_one(struct ftrace_ops *ops, char *name)
{
	int err;

	ops->func = floor_handler;
	ops->flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		     FTRACE_OPS_FL_RECURSION;
	err = ftrace_set_filter(ops, name, strlen(name), 1);
	if (!err)
		err = register_ftrace_function(ops);
	if (err) {
		pr_err("cannot attach to %s: %d\n", name, err);
		ftrace_free_filter(ops);
	}
	return err;
}

static void floor_detach_all(void)
{
	while (nr_attached) {
		struct ftrace_ops *ops = &floor_ops[--nr_attached];

		WARN_ON_ONCE(unregister_ftrace_function(ops));
		ftrace_free_filter(ops);
	}
}

static int __init floor_init(void)
{
	char *list, *cursor, *name;
	int err = 0;

	list = kstrdup(points, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cursor = list;
	while ((name = strsep(&cursor, ",")) && !err) {
		if (!*name)
			continue;
		if (nr_attached == FLOOR_MAX_POINTS) {
			pr_err("more than %d points\n", FLOOR_MAX_POINTS);
			err = -E2BIG;
			break;
		}
		err = floor_attach_one(&floor_ops[nr_attached], name);
		if (!err)
			nr_attached++;
	}
	kfree(list);
	if (!err && !nr_attached) {
		pr_err("no attach points given\n");
		err = -EINVAL;
	}
	if (err)
		floor_detach_all();
	return err;
}

static void __exit floor_exit(void)
{
	floor_detach_all();
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_DESCRIPTION("ibguard benchmark floor: empty handlers at the attach points");
MODULE_LICENSE("GPL");
