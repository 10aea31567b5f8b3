// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: logs one kernel WARNING when loaded, then refuses to
 * stay loaded. It proves that scripts/vm-run fails a run whose guest kernel
 * warned.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

static int __init ibguard_test_warn_init(void)
{
	WARN(1, "deliberate warning from the vm-run detector test\n");
	return -EAGAIN;
}
module_init(ibguard_test_warn_init);

MODULE_DESCRIPTION("ibguard test: trigger a kernel WARNING");
MODULE_LICENSE("GPL");
