// SPDX-License-Identifier: GPL-2.0
/*
 * ibguard_ib: the InfiniBand classes (pkey, endport) of ibguard. An ordinary
 * ib_core client: it links to ib_core, so ib_core cannot go away under it
 * and unloading ib_core unloads its clients first, and it hands its hooks
 * to ibguard.ko, which attaches them while the policy needs them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <rdma/ib_verbs.h>
#include "ib.h"

atomic_t ibguard_ib_inflight = ATOMIC_INIT(0);

static int ib_hooks_attach(void)
{
	int err = ibguard_pkey_attach();

	if (err)
		return err;
	err = ibguard_endport_attach();
	if (err)
		ibguard_pkey_detach();
	return err;
}

static void ib_hooks_detach(void)
{
	unsigned int agents = ibguard_endport_detach();
	unsigned int qps = ibguard_pkey_detach();

	/* Dropped silently, they would look protected to whoever loads next. */
	if (qps || agents)
		pr_info("stopped following live objects (QPs: %u, subnet-management agents: %u): the next attach adopts the QPs that exist then, the agents at their next send\n",
			qps, agents);
}

static void ib_followed(u32 *qps, u32 *agents)
{
	*qps = ibguard_pkey_followed();
	*agents = ibguard_endport_followed();
}

/* A new policy: QPs and subnet-management agents are decided again. */
static void ib_revalidate(void)
{
	ibguard_pkey_revalidate();
	ibguard_endport_revalidate();
}

static const struct ibguard_hook_ops ib_hook_ops = {
	.owner = THIS_MODULE,
	.attach = ib_hooks_attach,
	.detach = ib_hooks_detach,
	.revalidate = ib_revalidate,
	.followed = ib_followed,
};

/*
 * ib_umad's handlers are static and learnt at run time (hook_endport.c):
 * once it goes, their addresses may be another module's.
 */
static int module_event(struct notifier_block *nb, unsigned long action,
			void *data)
{
	const struct module *mod = data;

	if (action == MODULE_STATE_GOING && !strcmp(mod->name, "ib_umad"))
		ibguard_endport_umad_going();
	return NOTIFY_DONE;
}

static struct notifier_block module_nb = {
	.notifier_call = module_event,
};

/*
 * A port's P_Key table or GIDs (hence subnet prefix) may have changed: a
 * QP's P_Key index may now name another P_Key, or its port another subnet.
 * ib_core dispatches these after updating its cache, which revalidation
 * reads. It does not pass IB_EVENT_GID_CHANGE of an InfiniBand port on to
 * clients (only RoCE GID table changes reach them), but re-reads the GIDs
 * for a client reregistration too, which a subnet manager requests when it
 * changed what it had set.
 */
static void ib_event(struct ib_event_handler *handler, struct ib_event *event)
{
	if (event->event == IB_EVENT_PKEY_CHANGE ||
	    event->event == IB_EVENT_GID_CHANGE ||
	    event->event == IB_EVENT_CLIENT_REREGISTER)
		ibguard_pkey_revalidate();
}

static struct ib_client ibguard_ib_client;

/* A device ib_core has, and the handler of its events. */
struct ib_device_entry {
	struct list_head node;
	struct ib_event_handler handler;
};

static LIST_HEAD(ib_devices);
static DEFINE_MUTEX(ib_devices_lock);

/*
 * The pkey registry adopts the QPs of each device ib_core has. A device
 * being removed waits in ib_client_remove() meanwhile, so it is not freed
 * under the walk.
 */
void ibguard_ib_adopt_qps(void)
{
	struct ib_device_entry *entry;

	mutex_lock(&ib_devices_lock);
	list_for_each_entry(entry, &ib_devices, node)
		ibguard_pkey_adopt_device(entry->handler.device);
	mutex_unlock(&ib_devices_lock);
}

static int ib_client_add(struct ib_device *device)
{
	struct ib_device_entry *entry;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	INIT_IB_EVENT_HANDLER(&entry->handler, device, ib_event);
	ib_register_event_handler(&entry->handler);
	ib_set_client_data(device, &ibguard_ib_client, entry);
	mutex_lock(&ib_devices_lock);
	list_add_tail(&entry->node, &ib_devices);
	mutex_unlock(&ib_devices_lock);
	return 0;
}

/*
 * The registry needs nothing here: every QP of the device is destroyed
 * through ib_destroy_qp_user() before the device goes, and leaves then.
 */
static void ib_client_remove(struct ib_device *device, void *client_data)
{
	struct ib_device_entry *entry = client_data;

	mutex_lock(&ib_devices_lock);
	list_del(&entry->node);
	mutex_unlock(&ib_devices_lock);
	ib_unregister_event_handler(&entry->handler);
	kfree(entry);
}

static struct ib_client ibguard_ib_client = {
	.name = "ibguard",
	.add = ib_client_add,
	.remove = ib_client_remove,
};

/* For tests: one more ib_core function to require, or stay out. */
static char *require_function;
module_param(require_function, charp, 0400);
MODULE_PARM_DESC(require_function, "also require this function as an attach point (tests)");

/*
 * Before this module's text goes: redirected calls still inside it (a
 * modify_qp_checked() waiting for a driver) finish, and so do tasks
 * preempted in a handler's trampoline; then the filters are freed.
 */
static void ib_hooks_release(void)
{
	while (atomic_read(&ibguard_ib_inflight))
		msleep(20);
	synchronize_rcu_tasks();
	ibguard_pkey_exit();
	ibguard_endport_exit();
}

static int __init ibguard_ib_init(void)
{
	const char *missing = NULL;
	int err;

	/* ib_core itself goes on either way: only ibguard_ib stays out. */
	err = ibguard_pkey_probe(&missing) ?: ibguard_endport_probe(&missing);
	if (!err && require_function)
		err = ibguard_attach_probe((const char *const *)&require_function,
					   1, &missing);
	if (err) {
		pr_err("pkey and endport are unavailable: this ib_core has no traceable %s() to attach to (%d)\n",
		       missing ?: "?", err);
		return err;
	}
	err = register_module_notifier(&module_nb);
	if (err)
		return err;
	err = ib_register_client(&ibguard_ib_client);
	if (err)
		goto out_notifier;
	err = ibguard_register_ib_hooks(&ib_hook_ops);
	if (err) {
		pr_err("cannot attach the InfiniBand hooks: %d; pkey and endport are unavailable\n",
		       err);
		/* Some may have been attached, and calls redirected, meanwhile. */
		ib_hooks_release();
		goto out_client;
	}
	pr_info("pkey and endport classes available\n");
	return 0;

out_client:
	ib_unregister_client(&ibguard_ib_client);
out_notifier:
	unregister_module_notifier(&module_nb);
	return err;
}

static void __exit ibguard_ib_exit(void)
{
	ibguard_unregister_ib_hooks(&ib_hook_ops);
	ib_hooks_release();
	ib_unregister_client(&ibguard_ib_client);
	unregister_module_notifier(&module_nb);
	pr_info("unloaded\n");
}

module_init(ibguard_ib_init);
module_exit(ibguard_ib_exit);

MODULE_DESCRIPTION("ibguard: InfiniBand P_Key and subnet-management access control");
MODULE_AUTHOR("The ibguard developers");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: ibguard");
