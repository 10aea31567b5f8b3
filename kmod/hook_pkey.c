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
 * when allowed, through the exported ib_modify_qp_with_udata(): a direct
 * call, since with IBT (CONFIG_X86_KERNEL_IBT, on in 6.12) an indirect call
 * to _ib_modify_qp(), which has no ENDBR, is fatal. That call passes the
 * handler untouched because modify_qp_checked() registered it as passing
 * (not by its return address: whether ib_modify_qp_with_udata() tail-calls
 * _ib_modify_qp() is the compiler's choice).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_mad.h>
#include <rdma/restrack.h>
#include "ib.h"

/* Exported by ib_core but declared only in its private core_priv.h. */
void ib_get_cached_subnet_prefix(struct ib_device *device, u32 port_num,
				 u64 *sn_pfx);

/* A request modify_qp_checked() decided and passes on, by the current task. */
struct passing_request {
	struct hlist_node node;
	const struct ib_qp_attr *attr;
	const struct task_struct *task;
};

static DEFINE_HASHTABLE(passing, 6);
static DEFINE_RAW_SPINLOCK(passing_lock);

static void pass_begin(struct passing_request *req,
		       const struct ib_qp_attr *attr)
{
	unsigned long flags;

	req->attr = attr;
	req->task = current;
	raw_spin_lock_irqsave(&passing_lock, flags);
	hash_add(passing, &req->node, (unsigned long)attr);
	raw_spin_unlock_irqrestore(&passing_lock, flags);
}

static void pass_end(struct passing_request *req)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&passing_lock, flags);
	hash_del(&req->node);
	raw_spin_unlock_irqrestore(&passing_lock, flags);
}

/* Is the current task passing attr on from modify_qp_checked()? */
static bool passing_through(const struct ib_qp_attr *attr)
{
	struct passing_request *req;
	unsigned long flags;
	bool found = false;

	raw_spin_lock_irqsave(&passing_lock, flags);
	hash_for_each_possible(passing, req, node, (unsigned long)attr)
		if (req->attr == attr && req->task == current) {
			found = true;
			break;
		}
	raw_spin_unlock_irqrestore(&passing_lock, flags);
	return found;
}

struct qp_path {
	bool valid;
	u32 port;
	u16 pkey_index;
};

/*
 * What a QP last set, keyed by the QP, and who set it: a new policy (or a
 * new P_Key table) is decided against that task, as the hook decided at the
 * time. The registry holds a reference; so does whoever works on an entry
 * outside qp_registry_lock. lock serializes what changes or reads the QP's
 * path: a checked modify holds it from reading what the QP had through
 * recording what it set (two modifies of one QP, each checked against the
 * old state, could otherwise leave a pair nobody decided), revalidation
 * holds it while it re-decides and cuts the QP off, and the destroy path
 * marks the entry destroying under it before the QP goes.
 */
struct qp_entry {
	struct hlist_node node;		/* unhashed once forgotten */
	struct list_head work;		/* on the revalidation worker's list */
	struct kref ref;
	struct mutex lock;		/* orders modify, revalidate, destroy */
	bool destroying;		/* under lock */
	struct ib_qp *qp;
	u32 qp_num;
	/* under qp_registry_lock */
	struct qp_path main, alt;
	struct ibguard_identity who;
};

static DEFINE_HASHTABLE(qp_registry, 10);
static DEFINE_SPINLOCK(qp_registry_lock);
static unsigned int qp_registry_size;	/* under qp_registry_lock */
/*
 * Only while the hooks are attached does the registry follow QPs; attaching
 * them adopts the QPs that exist.
 */
static bool registry_enabled;
/*
 * Bumped under qp_registry_lock each time a revalidation is queued: a modify
 * that decided before a bump and recorded after it asks for another one, so
 * that no policy or P_Key table change misses what it set.
 */
static unsigned long revalidations;
/* What the registry's worker is asked to do, under qp_registry_lock. */
static bool adopt_pending, revalidate_pending;

/*
 * A QP whose destruction began: the adoption of existing QPs must not add
 * an entry for it, since its destroy path has already looked for one.
 */
struct qp_destroy {
	struct hlist_node node;
	const struct ib_qp *qp;
};

static DEFINE_HASHTABLE(destroying, 6);	/* under qp_registry_lock */

static void entry_release(struct kref *ref)
{
	struct qp_entry *entry = container_of(ref, struct qp_entry, ref);

	ibguard_identity_put(&entry->who);
	kfree(entry);
}

static void entry_put(struct qp_entry *entry)
{
	kref_put(&entry->ref, entry_release);
}

static struct qp_entry *registry_find(const struct ib_qp *qp)
{
	struct qp_entry *entry;

	lockdep_assert_held(&qp_registry_lock);
	hash_for_each_possible(qp_registry, entry, node, (unsigned long)qp)
		if (entry->qp == qp)
			return entry;
	return NULL;
}

/* The entry of qp with a reference, or NULL. */
static struct qp_entry *registry_get_entry(const struct ib_qp *qp)
{
	struct qp_entry *entry;

	spin_lock(&qp_registry_lock);
	entry = registry_find(qp);
	if (entry)
		kref_get(&entry->ref);
	spin_unlock(&qp_registry_lock);
	return entry;
}

static struct qp_entry *entry_alloc(struct ib_qp *qp, gfp_t gfp)
{
	struct qp_entry *entry = kzalloc(sizeof(*entry), gfp);

	if (!entry)
		return NULL;
	kref_init(&entry->ref);
	mutex_init(&entry->lock);
	INIT_LIST_HEAD(&entry->work);
	entry->qp = qp;
	entry->qp_num = qp->qp_num;
	return entry;
}

/*
 * The entry of qp, added if it has none, with a reference. NULL when the
 * registry does not follow QPs now (*err 0) or memory ran out (*err
 * -ENOMEM): a QP that set a P_Key and is not followed would escape every
 * later policy, so its modify fails instead.
 */
static struct qp_entry *registry_get_or_add(struct ib_qp *qp, int *err)
{
	struct qp_entry *entry, *fresh;

	*err = 0;
	entry = registry_get_entry(qp);
	if (entry || !READ_ONCE(registry_enabled))
		return entry;
	/* A kernel ULP may modify a QP under a spinlock of its own. */
	fresh = entry_alloc(qp, preemptible() ? GFP_KERNEL_ACCOUNT :
			    GFP_ATOMIC | __GFP_ACCOUNT);
	if (!fresh) {
		*err = -ENOMEM;
		return NULL;
	}

	spin_lock(&qp_registry_lock);
	entry = registry_find(qp);
	if (!entry && registry_enabled) {
		entry = fresh;
		fresh = NULL;
		hash_add(qp_registry, &entry->node, (unsigned long)qp);
		qp_registry_size++;
	}
	if (entry)
		kref_get(&entry->ref);
	spin_unlock(&qp_registry_lock);
	kfree(fresh);
	return entry;
}

/*
 * Copies what entry's QP last set into main and alt (invalid when unknown)
 * and returns how many revalidations were queued so far.
 */
static unsigned long registry_paths(struct qp_entry *entry,
				    struct qp_path *main, struct qp_path *alt)
{
	unsigned long seen;

	spin_lock(&qp_registry_lock);
	*main = entry->main;
	*alt = entry->alt;
	seen = revalidations;
	spin_unlock(&qp_registry_lock);
	return seen;
}

/*
 * Records what who (whose references the entry takes over) set on entry's
 * QP. True when a revalidation was queued since registry_paths() returned
 * seen: it may have missed what was just recorded.
 */
static bool registry_record(struct qp_entry *entry, const struct qp_path *main,
			    const struct qp_path *alt,
			    struct ibguard_identity *who, unsigned long seen)
{
	bool missed;

	spin_lock(&qp_registry_lock);
	entry->main = *main;
	entry->alt = *alt;
	swap(entry->who, *who);
	missed = revalidations != seen;
	spin_unlock(&qp_registry_lock);
	/* The identity the entry had. */
	ibguard_identity_put(who);
	return missed;
}

/* Drops the registry's reference, once. */
static void registry_forget(struct qp_entry *entry)
{
	bool hashed;

	spin_lock(&qp_registry_lock);
	hashed = hash_hashed(&entry->node);
	if (hashed) {
		hash_del(&entry->node);
		qp_registry_size--;
	}
	spin_unlock(&qp_registry_lock);
	if (hashed)
		entry_put(entry);
}

/*
 * Takes qp's entry out of the registry, with the registry's reference, before
 * the QP is destroyed: the address may be a new QP's as soon as it is freed,
 * and that QP must get an entry of its own. d marks the destruction as begun
 * until registry_destroy_done().
 */
static struct qp_entry *registry_take(const struct ib_qp *qp,
				      struct qp_destroy *d)
{
	struct qp_entry *entry;

	d->qp = qp;
	spin_lock(&qp_registry_lock);
	hash_add(destroying, &d->node, (unsigned long)qp);
	entry = registry_find(qp);
	if (entry) {
		hash_del(&entry->node);
		qp_registry_size--;
	}
	spin_unlock(&qp_registry_lock);
	return entry;
}

/*
 * The destruction d marks ended. If the QP lives on, restore (if not NULL)
 * is what registry_take() took: it goes back.
 */
static void registry_destroy_done(struct qp_destroy *d,
				  struct qp_entry *restore)
{
	bool restored = false;

	spin_lock(&qp_registry_lock);
	hash_del(&d->node);
	if (restore && registry_enabled && !registry_find(restore->qp)) {
		hash_add(qp_registry, &restore->node,
			 (unsigned long)restore->qp);
		qp_registry_size++;
		restored = true;
	}
	spin_unlock(&qp_registry_lock);
	if (restore && !restored)
		entry_put(restore);
}

/*
 * Is entry still in the registry? Only then is its QP known to be alive: a
 * destroy takes the entry out before the QP goes and then waits for
 * entry->lock, and nothing follows the QP of an entry that was forgotten
 * (a failed first modify, a revocation, an adoption that found nothing to
 * follow). Called with entry->lock held.
 */
static bool registry_holds(struct qp_entry *entry)
{
	bool held;

	lockdep_assert_held(&entry->lock);
	spin_lock(&qp_registry_lock);
	held = hash_hashed(&entry->node);
	spin_unlock(&qp_registry_lock);
	return held;
}

static bool destroy_begun(const struct ib_qp *qp)
{
	struct qp_destroy *d;

	lockdep_assert_held(&qp_registry_lock);
	hash_for_each_possible(destroying, d, node, (unsigned long)qp)
		if (d->qp == qp)
			return true;
	return false;
}

/*
 * Forgets an entry whose QP never set a P_Key (its first checked modify
 * failed): there is nothing to revalidate, and "followed" counts QPs that
 * revalidation can cut off.
 */
static void registry_forget_unset(struct qp_entry *entry)
{
	bool unset;

	spin_lock(&qp_registry_lock);
	unset = !entry->main.valid && !entry->alt.valid;
	spin_unlock(&qp_registry_lock);
	if (unset)
		registry_forget(entry);
}

static void registry_work_fn(struct work_struct *work);
static DECLARE_WORK(registry_work, registry_work_fn);

/*
 * Drops the registry's references to every entry and returns how many there
 * were. The registry is disabled: once its work is cancelled, no
 * revalidation runs or gets queued, so entry->work is free to use.
 */
static unsigned int registry_forget_all(void)
{
	struct qp_entry *entry, *next;
	struct hlist_node *tmp;
	unsigned int forgotten = 0;
	LIST_HEAD(gone);
	int bkt;

	WARN_ON_ONCE(READ_ONCE(registry_enabled));
	cancel_work_sync(&registry_work);
	spin_lock(&qp_registry_lock);
	adopt_pending = false;
	revalidate_pending = false;
	hash_for_each_safe(qp_registry, bkt, tmp, entry, node) {
		hash_del(&entry->node);
		list_add_tail(&entry->work, &gone);
		forgotten++;
	}
	WARN_ON_ONCE(forgotten != qp_registry_size);
	qp_registry_size = 0;
	spin_unlock(&qp_registry_lock);
	list_for_each_entry_safe(entry, next, &gone, work) {
		list_del_init(&entry->work);
		entry_put(entry);
	}
	return forgotten;
}

/* How many QPs the registry follows. */
unsigned int ibguard_pkey_followed(void)
{
	unsigned int size;

	spin_lock(&qp_registry_lock);
	size = qp_registry_size;
	spin_unlock(&qp_registry_lock);
	return size;
}

/*
 * Re-decide every registered QP, in the background. Does not block. Queued
 * under qp_registry_lock, so that nothing is queued once detaching disabled
 * the registry and cancelled the work.
 */
void ibguard_pkey_revalidate(void)
{
	spin_lock(&qp_registry_lock);
	if (registry_enabled) {
		revalidations++;
		revalidate_pending = true;
		queue_work(system_unbound_wq, &registry_work);
	}
	spin_unlock(&qp_registry_lock);
}

/*
 * The P_Key at index of (device, port) in ib_core's cache; false when the
 * pair names no valid P_Key: no such port, an index past the table, or an
 * empty slot (0x0000, 0x8000). Revalidation cuts off a QP whose pair became
 * so; a modify that asks for one is refused, as upstream refuses it.
 */
static bool cached_pkey(struct ib_device *device, u32 port, u16 index,
			u16 *pkey)
{
	return rdma_is_port_valid(device, port) &&
	       !ib_get_cached_pkey(device, port, index, pkey) &&
	       (*pkey & 0x7fff);
}

/*
 * May the current task use the P_Key at index of (device, port)? 0 when it
 * may, -EACCES when the policy denies it, -EINVAL when the pair names no
 * valid P_Key. Does not sleep: the MAD send path calls it in atomic context.
 */
static int pkey_check(struct ib_device *device, u32 port, u16 index,
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

	if (!cached_pkey(device, port, index, &d.pkey))
		return -EINVAL;
	ib_get_cached_subnet_prefix(device, port, &d.subnet);

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p && (rdma_protocol_ib(device, port) ||
		  (p->options & IBGUARD_OPT_PKEY_ON_ROCE)))
		deny = ibguard_conclude(p, ibguard_pkey_first_match(p, d.pkey,
								    d.subnet,
								    NULL),
					&d);
	rcu_read_unlock();
	return deny ? -EACCES : 0;
}

/*
 * Only requests that set a port or P_Key index are decided. Management QPs
 * use every P_Key by design, and the drivers' own QPs (IB_QPT_RESERVED1 and
 * up: mlx5's UMR and hardware GSI QPs) are set up by the driver for the
 * whole device: upstream skips both.
 */
static bool qp_type_checked(const struct ib_qp *qp)
{
	return qp->qp_type != IB_QPT_SMI && qp->qp_type != IB_QPT_GSI &&
	       qp->qp_type < IB_QPT_RESERVED1;
}

static bool modify_is_checked(const struct ib_qp *qp, int mask)
{
	return qp_type_checked(qp) &&
	       (mask & (IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_ALT_PATH));
}

/* The request's pair decided, and passed on to the driver when allowed. */
static int modify_qp_decided(struct ib_qp *qp, struct ib_qp_attr *attr,
			     int mask, struct ib_udata *udata,
			     struct qp_entry *entry)
{
	struct qp_path main = {}, alt = {};
	struct ibguard_identity who;
	struct passing_request req;
	unsigned long seen = 0;
	int ret;

	/* The resulting pair: the request's fields over what it had. */
	if (entry)
		seen = registry_paths(entry, &main, &alt);
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
	ret = main.valid ? pkey_check(qp->device, main.port, main.pkey_index,
				      "modify_qp") : 0;
	if (!ret && (mask & IB_QP_ALT_PATH))
		ret = pkey_check(qp->device, alt.port, alt.pkey_index,
				 "modify_qp");
	if (ret)
		return ret;
	/* _ib_modify_qp(qp->real_qp, ...), and qp is a real QP here. */
	pass_begin(&req, attr);
	ret = ib_modify_qp_with_udata(qp, attr, mask, udata);
	pass_end(&req);
	if (ret || !entry)
		return ret;
	ibguard_identity_get(&who);
	/* A policy or P_Key table changed while deciding: decide again. */
	if (registry_record(entry, &main, &alt, &who, seen))
		ibguard_pkey_revalidate();
	return 0;
}

/* Entered instead of _ib_modify_qp() for requests modify_is_checked() picks. */
static int modify_qp_checked(struct ib_qp *qp, struct ib_qp_attr *attr,
			     int mask, struct ib_udata *udata)
{
	/* A kernel ULP may modify a QP under a spinlock of its own. */
	bool can_sleep = preemptible();
	struct qp_entry *entry;
	int ret;

	entry = registry_get_or_add(qp, &ret);
	if (ret)
		goto out;
	if (entry && can_sleep)
		mutex_lock(&entry->lock);
	ret = modify_qp_decided(qp, attr, mask, udata, entry);
	/*
	 * Only under entry->lock: a revalidation that found the entry in the
	 * registry relies on its QP's destroy finding it there too.
	 */
	if (entry && ret && can_sleep)
		registry_forget_unset(entry);
	if (entry && can_sleep)
		mutex_unlock(&entry->lock);
	if (entry)
		entry_put(entry);
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

	/* Other requests run the original directly: nothing to decide. */
	if (!modify_is_checked((const struct ib_qp *)regs->di, (int)regs->dx))
		return;
	/* modify_qp_checked() passing a decided request on. */
	if (passing_through((const struct ib_qp_attr *)regs->si))
		return;
	atomic_inc(&ibguard_ib_inflight);
	instruction_pointer_set(regs, (unsigned long)modify_qp_checked);
}

/*
 * Entered instead of ib_destroy_qp_user(): no revalidation may touch the QP
 * from the moment its destruction starts; if the driver refuses to destroy
 * it, it stays registered.
 */
static int destroy_qp_checked(struct ib_qp *qp, struct ib_udata *udata)
{
	struct qp_destroy d;
	struct qp_entry *entry = registry_take(qp, &d);
	int ret;

	if (entry) {
		mutex_lock(&entry->lock);
		entry->destroying = true;
		mutex_unlock(&entry->lock);
	}
	ret = ib_destroy_qp_user(qp, udata);
	if (entry && ret) {
		mutex_lock(&entry->lock);
		entry->destroying = false;
		mutex_unlock(&entry->lock);
	}
	registry_destroy_done(&d, ret ? entry : NULL);
	if (entry && !ret)
		entry_put(entry);
	atomic_dec(&ibguard_ib_inflight);
	return ret;
}

/* int ib_destroy_qp_user(struct ib_qp *qp, struct ib_udata *udata) */
static void notrace destroy_qp_handler(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	/* destroy_qp_checked() calling the original. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	atomic_inc(&ibguard_ib_inflight);
	instruction_pointer_set(regs, (unsigned long)destroy_qp_checked);
}

/* Moves qp to the error state and tells its owner, as upstream does. */
static int qp_to_error(struct ib_qp *qp)
{
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };
	struct ib_event event = {
		.device = qp->device,
		.element.qp = qp,
		.event = IB_EVENT_QP_FATAL,
	};
	int err = ib_modify_qp(qp, &attr, IB_QP_STATE);

	if (err)
		return err;
	/* User QPs: ib_uverbs queues it for ibv_get_async_event(). */
	if (qp->event_handler)
		qp->event_handler(&event, qp->qp_context);
	return 0;
}

/*
 * Would the active policy deny the path to who, as recorded in entry? Fills
 * d. Called with qp_registry_lock held.
 */
static bool path_revoked(const struct ibguard_policy *p,
			 const struct qp_entry *entry,
			 const struct qp_path *path,
			 struct ibguard_decision *d)
{
	struct ib_device *device = entry->qp->device;
	const struct ibguard_rule *rule = NULL;
	bool unresolvable;

	if (!path->valid || !rdma_is_port_valid(device, path->port))
		return false;
	if (!rdma_protocol_ib(device, path->port) &&
	    !(p->options & IBGUARD_OPT_PKEY_ON_ROCE))
		return false;
	d->port = path->port;
	unresolvable = !cached_pkey(device, path->port, path->pkey_index,
				    &d->pkey);
	if (!unresolvable) {
		ib_get_cached_subnet_prefix(device, path->port, &d->subnet);
		rule = ibguard_pkey_first_match(p, d->pkey, d->subnet,
						&entry->who);
	}
	return ibguard_revalidate(p, rule, unresolvable, d);
}

/* Under entry->lock: re-decides one QP and cuts it off if denied now. */
static void revalidate_entry(struct qp_entry *entry)
{
	const struct ibguard_policy *p;
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_PKEY,
		.operation = "revalidate",
		.device = dev_name(&entry->qp->device->dev),
		.qp_num = entry->qp_num,
		.who = &entry->who,
	};
	bool revoke = false;

	spin_lock(&qp_registry_lock);
	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p)
		revoke = path_revoked(p, entry, &entry->main, &d) ||
			 path_revoked(p, entry, &entry->alt, &d);
	rcu_read_unlock();
	spin_unlock(&qp_registry_lock);
	if (!revoke)
		return;
	if (qp_to_error(entry->qp)) {
		pr_warn_ratelimited("cannot move QP %u on %s to the error state after its P_Key was revoked\n",
				    entry->qp_num, d.device);
		return;
	}
	/* Reported only now, with who still stable under the registry lock. */
	spin_lock(&qp_registry_lock);
	ibguard_revoked(&d);
	spin_unlock(&qp_registry_lock);
	/* Its path is no longer usable: later port-only changes start over. */
	registry_forget(entry);
}

static void revalidate_all(void)
{
	struct qp_entry *entry, *next;
	LIST_HEAD(todo);
	int bkt;

	spin_lock(&qp_registry_lock);
	hash_for_each(qp_registry, bkt, entry, node) {
		kref_get(&entry->ref);
		list_add_tail(&entry->work, &todo);
	}
	spin_unlock(&qp_registry_lock);

	list_for_each_entry_safe(entry, next, &todo, work) {
		list_del_init(&entry->work);
		mutex_lock(&entry->lock);
		/*
		 * Detaching waits for this work: it may stop early. An entry
		 * that left the registry since the list was made may have a
		 * freed QP.
		 */
		if (!entry->destroying && READ_ONCE(registry_enabled) &&
		    registry_holds(entry))
			revalidate_entry(entry);
		mutex_unlock(&entry->lock);
		entry_put(entry);
		cond_resched();
	}
}

/*
 * Adopting the QPs that exist when the hooks attach. While the hooks were
 * detached nothing followed QPs; without this, tightening a policy that had
 * no pkey rule would never reach the QPs already set up.
 *
 * ib_core's resource tracking is the one list of the QPs that exist, and it
 * exports no iterator: the per-device roots are private
 * (drivers/infiniband/core/restrack.h). This is their layout, unchanged
 * since v5.2 and checked on each device before use.
 */
struct restrack_root_layout {
	struct xarray xa;
	u32 next_id;
};

static struct xarray *restrack_qps(struct ib_device *device)
{
	struct restrack_root_layout *roots = (void *)device->res;
	int i;

	/* ib_core sets XA_FLAGS_ALLOC on every root, and nothing clears it. */
	for (i = 0; roots && i < RDMA_RESTRACK_MAX; i++)
		if ((READ_ONCE(roots[i].xa.xa_flags) & XA_FLAGS_ALLOC) !=
		    XA_FLAGS_ALLOC)
			roots = NULL;
	if (!roots) {
		pr_warn_once("cannot list the QPs of %s: ib_core's resource tracking is not laid out as expected; QPs set up before the hooks attached are not followed\n",
			     dev_name(&device->dev));
		return NULL;
	}
	return &roots[RDMA_RESTRACK_QP].xa;
}

/*
 * An adopted QP is decided against the task that created it (ib_core
 * records it for user QPs), as upstream decides against the creator's
 * context; a kernel QP against the kernel, under its creator's name.
 */
static void creator_identity(struct ib_qp *qp, struct ibguard_identity *who)
{
	if (qp->res.task) {
		ibguard_identity_of(who, qp->res.task);
		return;
	}
	ibguard_identity_of(who, &init_task);
	if (qp->res.kern_name)
		strscpy(who->comm, qp->res.kern_name, sizeof(who->comm));
}

/*
 * Adds qp to the registry with what it has set, unless it is followed
 * already (a modify got there first) or its destruction has begun. The
 * caller holds a reference to qp's resource tracking entry.
 */
static void adopt_qp(struct ib_qp *qp)
{
	struct qp_path main = {}, alt = {};
	struct ib_qp_init_attr init;
	struct ibguard_identity who;
	struct ib_qp_attr attr;
	struct qp_entry *entry;
	bool added = false;

	if (qp->real_qp != qp || !qp_type_checked(qp))
		return;
	entry = entry_alloc(qp, GFP_KERNEL);
	if (!entry) {
		pr_warn_ratelimited("out of memory: QP %u on %s is not followed\n",
				    qp->qp_num, dev_name(&qp->device->dev));
		return;
	}
	/* Held until the entry says what the QP has: modifies, destroys wait. */
	mutex_lock(&entry->lock);
	spin_lock(&qp_registry_lock);
	if (registry_enabled && !registry_find(qp) && !destroy_begun(qp)) {
		hash_add(qp_registry, &entry->node, (unsigned long)qp);
		qp_registry_size++;
		kref_get(&entry->ref);
		added = true;
	}
	spin_unlock(&qp_registry_lock);
	if (!added)
		goto out;
	/* A QP in RESET has no path yet, one in ERR none to cut off. */
	if (ib_query_qp(qp, &attr, IB_QP_STATE | IB_QP_PORT | IB_QP_PKEY_INDEX |
			IB_QP_ALT_PATH, &init) ||
	    attr.qp_state == IB_QPS_RESET || attr.qp_state == IB_QPS_ERR) {
		registry_forget(entry);
		goto out;
	}
	main.valid = true;
	main.port = attr.port_num;
	main.pkey_index = attr.pkey_index;
	/* Ports count from 1: 0 is no alternate path. */
	if (attr.alt_port_num) {
		alt.valid = true;
		alt.port = attr.alt_port_num;
		alt.pkey_index = attr.alt_pkey_index;
	}
	creator_identity(qp, &who);
	registry_record(entry, &main, &alt, &who, 0);
out:
	mutex_unlock(&entry->lock);
	entry_put(entry);
}

/* Adds every QP of device that is not followed yet to the registry. */
void ibguard_pkey_adopt_device(struct ib_device *device)
{
	struct rdma_restrack_entry *res;
	struct xarray *qps = restrack_qps(device);
	unsigned long id;

	if (!qps)
		return;
	xa_lock(qps);
	xa_for_each(qps, id, res) {
		/* A QP whose destruction began is drained to no references. */
		if (!rdma_restrack_get(res))
			continue;
		xa_unlock(qps);
		adopt_qp(container_of(res, struct ib_qp, res));
		rdma_restrack_put(res);
		cond_resched();
		xa_lock(qps);
	}
	xa_unlock(qps);
}

static void adopt_existing(void)
{
	/*
	 * A destroy that began before its hook was attached went unseen.
	 * ib_destroy_qp_user() drains the QP's tracking entry before anything
	 * in it can sleep, so once every task has been through a voluntary
	 * context switch, each such QP is out of reach of adopt_device().
	 */
	synchronize_rcu_tasks();
	ibguard_ib_adopt_qps();
}

static void registry_work_fn(struct work_struct *work)
{
	bool adopt, revalidate;

	spin_lock(&qp_registry_lock);
	adopt = adopt_pending;
	revalidate = revalidate_pending;
	adopt_pending = false;
	revalidate_pending = false;
	spin_unlock(&qp_registry_lock);
	/* The revalidation of the load that attached the hooks sees them. */
	if (adopt)
		adopt_existing();
	if (revalidate)
		revalidate_all();
}

/*
 * struct ib_mad_send_buf *ib_create_send_mad(struct ib_mad_agent *agent,
 *	u32 remote_qpn, u16 pkey_index, int rmpp_active, ...)
 *
 * A GSI MAD from a user-space (umad) agent carries a P_Key index, which
 * upstream checks for every MAD sent; an SMI MAD from one is re-decided for
 * the endport class, so that a policy that denies subnet management cuts off
 * agents registered before it. The index is private to ib_mad once
 * the send buffer exists, so it is decided where ib_umad creates the buffer
 * for each write(2), in the writer's context, before anything is sent.
 * ib_mad also sends on such an agent's behalf from its own workqueue (RMPP
 * ACKs and responses to what the agent received): those are not the
 * worker's requests and are not decided.
 */
static void notrace post_send_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ib_mad_agent *agent = (struct ib_mad_agent *)regs->di;
	bool allowed;

	if ((current->flags & PF_KTHREAD) || !ibguard_from_user_agent(agent))
		return;
	switch (agent->qp->qp_type) {
	case IB_QPT_SMI:
		/* The registration was allowed; the policy may have changed. */
		allowed = ibguard_endport_send_allowed(agent);
		break;
	case IB_QPT_GSI:
		allowed = !pkey_check(agent->device, agent->port_num,
				      (u16)regs->dx, "send_mad");
		break;
	default:
		return;
	}
	/* ERR_PTR(-EACCES) and -EACCES are the same register value. */
	if (!allowed)
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
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

static const char *const modify_qp_fn_name[] = { "_ib_modify_qp" };
static const char *const destroy_qp_fn_name[] = { "ib_destroy_qp_user" };
static const char *const post_send_fn_name[] = { "ib_create_send_mad" };

static void registry_enable(bool enable)
{
	spin_lock(&qp_registry_lock);
	WRITE_ONCE(registry_enabled, enable);
	spin_unlock(&qp_registry_lock);
}

int ibguard_pkey_attach(void)
{
	int err;

	registry_enable(true);
	err = ibguard_attach(&destroy_qp_ops, destroy_qp_fn_name, 1);
	if (err)
		goto out_registry;
	err = ibguard_attach(&modify_qp_ops, modify_qp_fn_name, 1);
	if (err)
		goto out_destroy;
	err = ibguard_attach(&post_send_ops, post_send_fn_name, 1);
	if (err)
		goto out_modify;
	/* Destruction is followed from now on: what exists can be adopted. */
	spin_lock(&qp_registry_lock);
	adopt_pending = true;
	queue_work(system_unbound_wq, &registry_work);
	spin_unlock(&qp_registry_lock);
	return 0;

out_modify:
	ibguard_detach(&modify_qp_ops);
out_destroy:
	ibguard_detach(&destroy_qp_ops);
out_registry:
	registry_enable(false);
	registry_forget_all();
	return err;
}

/*
 * Once the destroy path is no longer followed, an entry could outlive its
 * QP: the registry empties, and the next attach adopts what exists then.
 * Returns how many QPs were followed.
 */
unsigned int ibguard_pkey_detach(void)
{
	registry_enable(false);
	/* Revalidation relies on the destroy path being followed. */
	cancel_work_sync(&registry_work);
	ibguard_detach(&post_send_ops);
	ibguard_detach(&modify_qp_ops);
	ibguard_detach(&destroy_qp_ops);
	return registry_forget_all();
}

/* Does ib_core have the pkey class's attach points? */
int ibguard_pkey_probe(const char **missing)
{
	return ibguard_attach_probe(modify_qp_fn_name, 1, missing) ?:
	       ibguard_attach_probe(destroy_qp_fn_name, 1, missing) ?:
	       ibguard_attach_probe(post_send_fn_name, 1, missing);
}

void ibguard_pkey_exit(void)
{
	ftrace_free_filter(&post_send_ops);
	ftrace_free_filter(&modify_qp_ops);
	ftrace_free_filter(&destroy_qp_ops);
	registry_forget_all();
}
