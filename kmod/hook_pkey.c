// SPDX-License-Identifier: GPL-2.0
/*
 * The pkey class: which tasks may put a QP on which partition. Decided on
 * ib_core's QP modify path, _ib_modify_qp(), which both ib_modify_qp()
 * (kernel QPs) and ib_modify_qp_with_udata() (ibv_modify_qp) end in.
 *
 * The ftrace handler only redirects the requests that set a port or P_Key
 * index to modify_qp_checked(), which runs in the caller's context and may
 * sleep: it works out the QP's
 * resulting (port, P_Key index) pairs from the request and from what the QP
 * last set (the registry below), decides, and calls the original function
 * when allowed. The call from modify_qp_checked() passes the handler
 * untouched (its return address lies in this module).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_mad.h>
#include "ib.h"

/* Exported by ib_core but declared only in its private core_priv.h. */
void ib_get_cached_subnet_prefix(struct ib_device *device, u32 port_num,
				 u64 *sn_pfx);

typedef int (*modify_qp_fn)(struct ib_qp *qp, struct ib_qp_attr *attr,
			    int attr_mask, struct ib_udata *udata);

/* _ib_modify_qp's address, learnt from the first call the handler sees. */
static unsigned long modify_qp_addr;

struct qp_path {
	bool valid;
	u32 port;
	u16 pkey_index;
};

/* What a QP last set, keyed by the QP. */
struct qp_entry {
	struct hlist_node node;
	const struct ib_qp *qp;
	const struct ib_device *device;
	struct qp_path main, alt;
};

static DEFINE_HASHTABLE(qp_registry, 10);
static DEFINE_SPINLOCK(qp_registry_lock);

static struct qp_entry *registry_find(const struct ib_qp *qp)
{
	struct qp_entry *entry;

	lockdep_assert_held(&qp_registry_lock);
	hash_for_each_possible(qp_registry, entry, node, (unsigned long)qp)
		if (entry->qp == qp)
			return entry;
	return NULL;
}

/* Copies what qp last set into main and alt; invalid when unknown. */
static void registry_get(const struct ib_qp *qp, struct qp_path *main,
			 struct qp_path *alt)
{
	struct qp_entry *entry;

	spin_lock(&qp_registry_lock);
	entry = registry_find(qp);
	if (entry) {
		*main = entry->main;
		*alt = entry->alt;
	}
	spin_unlock(&qp_registry_lock);
}

static void registry_set(const struct ib_qp *qp, const struct qp_path *main,
			 const struct qp_path *alt)
{
	struct qp_entry *entry, *fresh;

	/* A kernel ULP may modify a QP under a spinlock of its own. */
	fresh = kzalloc(sizeof(*fresh), preemptible() ? GFP_KERNEL_ACCOUNT :
			GFP_ATOMIC | __GFP_ACCOUNT);
	spin_lock(&qp_registry_lock);
	entry = registry_find(qp);
	if (!entry && fresh) {
		entry = fresh;
		fresh = NULL;
		entry->qp = qp;
		entry->device = qp->device;
		hash_add(qp_registry, &entry->node, (unsigned long)qp);
	}
	if (entry) {
		entry->main = *main;
		entry->alt = *alt;
	}
	spin_unlock(&qp_registry_lock);
	kfree(fresh);
}

static void registry_forget(const struct ib_qp *qp)
{
	struct qp_entry *entry;

	spin_lock(&qp_registry_lock);
	entry = registry_find(qp);
	if (entry)
		hash_del(&entry->node);
	spin_unlock(&qp_registry_lock);
	kfree(entry);
}

void ibguard_pkey_forget_device(struct ib_device *device)
{
	struct hlist_node *tmp;
	struct qp_entry *entry;
	HLIST_HEAD(gone);
	int bkt;

	spin_lock(&qp_registry_lock);
	hash_for_each_safe(qp_registry, bkt, tmp, entry, node) {
		if (entry->device == device) {
			hash_del(&entry->node);
			hlist_add_head(&entry->node, &gone);
		}
	}
	spin_unlock(&qp_registry_lock);
	hlist_for_each_entry_safe(entry, tmp, &gone, node)
		kfree(entry);
}

/*
 * Returns true when the current task may use the P_Key at index of (device,
 * port). Does not sleep: the MAD send path calls it in atomic context.
 */
static bool pkey_allowed(struct ib_device *device, u32 port, u16 index,
			 const char *operation)
{
	const struct ibguard_policy *p;
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_PKEY,
		.operation = operation,
		.device = dev_name(&device->dev),
		.port = port,
	};
	bool deny = false;

	/* An invalid port or index is the driver's to refuse. */
	if (!rdma_is_port_valid(device, port) ||
	    ib_get_cached_pkey(device, port, index, &d.pkey))
		return true;
	ib_get_cached_subnet_prefix(device, port, &d.subnet);

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p && (rdma_protocol_ib(device, port) ||
		  (p->options & IBGUARD_OPT_PKEY_ON_ROCE)))
		deny = ibguard_conclude(p, ibguard_pkey_first_match(p, d.pkey,
								    d.subnet),
					&d);
	rcu_read_unlock();
	return !deny;
}

/*
 * Only requests that set a port or P_Key index are decided. Management QPs
 * use every P_Key by design: upstream skips them too.
 */
static bool modify_is_checked(const struct ib_qp *qp, int mask)
{
	return qp->qp_type != IB_QPT_SMI && qp->qp_type != IB_QPT_GSI &&
	       (mask & (IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ALT_PATH));
}

/* Entered instead of _ib_modify_qp() for requests modify_is_checked() picks. */
static int modify_qp_checked(struct ib_qp *qp, struct ib_qp_attr *attr,
			     int mask, struct ib_udata *udata)
{
	struct qp_path main = {}, alt = {};
	int ret;

	/* The resulting pair: the request's fields over what it had. */
	registry_get(qp, &main, &alt);
	if (mask & IB_QP_PORT)
		main.port = attr->port_num;
	else if (!main.valid)
		main.port = qp->port;
	if (mask & IB_QP_PKEY_INDEX) {
		main.pkey_index = attr->pkey_index;
		main.valid = true;
	}
	if (mask & IB_QP_ALT_PATH) {
		alt.port = attr->alt_port_num;
		alt.pkey_index = attr->alt_pkey_index;
		alt.valid = true;
	}
	if ((main.valid &&
	     !pkey_allowed(qp->device, main.port, main.pkey_index,
			   "modify_qp")) ||
	    ((mask & IB_QP_ALT_PATH) &&
	     !pkey_allowed(qp->device, alt.port, alt.pkey_index, "modify_qp"))) {
		ret = -EACCES;
		goto out;
	}
	ret = ((modify_qp_fn)READ_ONCE(modify_qp_addr))(qp, attr, mask, udata);
	if (!ret)
		registry_set(qp, &main, &alt);
out:
	atomic_dec(&ibguard_ib_inflight);
	return ret;
}

/* static int _ib_modify_qp(qp, attr, attr_mask, udata) */
static void notrace modify_qp_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	/* modify_qp_checked() calling the original. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	/* Other requests run the original directly: nothing to decide. */
	if (!modify_is_checked((const struct ib_qp *)regs->di, (int)regs->dx))
		return;
	WRITE_ONCE(modify_qp_addr, ip);
	atomic_inc(&ibguard_ib_inflight);
	instruction_pointer_set(regs, (unsigned long)modify_qp_checked);
}

/* int ib_destroy_qp_user(struct ib_qp *qp, struct ib_udata *udata) */
static void notrace destroy_qp_handler(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	registry_forget((const struct ib_qp *)ftrace_get_regs(fregs)->di);
}

/*
 * struct ib_mad_send_buf *ib_create_send_mad(struct ib_mad_agent *agent,
 *	u32 remote_qpn, u16 pkey_index, int rmpp_active, ...)
 *
 * A GSI MAD from a user-space (umad) agent carries a P_Key index, which
 * upstream checks for every MAD sent. The index is private to ib_mad once
 * the send buffer exists, so it is decided where ib_umad creates the buffer
 * for each write(2), in the writer's context, before anything is sent.
 */
static void notrace post_send_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ib_mad_agent *agent = (struct ib_mad_agent *)regs->di;

	if (agent->qp->qp_type != IB_QPT_GSI ||
	    !ibguard_from_user_agent(agent))
		return;
	/* ERR_PTR(-EACCES) and -EACCES are the same register value. */
	if (!pkey_allowed(agent->device, agent->port_num, (u16)regs->dx,
			  "send_mad"))
		ibguard_deny_call(regs);
}

static struct ftrace_ops post_send_ops = {
	.func = post_send_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

static struct ftrace_ops modify_qp_ops = {
	.func = modify_qp_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

static struct ftrace_ops destroy_qp_ops = {
	.func = destroy_qp_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		 FTRACE_OPS_FL_PERMANENT,
};

static const char *const modify_qp_fn_name[] = { "_ib_modify_qp" };
static const char *const destroy_qp_fn_name[] = { "ib_destroy_qp_user" };
static const char *const post_send_fn_name[] = { "ib_create_send_mad" };

int ibguard_pkey_attach(void)
{
	int err = ibguard_attach(&destroy_qp_ops, destroy_qp_fn_name, 1);

	if (err)
		return err;
	err = ibguard_attach(&modify_qp_ops, modify_qp_fn_name, 1);
	if (err)
		goto out_destroy;
	err = ibguard_attach(&post_send_ops, post_send_fn_name, 1);
	if (err)
		goto out_modify;
	return 0;

out_modify:
	ibguard_detach(&modify_qp_ops);
out_destroy:
	ibguard_detach(&destroy_qp_ops);
	return err;
}

void ibguard_pkey_detach(void)
{
	ibguard_detach(&post_send_ops);
	ibguard_detach(&modify_qp_ops);
	ibguard_detach(&destroy_qp_ops);
}

void ibguard_pkey_exit(void)
{
	struct hlist_node *tmp;
	struct qp_entry *entry;
	int bkt;

	ftrace_free_filter(&post_send_ops);
	ftrace_free_filter(&modify_qp_ops);
	ftrace_free_filter(&destroy_qp_ops);
	hash_for_each_safe(qp_registry, bkt, tmp, entry, node) {
		hash_del(&entry->node);
		kfree(entry);
	}
}
