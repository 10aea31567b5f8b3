// SPDX-License-Identifier: GPL-2.0
/*
 * The endport class: which tasks may act as subnet manager, that is register
 * an SMI (QP0) MAD agent through /dev/infiniband/umadN, on which device and
 * port. Decided at ib_register_mad_agent(), where the QP type is an
 * argument, and again for every subnet-management MAD such an agent sends
 * (hook_pkey.c, where the send buffer is created): an agent registered under
 * one policy can no longer send once a later one denies it. Agents that
 * ib_core registers for itself (its SMA, SA, CM) are never denied: only
 * agents whose send handler lies in ib_umad, the module that registers on
 * behalf of user space, are checked.
 *
 * Receiving has no task to decide for: ib_mad delivers from its workqueue.
 * As upstream keeps a per-agent flag, each allowed agent is recorded with
 * who registered it (a user-space SMI registration is redirected to
 * register_agent_recorded(), which decides, calls the original and records
 * an allowed agent; one registered while the hooks were detached is
 * recorded at its first send since, against the writer), every policy
 * change re-decides the flag against that task, and while it says revoked,
 * a handler on ib_umad's receive handler frees what arrives for the agent
 * instead of queueing it for user space.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <rdma/ib_mad.h>
#include "ib.h"

/* ib_umad's send handler, once seen: one address serves all its agents. */
static unsigned long umad_send_handler;

/*
 * __module_address() is not exported; sprint_symbol() names the module that
 * owns an address, and does not sleep.
 */
static bool owned_by_ib_umad(unsigned long addr)
{
	char sym[KSYM_SYMBOL_LEN];
	size_t len = sprint_symbol(sym, addr);

	return len >= 10 && !strcmp(sym + len - 10, " [ib_umad]");
}

/*
 * ib_umad gives all its agents one send handler: once that is known (until
 * ib_umad goes), it alone decides, and the kernel's own agents, which send
 * most MADs, never pay for a symbol lookup.
 */
static bool in_ib_umad(unsigned long addr)
{
	unsigned long known = READ_ONCE(umad_send_handler);

	if (known)
		return addr == known;
	if (!owned_by_ib_umad(addr))
		return false;
	WRITE_ONCE(umad_send_handler, addr);
	return true;
}

/* Was agent registered by ib_umad on behalf of user space? */
bool ibguard_from_user_agent(const struct ib_mad_agent *agent)
{
	return in_ib_umad((unsigned long)agent->send_handler);
}

/*
 * May the current task act as subnet manager on (device, port)? Does not
 * sleep: MADs are created in atomic context too.
 */
static bool endport_allowed(struct ib_device *device, u32 port,
			    const char *operation)
{
	const struct ibguard_policy *p;
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_ENDPORT,
		.operation = operation,
		.device = dev_name(&device->dev),
		.port = port,
	};
	bool deny = false;

	rcu_read_lock();
	p = rcu_dereference(ibguard_active_policy);
	if (p)
		deny = ibguard_conclude(p, ibguard_endport_first_match(p, d.device,
								       d.port,
								       NULL),
					&d);
	rcu_read_unlock();
	return !deny;
}

/*
 * The user-space SMI agents ibguard allowed, keyed by the agent. Entries
 * are added by register_agent_recorded() and leave when ib_umad unregisters
 * the agent, which it does only after it stopped queueing for it; the
 * receive handler looks them up under RCU.
 */
struct agent_entry {
	struct hlist_node node;
	struct rcu_head rcu;
	const struct ib_mad_agent *agent;
	bool revoked;			/* receive drops while set */
	/* under agents_lock */
	struct ibguard_identity who;
};

static DEFINE_HASHTABLE(agents, 6);
static DEFINE_SPINLOCK(agents_lock);
static unsigned int agents_followed;	/* under agents_lock */
/* Only while the hooks are attached do entries follow agents. */
static bool agents_enabled;
/*
 * Bumped under agents_lock each time a revalidation is queued: a
 * registration decided before a bump and recorded after it is decided
 * again as it is recorded.
 */
static unsigned long agents_revalidations;

static struct agent_entry *agent_find(const struct ib_mad_agent *agent)
{
	struct agent_entry *entry;

	hash_for_each_possible_rcu(agents, entry, node, (unsigned long)agent)
		if (entry->agent == agent)
			return entry;
	return NULL;
}

static void agent_drop(struct agent_entry *entry)
{
	lockdep_assert_held(&agents_lock);
	hash_del_rcu(&entry->node);
	agents_followed--;
	ibguard_identity_put(&entry->who);
	kfree_rcu(entry, rcu);
}

/* void ib_unregister_mad_agent(struct ib_mad_agent *mad_agent) */
static void notrace unregister_agent_handler(unsigned long ip,
					     unsigned long parent_ip,
					     struct ftrace_ops *ops,
					     struct ftrace_regs *fregs)
{
	const struct ib_mad_agent *agent =
		(const struct ib_mad_agent *)ftrace_get_regs(fregs)->di;
	struct agent_entry *entry;

	spin_lock(&agents_lock);
	entry = agent_find(agent);
	if (entry)
		agent_drop(entry);
	spin_unlock(&agents_lock);
}

/* Returns how many agents were followed. */
static unsigned int agents_enable(bool enable)
{
	struct agent_entry *entry;
	struct hlist_node *tmp;
	unsigned int followed;
	int bkt;

	spin_lock(&agents_lock);
	agents_enabled = enable;
	followed = agents_followed;
	/* Unfollowed, an entry could outlive its agent. */
	if (!enable)
		hash_for_each_safe(agents, bkt, tmp, entry, node)
			agent_drop(entry);
	WARN_ON_ONCE(!enable && agents_followed);
	spin_unlock(&agents_lock);
	return followed;
}

/* How many agents registered from user space are followed. */
unsigned int ibguard_endport_followed(void)
{
	unsigned int followed;

	spin_lock(&agents_lock);
	followed = agents_followed;
	spin_unlock(&agents_lock);
	return followed;
}

/*
 * Re-decides entry against who registered it; a newly denied agent is
 * reported. Called with agents_lock and rcu_read_lock() held.
 */
static void agent_redecide(const struct ibguard_policy *p,
			   struct agent_entry *entry)
{
	const struct ib_mad_agent *agent = entry->agent;
	struct ibguard_decision d = {
		.cls = IBGUARD_CLASS_ENDPORT,
		.operation = "revalidate",
		.device = dev_name(&agent->device->dev),
		.port = agent->port_num,
		.qp_num = agent->qp->qp_num,
		.who = &entry->who,
	};
	bool revoke = p &&
		ibguard_revalidate(p, ibguard_endport_first_match(p, d.device,
								  d.port,
								  &entry->who),
				   false, &d);

	lockdep_assert_held(&agents_lock);
	if (revoke && !entry->revoked)
		ibguard_revoked(&d);
	WRITE_ONCE(entry->revoked, revoke);
}

static void revalidate_agents_fn(struct work_struct *work)
{
	struct agent_entry *entry;
	int bkt;

	spin_lock(&agents_lock);
	rcu_read_lock();
	hash_for_each(agents, bkt, entry, node)
		agent_redecide(rcu_dereference(ibguard_active_policy), entry);
	rcu_read_unlock();
	spin_unlock(&agents_lock);
}

static DECLARE_WORK(revalidate_agents_work, revalidate_agents_fn);

static unsigned long agents_revalidations_seen(void)
{
	unsigned long seen;

	spin_lock(&agents_lock);
	seen = agents_revalidations;
	spin_unlock(&agents_lock);
	return seen;
}

/*
 * Follows agent from now on with entry, which holds the verdict its
 * registration or send got, decided after agents_revalidations_seen()
 * returned seen. If a revalidation was queued since, it may have run before
 * the agent was here to be seen: the agent is decided again as it is
 * recorded. Frees entry instead, and returns false, if the hooks are
 * detached or the agent is followed already.
 */
static bool agent_record(struct agent_entry *entry,
			 const struct ib_mad_agent *agent, unsigned long seen)
{
	bool recorded = false;

	entry->agent = agent;
	ibguard_identity_get(&entry->who);
	spin_lock(&agents_lock);
	if (agents_enabled && !agent_find(agent)) {
		hash_add_rcu(agents, &entry->node, (unsigned long)agent);
		agents_followed++;
		if (agents_revalidations != seen) {
			rcu_read_lock();
			agent_redecide(rcu_dereference(ibguard_active_policy),
				       entry);
			rcu_read_unlock();
		}
		recorded = true;
	}
	spin_unlock(&agents_lock);
	if (!recorded) {
		ibguard_identity_put(&entry->who);
		kfree(entry);
	}
	return recorded;
}

/*
 * Re-decide every recorded agent against who registered it, in the
 * background. An agent the policy denies again stops receiving; one it
 * allows again receives again (its sends are decided each time anyway).
 */
void ibguard_endport_revalidate(void)
{
	spin_lock(&agents_lock);
	if (agents_enabled) {
		agents_revalidations++;
		queue_work(system_unbound_wq, &revalidate_agents_work);
	}
	spin_unlock(&agents_lock);
}

/*
 * Entered instead of ib_umad's receive handler for a revoked agent: the MAD
 * is freed, as ib_mad does for one that upstream's check refuses, and user
 * space never sees it.
 */
static void drop_received_mad(struct ib_mad_agent *agent,
			      struct ib_mad_send_buf *send_buf,
			      struct ib_mad_recv_wc *mad_recv_wc)
{
	ib_free_recv_mad(mad_recv_wc);
	atomic_dec(&ibguard_ib_inflight);
}

/* ib_umad's static void recv_handler(agent, send_buf, mad_recv_wc) */
static void notrace receive_handler(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct agent_entry *entry;
	bool drop;

	rcu_read_lock();
	entry = agent_find((const struct ib_mad_agent *)regs->di);
	drop = entry && READ_ONCE(entry->revoked) &&
	       ibguard_mode() == IBGUARD_MODE_ENFORCING;
	rcu_read_unlock();
	if (!drop)
		return;
	atomic_inc(&ibguard_ib_inflight);
	instruction_pointer_set(regs, (unsigned long)drop_received_mad);
}

static struct ftrace_ops receive_ops = {
	.func = receive_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

/*
 * ib_umad's receive handler is static: its address is learnt from the
 * first registration and the handler attached there. receive_lock orders
 * that against detaching and against ib_umad going away.
 */
static DEFINE_MUTEX(receive_lock);
static unsigned long receive_ip;	/* attached there; 0: not attached */
static bool receive_enabled;

static void receive_detach(void)
{
	lockdep_assert_held(&receive_lock);
	if (!receive_ip)
		return;
	/* The filter stays until the next attach resets it: unused till then. */
	ibguard_detach(&receive_ops);
	receive_ip = 0;
}

/*
 * Makes sure revoked agents with this receive handler stop receiving.
 * Returns 1 when the agent is to be recorded, 0 when the hooks are going
 * away (it is then not), or an error: the registration must fail.
 */
static int receive_follow(ib_mad_recv_handler recv_handler)
{
	unsigned long addr = (unsigned long)recv_handler;
	int err = 0;

	mutex_lock(&receive_lock);
	/* A send-only agent: nothing to follow. */
	if (!receive_enabled || !addr || addr == receive_ip)
		goto out;
	if (!owned_by_ib_umad(addr)) {
		err = -EINVAL;
		goto out;
	}
	/* ib_umad was reloaded elsewhere: its old agents are gone. */
	receive_detach();
	err = ftrace_set_filter_ip(&receive_ops, addr, 0, 1);
	if (!err)
		err = register_ftrace_function(&receive_ops);
	if (err) {
		pr_err_ratelimited("cannot attach to ib_umad's receive handler: %d; subnet-management agents cannot be registered\n",
				   err);
		goto out;
	}
	receive_ip = addr;
out:
	if (!err)
		err = receive_enabled;
	mutex_unlock(&receive_lock);
	return err;
}

static void receive_enable(bool enable)
{
	mutex_lock(&receive_lock);
	receive_enabled = enable;
	if (!enable)
		receive_detach();
	mutex_unlock(&receive_lock);
}

/* The receive handler of an adopted agent, for follow_receive_fn(). */
static unsigned long adopted_recv_handler;

static void follow_receive_fn(struct work_struct *work)
{
	unsigned long addr = xchg(&adopted_recv_handler, 0);

	if (addr)
		receive_follow((ib_mad_recv_handler)addr);
}

static DECLARE_WORK(follow_receive_work, follow_receive_fn);

/*
 * An agent registered while the hooks were detached was never recorded,
 * and who registered it is not known. Its first subnet-management MAD sent
 * since they attached records it against the writer, with the verdict that
 * send got: from then on what it receives follows the policy too, as for an
 * agent recorded at registration. Does not sleep; the receive handler, if
 * not attached there yet, is attached from a work item.
 */
static void adopt_sender(const struct ib_mad_agent *agent, bool allowed,
			 unsigned long seen)
{
	struct agent_entry *entry;

	/* Not followed if this fails: its sends are decided all the same. */
	entry = kzalloc(sizeof(*entry), GFP_ATOMIC | __GFP_ACCOUNT);
	if (!entry)
		return;
	entry->revoked = !allowed;
	if (!agent_record(entry, agent, seen))
		return;
	if ((unsigned long)agent->recv_handler != READ_ONCE(receive_ip)) {
		WRITE_ONCE(adopted_recv_handler,
			   (unsigned long)agent->recv_handler);
		queue_work(system_unbound_wq, &follow_receive_work);
	}
}

/*
 * May the current task send a subnet-management MAD through agent, which
 * ib_umad registered for user space? Decided again at each send, since the
 * policy may have changed since the registration. Does not sleep.
 */
bool ibguard_endport_send_allowed(const struct ib_mad_agent *agent)
{
	unsigned long seen;
	bool followed;
	bool allowed;

	rcu_read_lock();
	followed = agent_find(agent);
	rcu_read_unlock();
	if (followed || !READ_ONCE(agents_enabled))
		return endport_allowed(agent->device, agent->port_num,
				       "send_smp");
	seen = agents_revalidations_seen();
	allowed = endport_allowed(agent->device, agent->port_num, "send_smp");
	adopt_sender(agent, allowed, seen);
	return allowed;
}

/*
 * Entered instead of ib_register_mad_agent() for a user-space SMI agent:
 * decides, in the registering task's context, then registers and records
 * an allowed one.
 */
static struct ib_mad_agent *
register_agent_recorded(struct ib_device *device, u32 port_num,
			enum ib_qp_type qp_type,
			struct ib_mad_reg_req *mad_reg_req, u8 rmpp_version,
			ib_mad_send_handler send_handler,
			ib_mad_recv_handler recv_handler, void *context,
			u32 registration_flags)
{
	unsigned long seen = agents_revalidations_seen();
	struct agent_entry *entry;
	struct ib_mad_agent *agent;
	int followed;

	if (!endport_allowed(device, port_num, "register_smi_agent")) {
		agent = ERR_PTR(-EACCES);
		goto out_inflight;
	}
	entry = kzalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (!entry) {
		agent = ERR_PTR(-ENOMEM);
		goto out;
	}
	followed = receive_follow(recv_handler);
	if (followed < 0) {
		agent = ERR_PTR(followed);
		goto out;
	}
	/* Passes register_agent_handler(): called from this module. */
	agent = ib_register_mad_agent(device, port_num, qp_type, mad_reg_req,
				      rmpp_version, send_handler, recv_handler,
				      context, registration_flags);
	if (!IS_ERR(agent) && followed) {
		agent_record(entry, agent, seen);
		entry = NULL;
	}
out:
	kfree(entry);
out_inflight:
	atomic_dec(&ibguard_ib_inflight);
	return agent;
}

/*
 * struct ib_mad_agent *ib_register_mad_agent(struct ib_device *device,
 *	u32 port_num, enum ib_qp_type qp_type, struct ib_mad_reg_req *req,
 *	u8 rmpp_version, ib_mad_send_handler send_handler, ...)
 */
static void notrace register_agent_handler(unsigned long ip,
					   unsigned long parent_ip,
					   struct ftrace_ops *ops,
					   struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	/* qp_type is an int: the register's upper half is not its value. */
	if ((int)regs->dx != IB_QPT_SMI || !in_ib_umad(regs->r9))
		return;
	/* register_agent_recorded() calling the original. */
	if (within_module(parent_ip, THIS_MODULE))
		return;
	atomic_inc(&ibguard_ib_inflight);
	instruction_pointer_set(regs, (unsigned long)register_agent_recorded);
}

static struct ftrace_ops register_agent_ops = {
	.func = register_agent_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

static struct ftrace_ops unregister_agent_ops = {
	.func = unregister_agent_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		 FTRACE_OPS_FL_PERMANENT,
};

static const char *const register_agent_fn[] = { "ib_register_mad_agent" };
static const char *const unregister_agent_fn[] = { "ib_unregister_mad_agent" };

/* Followed first, so that no recorded agent leaves unseen. */
int ibguard_endport_attach(void)
{
	int err;

	agents_enable(true);
	receive_enable(true);
	err = ibguard_attach(&unregister_agent_ops, unregister_agent_fn, 1);
	if (err)
		goto out_disable;
	err = ibguard_attach(&register_agent_ops, register_agent_fn, 1);
	if (err)
		goto out_unregister;
	return 0;

out_unregister:
	ibguard_detach(&unregister_agent_ops);
out_disable:
	receive_enable(false);
	agents_enable(false);
	return err;
}

/* Returns how many agents were followed. */
unsigned int ibguard_endport_detach(void)
{
	unsigned int followed;

	ibguard_detach(&register_agent_ops);
	receive_enable(false);
	followed = agents_enable(false);
	cancel_work_sync(&revalidate_agents_work);
	cancel_work_sync(&follow_receive_work);
	ibguard_detach(&unregister_agent_ops);
	return followed;
}

/* Does ib_core have the endport class's attach points? */
int ibguard_endport_probe(const char **missing)
{
	return ibguard_attach_probe(register_agent_fn, 1, missing) ?:
	       ibguard_attach_probe(unregister_agent_fn, 1, missing);
}

/* ib_umad is going: its receive handler's address will mean nothing. */
void ibguard_endport_umad_going(void)
{
	mutex_lock(&receive_lock);
	receive_detach();
	mutex_unlock(&receive_lock);
	WRITE_ONCE(umad_send_handler, 0);
}

void ibguard_endport_exit(void)
{
	ftrace_free_filter(&register_agent_ops);
	ftrace_free_filter(&unregister_agent_ops);
	ftrace_free_filter(&receive_ops);
}
