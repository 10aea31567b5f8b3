// SPDX-License-Identifier: GPL-2.0
/*
 * ibguard: InfiniBand/RDMA and file-mapping access control for kernels built
 * without CONFIG_SECURITY_INFINIBAND. Module setup and global state.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/init.h>
#include "ibguard.h"

static enum ibguard_mode current_mode = IBGUARD_MODE_ENFORCING;
static u64 policy_generation;

enum ibguard_mode ibguard_mode(void)
{
	return READ_ONCE(current_mode);
}

u64 ibguard_generation(void)
{
	return READ_ONCE(policy_generation);
}

static int __init ibguard_init(void)
{
	int err;

	err = ibguard_netlink_init();
	if (err) {
		pr_err("cannot register the generic netlink family: %d\n", err);
		return err;
	}
	pr_info("version %s loaded, protocol %u\n", IBGUARD_VERSION,
		IBGUARD_PROTOCOL_VERSION);
	return 0;
}

static void __exit ibguard_exit(void)
{
	ibguard_netlink_exit();
	pr_info("unloaded\n");
}

module_init(ibguard_init);
module_exit(ibguard_exit);

MODULE_DESCRIPTION("InfiniBand and file-mapping access control");
MODULE_AUTHOR("The ibguard developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(IBGUARD_VERSION);
