// SPDX-License-Identifier: GPL-2.0
/*
 * ibguard: InfiniBand/RDMA and file-mapping access control for kernels built
 * without CONFIG_SECURITY_INFINIBAND. Module setup, the active policy and
 * the mode.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kmod.h>
#include <linux/namei.h>
#include <linux/netlink.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/utsname.h>
#include "ibguard.h"

struct ibguard_policy __rcu *ibguard_active_policy;
EXPORT_SYMBOL_GPL(ibguard_active_policy);

/* Serialises policy installs, mode changes, staging and unload. */
DEFINE_MUTEX(ibguard_lock);
static bool exiting;
static const struct ibguard_hook_ops *ib_hooks;
static bool ib_attached;
static enum ibguard_mode current_mode = IBGUARD_MODE_ENFORCING;
static u64 policy_generation;
/* Set once by ibguard_lock_enforcement(), never cleared. */
static bool locked;
/*
 * Classes whose hooks could not be attached at the last try (another
 * IPMODIFY user of an attach point, ftrace disabled): not available until
 * an attach succeeds.
 */
static u32 attach_failed;

#define IB_CLASSES (BIT(IBGUARD_CLASS_PKEY) | BIT(IBGUARD_CLASS_ENDPORT))

enum ibguard_mode ibguard_mode(void)
{
	return READ_ONCE(current_mode);
}
EXPORT_SYMBOL_GPL(ibguard_mode);

u64 ibguard_generation(void)
{
	return READ_ONCE(policy_generation);
}

/* Called with ibguard_lock held; -ENODEV once unloading has begun. */
int ibguard_check_alive(void)
{
	lockdep_assert_held(&ibguard_lock);
	return exiting ? -ENODEV : 0;
}

/* -EPERM when mode would stop enforcing on a locked module. */
int ibguard_mode_allowed(enum ibguard_mode mode, struct netlink_ext_ack *extack)
{
	if (!READ_ONCE(locked) || mode != IBGUARD_MODE_PERMISSIVE)
		return 0;
	NL_SET_ERR_MSG(extack,
		       "ibguard is locked: permissive mode is refused until reboot");
	return -EPERM;
}

/* Called with ibguard_lock held. */
int ibguard_set_mode(enum ibguard_mode mode, struct netlink_ext_ack *extack)
{
	enum ibguard_mode old_mode = ibguard_mode();
	int err;

	lockdep_assert_held(&ibguard_lock);
	if (mode == old_mode)
		return 0;
	err = ibguard_mode_allowed(mode, extack);
	if (err)
		return err;
	WRITE_ONCE(current_mode, mode);
	ibguard_audit_mode(old_mode, mode, ibguard_generation());
	ibguard_event_policy(IBGUARD_EVENT_MODE_CHANGED, ibguard_generation(),
			     mode);
	return 0;
}

bool ibguard_locked(void)
{
	return READ_ONCE(locked);
}

/*
 * Called with ibguard_lock held. Once locked, a policy that can deny
 * nothing is refused: no deny rule and every default allow, which is what
 * a flush loads, but also a policy of allow and log rules only. Any other
 * policy may still replace the active one.
 */
int ibguard_policy_allowed_when_locked(const struct ibguard_policy *p,
				       struct netlink_ext_ack *extack)
{
	u32 i;

	lockdep_assert_held(&ibguard_lock);
	if (!locked)
		return 0;
	for (i = 0; i < IBGUARD_NR_CLASSES; i++)
		if (p->defaults[i] == IBGUARD_VERDICT_DENY)
			return 0;
	for (i = 0; i < p->nr_rules; i++)
		if (p->rules[i].verdict == IBGUARD_VERDICT_DENY)
			return 0;
	NL_SET_ERR_MSG(extack,
		       "ibguard is locked: a policy enforcing nothing (no deny rule or default; flush) is refused");
	return -EPERM;
}

/*
 * Until reboot: a module reference each for ibguard and, once it is there,
 * ibguard_ib makes rmmod fail; permissive mode and flush are refused.
 * Called with ibguard_lock held.
 */
int ibguard_lock_enforcement(struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&ibguard_lock);
	if (locked)
		return 0;
	if (ibguard_mode() == IBGUARD_MODE_PERMISSIVE) {
		NL_SET_ERR_MSG(extack,
			       "ibguard is permissive: set enforcing mode before locking");
		return -EBUSY;
	}
	__module_get(THIS_MODULE);
	if (ib_hooks)
		__module_get(ib_hooks->owner);
	WRITE_ONCE(locked, true);
	ibguard_audit_lock(ibguard_mode(), ibguard_generation());
	return 0;
}

static bool needs_map_hooks(const struct ibguard_policy *p)
{
	return p->class_rules[IBGUARD_CLASS_MAP] ||
	       p->defaults[IBGUARD_CLASS_MAP] == IBGUARD_VERDICT_DENY;
}

static bool needs_ib_hooks(const struct ibguard_policy *p)
{
	return p->class_rules[IBGUARD_CLASS_PKEY] ||
	       p->class_rules[IBGUARD_CLASS_ENDPORT] ||
	       p->defaults[IBGUARD_CLASS_PKEY] == IBGUARD_VERDICT_DENY ||
	       p->defaults[IBGUARD_CLASS_ENDPORT] == IBGUARD_VERDICT_DENY;
}

static void note_attach(u32 classes, int err)
{
	if (err)
		attach_failed |= classes;
	else
		attach_failed &= ~classes;
}

static int attach_ib(const struct ibguard_policy *p)
{
	int err;

	if (!ib_hooks || ib_attached || !p || !needs_ib_hooks(p))
		return 0;
	err = ib_hooks->attach();
	note_attach(IB_CLASSES, err);
	if (err)
		return err;
	ib_attached = true;
	return 0;
}

static void detach_ib(void)
{
	if (!ib_attached)
		return;
	ib_hooks->detach();
	ib_attached = false;
}

/* Called by ibguard_ib.ko at load; attaches at once if the policy needs it. */
int ibguard_register_ib_hooks(const struct ibguard_hook_ops *ops)
{
	int err;

	mutex_lock(&ibguard_lock);
	err = ibguard_check_alive();
	if (!err && ib_hooks)
		err = -EBUSY;
	if (!err) {
		ib_hooks = ops;
		err = attach_ib(rcu_dereference_protected(ibguard_active_policy,
							  lockdep_is_held(&ibguard_lock)));
		if (err)
			ib_hooks = NULL;
	}
	if (!ib_hooks)
		attach_failed &= ~IB_CLASSES;
	/* Still in its init: the reference keeps it from ever unloading. */
	if (!err && locked)
		__module_get(ops->owner);
	mutex_unlock(&ibguard_lock);
	return err;
}
EXPORT_SYMBOL_GPL(ibguard_register_ib_hooks);

void ibguard_unregister_ib_hooks(const struct ibguard_hook_ops *ops)
{
	mutex_lock(&ibguard_lock);
	if (!WARN_ON_ONCE(ib_hooks != ops)) {
		detach_ib();
		ib_hooks = NULL;
		attach_failed &= ~IB_CLASSES;
	}
	mutex_unlock(&ibguard_lock);
}
EXPORT_SYMBOL_GPL(ibguard_unregister_ib_hooks);

/*
 * Makes p the active policy, attaching the hooks it needs first and
 * detaching those it no longer needs after. On failure nothing changed and
 * the caller still owns p.
 */
int ibguard_policy_install(struct ibguard_policy *p,
			   struct netlink_ext_ack *extack)
{
	struct ibguard_policy *old;
	int err;

	lockdep_assert_held(&ibguard_lock);
	if (needs_map_hooks(p)) {
		err = ibguard_map_attach();
		note_attach(BIT(IBGUARD_CLASS_MAP), err);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "the map class is unavailable: its hooks cannot be attached (kernel log says why)");
			return err;
		}
	}
	err = attach_ib(p);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "the pkey and endport classes are unavailable: their hooks cannot be attached (kernel log says why)");
		old = rcu_dereference_protected(ibguard_active_policy,
						lockdep_is_held(&ibguard_lock));
		if (!old || !needs_map_hooks(old))
			ibguard_map_detach();
		return err;
	}
	p->generation = policy_generation + 1;
	WRITE_ONCE(policy_generation, p->generation);
	old = rcu_replace_pointer(ibguard_active_policy, p,
				  lockdep_is_held(&ibguard_lock));
	if (!needs_map_hooks(p))
		ibguard_map_detach();
	if (!needs_ib_hooks(p))
		detach_ib();
	synchronize_rcu();
	ibguard_policy_free(old);
	return 0;
}

/*
 * Re-decides live objects against the active policy and mode, in the
 * background. Called with ibguard_lock held, once a load or a mode change is
 * complete: a revalidation must not see a policy without the mode it came
 * with.
 */
void ibguard_revalidate_live(void)
{
	lockdep_assert_held(&ibguard_lock);
	if (ib_attached && ib_hooks->revalidate)
		ib_hooks->revalidate();
}

u32 ibguard_hooks_attached(void)
{
	return (ibguard_map_is_attached() ? BIT(IBGUARD_CLASS_MAP) : 0) |
	       (ib_attached ? BIT(IBGUARD_CLASS_PKEY) |
			      BIT(IBGUARD_CLASS_ENDPORT) : 0);
}

/*
 * How many live QPs and subnet-management agents the InfiniBand part
 * follows; false when it is not loaded. Called with ibguard_lock held.
 */
bool ibguard_live_followed(u32 *qps, u32 *agents)
{
	lockdep_assert_held(&ibguard_lock);
	if (!ib_hooks)
		return false;
	ib_hooks->followed(qps, agents);
	return true;
}

/* Called with ibguard_lock held. */
u32 ibguard_classes_available(void)
{
	u32 classes = BIT(IBGUARD_CLASS_MAP);

	lockdep_assert_held(&ibguard_lock);
	if (ib_hooks)
		classes |= IB_CLASSES;
	return classes & ~attach_failed;
}

/*
 * The InfiniBand classes come up by themselves once ibguard and ib_core are
 * both present, whichever loads first: ibguard asks for ibguard_ib when
 * ib_core is there at its load or goes live later. Asynchronously: the
 * module loader waits for ibguard to finish loading before ibguard_ib can
 * link to it.
 */
static void request_ib_classes(void)
{
	int err = request_module_nowait("ibguard_ib");

	if (err)
		pr_info("cannot request ibguard_ib (%d); load it to enforce pkey and endport\n",
			err);
}

/* sysfs has a directory for every loaded (or built-in) module. */
static bool ib_core_present(void)
{
	struct path path;

	if (kern_path("/sys/module/ib_core", LOOKUP_DIRECTORY, &path))
		return false;
	path_put(&path);
	return true;
}

static int ib_core_notify(struct notifier_block *nb, unsigned long state,
			  void *data)
{
	struct module *mod = data;

	if (state != MODULE_STATE_LIVE)
		return NOTIFY_DONE;
	/*
	 * ib_core arrived; or ibguard itself is now live with ib_core there.
	 * Not from ibguard's init: ibguard_ib links against ibguard, whose
	 * symbols a loader racing its init did not always find (6.12).
	 */
	if (!strcmp(mod->name, "ib_core") ||
	    (mod == THIS_MODULE && ib_core_present()))
		request_ib_classes();
	return NOTIFY_DONE;
}

static struct notifier_block ib_core_notifier = {
	.notifier_call = ib_core_notify,
};

/* For tests: one more kernel function the module must find, or refuse to load. */
static char *require_function;
module_param(require_function, charp, 0400);
MODULE_PARM_DESC(require_function, "also require this kernel function as an attach point (tests)");

/*
 * The attach points in the kernel proper are needed by the map class and
 * checked here: without them ibguard refuses to load. The InfiniBand ones
 * belong to ib_core and ibguard_ib checks them.
 */
static int probe_attach_points(void)
{
	const char *missing = NULL;
	int err = ibguard_map_probe(&missing);

	if (!err && require_function)
		err = ibguard_attach_probe((const char *const *)&require_function,
					   1, &missing);
	if (err)
		pr_err("not loading: kernel %s has no traceable %s() to attach to (%d)\n",
		       init_utsname()->release, missing ?: "?", err);
	return err;
}

static int __init ibguard_init(void)
{
	int err;

	err = probe_attach_points();
	if (err)
		return err;
	err = ibguard_stats_init();
	if (err)
		return err;
	err = ibguard_events_init();
	if (err)
		goto out_stats;
	err = ibguard_netlink_init();
	if (err) {
		pr_err("cannot register the generic netlink family: %d\n", err);
		goto out_events;
	}
	err = register_module_notifier(&ib_core_notifier);
	if (err)
		goto out_netlink;
	pr_info("version %s loaded, protocol %u\n", IBGUARD_VERSION,
		IBGUARD_PROTOCOL_VERSION);
	return 0;

out_netlink:
	ibguard_netlink_exit();
out_events:
	ibguard_events_exit();
out_stats:
	ibguard_stats_exit();
	return err;
}

static void __exit ibguard_exit(void)
{
	struct ibguard_policy *old;

	unregister_module_notifier(&ib_core_notifier);
	/* No command may attach hooks again once they are detached here. */
	mutex_lock(&ibguard_lock);
	exiting = true;
	ibguard_map_detach();
	/* ibguard_ib.ko depends on this module: it is gone by now. */
	WARN_ON_ONCE(ib_hooks);
	mutex_unlock(&ibguard_lock);

	ibguard_events_exit();
	ibguard_netlink_exit();
	old = rcu_replace_pointer(ibguard_active_policy, NULL, true);
	synchronize_rcu();
	ibguard_policy_free(old);
	ibguard_map_exit();
	ibguard_attach_exit();
	ibguard_stats_exit();
	pr_info("unloaded\n");
}

module_init(ibguard_init);
module_exit(ibguard_exit);

MODULE_DESCRIPTION("InfiniBand and file-mapping access control");
MODULE_AUTHOR("The ibguard developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(IBGUARD_VERSION);
